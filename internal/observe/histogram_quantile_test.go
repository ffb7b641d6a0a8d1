package observe

import (
	"testing"
	"time"
)

// TestQuantileOfWeightlessBuckets: buckets whose weight is zero (decayed away, or restored so from a checkpoint)
// tell no quantile; they never yield a negative or NaN duration (a fuzzed checkpoint once gave -2562047h).
func TestQuantileOfWeightlessBuckets(t *testing.T) {
	for _, tt := range []struct {
		name    string
		buckets map[int]float64
		want    time.Duration
	}{
		{"one bucket of zero weight", map[int]float64{0: 0}, 0},
		{"several of zero weight", map[int]float64{0: 0, 10: 0, 40: 0}, 0},
		{"a zero bucket below a weighted one", map[int]float64{0: 0, 1: 1}, time.Duration(bucketUpper(1) * float64(time.Second))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := Histogram{Buckets: tt.buckets}
			if got := h.Quantile(1); got != tt.want {
				t.Errorf("Quantile(1) = %v, want %v", got, tt.want)
			}
			if got := h.Quantile(0.5); got < 0 {
				t.Errorf("Quantile(0.5) = %v, negative", got)
			}
		})
	}
}
