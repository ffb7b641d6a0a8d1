package observe

import (
	"testing"
	"time"
)

func TestStartQuantile(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hist := func(ds ...time.Duration) *Histogram {
		h := &Histogram{}
		for _, d := range ds {
			h.Add(d, now, 24*time.Hour)
		}
		return h
	}
	n := func(d time.Duration, k int) []time.Duration {
		out := make([]time.Duration, k)
		for i := range out {
			out[i] = d
		}
		return out
	}
	cases := []struct {
		name              string
		completed, killed *Histogram
		q                 float64
		wantKnown         bool
		lo, hi            time.Duration
	}{
		{"a crash loop: every start killed", hist(), hist(n(30*time.Second, 5)...), 0.99, false, 0, 0},
		{"kills under an old budget stop counting once starts complete above it",
			hist(n(40*time.Second, 4)...), hist(n(30*time.Second, 10)...), 0.99, true, 39 * time.Second, 42 * time.Second},
		{"a killed tail above the completed starts hides the p99",
			hist(n(20*time.Second, 90)...), hist(n(45*time.Second, 10)...), 0.99, false, 0, 0},
		{"a killed share under 1% leaves the p99 among the completed starts",
			hist(append(n(20*time.Second, 150), 25*time.Second)...), hist(45 * time.Second), 0.99, true, 20 * time.Second, 27 * time.Second},
		{"no kills: the plain quantile", hist(n(10*time.Second, 50)...), hist(), 0.5, true, 9500 * time.Millisecond, 10500 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, known := StartQuantile(tc.completed, tc.killed, tc.q)
			if known != tc.wantKnown {
				t.Fatalf("known = %v (%s), want %v", known, got, tc.wantKnown)
			}
			if known && (got < tc.lo || got > tc.hi) {
				t.Errorf("quantile = %s, want %s..%s", got, tc.lo, tc.hi)
			}
		})
	}
}
