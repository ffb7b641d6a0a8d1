package recommend

import (
	"math"
	"time"
)

// stepUp returns the largest value not above want that is at most one step above v: a step is maxStepPercent
// of v, and never less than 1.
func stepUp(v, want, maxStepPercent int32) int32 {
	if want <= v {
		return v
	}
	step := max(1, int32(math.Floor(float64(v)*float64(maxStepPercent)/100)))
	return min(want, v+step)
}

// stepDown returns the smallest value not below want that is at most one step below v: a step is maxStepPercent
// of v, and never less than 1. At 100 percent a value falls as far as want in one step; tightening waits for
// evidence (enough samples, hysteresis) instead of crawling, since every step is a rollout of every pod.
func stepDown(v, want, maxStepPercent int32) int32 {
	if want >= v {
		return v
	}
	step := max(1, int32(math.Floor(float64(v)*float64(maxStepPercent)/100)))
	return max(want, v-step)
}

// ceilDiv is ceil(a / b) for positive b.
func ceilDiv(a, b int32) int32 {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}

// seconds rounds a duration in seconds up to whole seconds.
func seconds(s float64) int32 {
	return int32(math.Ceil(s - 1e-9))
}

// asDuration converts whole seconds to a duration, saturating instead of overflowing.
func asDuration(s int64) time.Duration {
	return time.Duration(min(s, int64(math.MaxInt64/int64(time.Second)))) * time.Second
}
