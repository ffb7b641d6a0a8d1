package bench

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/probetuner/probe-tuner/test/harness/sim"
)

// genDist is a duration distribution the generator writes into a behaviour annotation, with the closed-form
// tail the generator labels scenarios by (how often an answer misses a timeout, how many starts a window
// kills). It covers the shapes of sim.Distribution the generator uses.
type genDist struct {
	shape distShape
	// a and b are the fixed value (a), the uniform bounds [a, b], or the log-normal median (a) and p99 (b).
	a, b time.Duration
	// parts and weights make a mixture.
	parts   []genDist
	weights []float64
}

type distShape uint8

const (
	shapeFixed distShape = iota
	shapeUniform
	shapeLogNormal
	shapeMix
)

func fixedDist(v time.Duration) genDist { return genDist{shape: shapeFixed, a: roundDur(v)} }

func uniformDist(lo, hi time.Duration) genDist {
	lo, hi = roundDur(lo), roundDur(hi)
	if hi <= lo {
		return fixedDist(lo)
	}
	return genDist{shape: shapeUniform, a: lo, b: hi}
}

func logNormalDist(median, p99 time.Duration) genDist {
	median, p99 = roundDur(median), roundDur(p99)
	return genDist{shape: shapeLogNormal, a: median, b: max(p99, median)}
}

func mixDist(weights []float64, parts ...genDist) genDist {
	return genDist{shape: shapeMix, parts: parts, weights: weights}
}

// String is the annotation value.
func (g genDist) String() string {
	switch g.shape {
	case shapeUniform:
		return fmtDur(g.a) + "-" + fmtDur(g.b)
	case shapeLogNormal:
		return fmt.Sprintf("lognormal(%s,%s)", fmtDur(g.a), fmtDur(g.b))
	case shapeMix:
		parts := make([]string, len(g.parts))
		for i, p := range g.parts {
			parts[i] = fmt.Sprintf("%g:%s", g.weights[i], p)
		}
		return "mix(" + strings.Join(parts, ",") + ")"
	}
	return fmtDur(g.a)
}

// tail is P(X >= t).
func (g genDist) tail(t time.Duration) float64 {
	switch g.shape {
	case shapeFixed:
		if g.a >= t {
			return 1
		}
		return 0
	case shapeUniform:
		switch {
		case t <= g.a:
			return 1
		case t >= g.b:
			return 0
		}
		return float64(g.b-t) / float64(g.b-g.a)
	case shapeLogNormal:
		if t <= 0 {
			return 1
		}
		mu := math.Log(g.a.Seconds())
		sigma := (math.Log(g.b.Seconds()) - mu) / 2.3263478740408408
		if sigma == 0 {
			return fixedDist(g.a).tail(t)
		}
		return 0.5 * math.Erfc((math.Log(t.Seconds())-mu)/(sigma*math.Sqrt2))
	case shapeMix:
		p := 0.0
		for i, part := range g.parts {
			p += g.weights[i] * part.tail(t)
		}
		return p
	}
	return 0
}

// quantile is the smallest t with P(X < t) >= q, found by bisection on the tail (to a millisecond).
func (g genDist) quantile(q float64) time.Duration {
	lo, hi := time.Duration(0), time.Hour
	for hi-lo > time.Millisecond {
		mid := (lo + hi) / 2
		if 1-g.tail(mid) >= q {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// upper is the longest value the distribution is meant to yield, as the simulator's parser reads it (the p99
// of a log-normal distribution): the same number the benchmark's checks use.
func (g genDist) upper() time.Duration {
	d, err := sim.ParseDistribution(g.String())
	if err != nil {
		panic(fmt.Sprintf("generator wrote an invalid distribution %q: %v", g, err))
	}
	u, _ := d.Upper()
	return u
}

// missRate is the chance that one probe with this answer-time distribution fails: the answer comes at or after
// the timeout, or it is an error answer (failureRate) in time.
func missRate(latency genDist, timeoutSeconds int32, failureRate float64) float64 {
	late := latency.tail(time.Duration(timeoutSeconds) * time.Second)
	return late + (1-late)*failureRate
}

// expectedRuns is the expected number of runs of at least k consecutive failures among n probes that each fail
// independently with probability p: a run starts at a failure that follows a success.
func expectedRuns(n, p float64, k int32) float64 {
	if k < 1 {
		k = 1
	}
	return n * (1 - p) * math.Pow(p, float64(k))
}

// probesIn is how many probes of the given period one replica runs in d.
func probesIn(d time.Duration, periodSeconds int32) float64 {
	return d.Seconds() / float64(max(1, periodSeconds))
}

// roundDur keeps a generated duration readable: whole seconds from 10 s, tenths of seconds from 1 s,
// milliseconds below.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return max(d.Round(time.Millisecond), time.Millisecond)
}

// fmtDur writes a duration as a scenario file would: "4h", "1h30m", "90ms", "2m30s".
func fmtDur(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// secs converts seconds to a duration.
func secs(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }
