package observe

import (
	"math"
	"sort"
	"time"
)

// Histogram is a decaying histogram of durations on log-spaced buckets (each 5% wider than the last, from 0.1 s),
// so percentiles are accurate to a few percent whatever the scale. Old samples fade with a half-life, so a start
// time that drifts over days is followed. The zero value is empty and ready to use; it is JSON-serialisable for
// checkpoints.
type Histogram struct {
	// Buckets maps a bucket index to its decayed weight.
	Buckets map[int]float64 `json:"b,omitempty"`
	// Count is how many samples were ever added (not decayed).
	Count int `json:"n,omitempty"`
	// DecayedAt is the time the weights were last decayed to.
	DecayedAt time.Time `json:"t,omitempty"`
	// Max is the largest sample ever seen, in seconds; it caps interpolation inside the top bucket.
	Max float64 `json:"max,omitempty"`
}

const (
	bucketGrowth = 1.05
	bucketBase   = 0.1 // seconds: the upper bound of bucket 0
	maxBucket    = 250 // 0.1 s x 1.05^250 is about 20 000 s
	minWeight    = 1e-3
)

var logGrowth = math.Log(bucketGrowth)

func bucketOf(seconds float64) int {
	if seconds <= bucketBase {
		return 0
	}
	b := int(math.Ceil(math.Log(seconds/bucketBase) / logGrowth))
	return min(b, maxBucket)
}

// bucketUpper is the upper bound of bucket b in seconds.
func bucketUpper(b int) float64 { return bucketBase * math.Pow(bucketGrowth, float64(b)) }

// decay fades every weight by the time passed since the last decay.
func (h *Histogram) decay(now time.Time, halfLife time.Duration) {
	factor, ok := decayTo(&h.DecayedAt, now, halfLife)
	if !ok {
		return
	}
	for b, w := range h.Buckets {
		if w*factor < minWeight {
			delete(h.Buckets, b)
			continue
		}
		h.Buckets[b] = w * factor
	}
}

// Add records one sample at time now.
func (h *Histogram) Add(d time.Duration, now time.Time, halfLife time.Duration) {
	h.decay(now, halfLife)
	if h.Buckets == nil {
		h.Buckets = map[int]float64{}
	}
	s := d.Seconds()
	h.Buckets[bucketOf(s)]++
	h.Count++
	h.Max = max(h.Max, s)
}

// Weight is the decayed total weight: the effective number of recent samples.
func (h *Histogram) Weight() float64 {
	var total float64
	for _, b := range h.keys() {
		total += h.Buckets[b]
	}
	return total
}

// keys returns the buckets in order. Weights are summed in this order, never in the map's: float addition is
// not associative, and a total that changed in its last bit from one call to the next made Quantile(1) fall past
// the last bucket at random (the same look gave a longest killed start of 41 s or 42 s).
func (h *Histogram) keys() []int {
	keys := make([]int, 0, len(h.Buckets))
	for b := range h.Buckets {
		keys = append(keys, b)
	}
	sort.Ints(keys)
	return keys
}

// Quantile returns the q-quantile (0..1) of the samples, interpolating geometrically inside a bucket; zero when
// the histogram is empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if len(h.Buckets) == 0 {
		return 0
	}
	keys := h.keys()
	total := h.Weight()
	if !(total > 0) {
		// Only buckets whose weight decayed to nothing (or a restored checkpoint's zeros): no quantile to tell.
		return 0
	}
	target := q * total
	var cum float64
	for _, b := range keys {
		w := h.Buckets[b]
		if !(w > 0) {
			continue
		}
		if cum+w >= target {
			lower := 0.0
			if b > 0 {
				lower = bucketUpper(b - 1)
			}
			upper := bucketUpper(b)
			frac := (target - cum) / w
			var s float64
			if lower == 0 {
				s = upper * frac
			} else {
				s = lower * math.Pow(upper/lower, frac)
			}
			if h.Max > 0 && s > h.Max && b == keys[len(keys)-1] {
				s = h.Max
			}
			return time.Duration(s * float64(time.Second))
		}
		cum += w
	}
	return time.Duration(bucketUpper(keys[len(keys)-1]) * float64(time.Second))
}

// WeightAbove is the decayed weight of the samples of at least the given seconds (to the bucket's precision).
func (h *Histogram) WeightAbove(seconds float64) float64 {
	from := bucketOf(seconds)
	var total float64
	for _, b := range h.keys() {
		if b >= from {
			total += h.Buckets[b]
		}
	}
	return total
}

// UpperEstimate estimates how long the longest start of the sampled distribution can be, for deciding whether a
// budget is too loose: a few samples rarely include the slowest start. From n samples over [lo, max] it is max
// plus the gap (max-lo)/(n-1) that n samples leave on average below a distribution's upper end (the estimate of
// a uniform distribution's end), with lo the lower bound of the lowest bucket and n the decayed weight, so the
// estimate widens as old samples fade. With one effective sample or less the spread is unknown, and the
// estimate is the largest sample seen. Zero when the histogram is empty.
func (h *Histogram) UpperEstimate() float64 {
	keys := h.keys()
	n := h.Weight()
	if len(keys) == 0 || !(n > 0) {
		return 0
	}
	top := max(h.Max, bucketUpper(keys[len(keys)-1])/bucketGrowth)
	if n <= 1 {
		return top
	}
	lo := 0.0
	if keys[0] > 0 {
		lo = bucketUpper(keys[0] - 1)
	}
	return top + max(0, top-lo)/(n-1)
}
