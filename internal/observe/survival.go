package observe

import (
	"sort"
	"time"
)

// StartQuantile estimates the q-quantile (0..1) of startup durations from completed starts and from starts killed
// before they completed (censored: they only say the start takes longer than they ran), with the Kaplan-Meier
// product-limit estimator over the histograms' buckets. A killed start stays "at risk" up to the time it ran and
// then leaves the estimate, so starts killed under an old, shorter budget stop counting once completed starts
// show where the distribution really lies.
//
// known is false when the quantile lies beyond every completed start: too many starts were killed for the
// completed ones to reach it, and all that is known is that it is above the killed starts.
func StartQuantile(completed, censored *Histogram, q float64) (d time.Duration, known bool) {
	type point struct {
		bucket          int
		events, removed float64
	}
	points := map[int]*point{}
	add := func(h *Histogram, events bool) {
		if h == nil {
			return
		}
		for b, w := range h.Buckets {
			p := points[b]
			if p == nil {
				p = &point{bucket: b}
				points[b] = p
			}
			if events {
				p.events += w
			} else {
				p.removed += w
			}
		}
	}
	add(completed, true)
	add(censored, false)
	ordered := make([]*point, 0, len(points))
	atRisk := 0.0
	for _, p := range points {
		ordered = append(ordered, p)
		atRisk += p.events + p.removed
	}
	sort.Slice(ordered, func(i, j int) bool { return ordered[i].bucket < ordered[j].bucket })
	survival := 1.0
	for _, p := range ordered {
		if p.events > 0 && atRisk > 0 {
			// Within a bucket, completions are counted before the starts killed there: a start killed at 30 s
			// was still at risk of completing at 30 s.
			survival *= 1 - p.events/atRisk
			if survival <= 1-q+1e-12 {
				upper := bucketUpper(p.bucket)
				if completed != nil && completed.Max > 0 && upper > completed.Max && p.bucket == bucketOf(completed.Max) {
					upper = completed.Max
				}
				return time.Duration(upper * float64(time.Second)), true
			}
		}
		atRisk -= p.events + p.removed
	}
	return 0, false
}
