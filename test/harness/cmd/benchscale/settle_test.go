package main

import (
	"math"
	"testing"
)

func TestDeltaQuantile(t *testing.T) {
	lag := func(le1, le2, inf float64) []string {
		return []string{
			`simkubelet_status_write_lag_seconds_bucket{le="1"} ` + ftoa(le1),
			`simkubelet_status_write_lag_seconds_bucket{le="2"} ` + ftoa(le2),
			`simkubelet_status_write_lag_seconds_bucket{le="+Inf"} ` + ftoa(inf),
			`simkubelet_status_write_lag_seconds_count ` + ftoa(inf),
		}
	}
	cases := []struct {
		name          string
		before, after []string
		q             float64
		want          float64
		observed      bool
	}{
		{name: "nothing observed in between", before: lag(10, 20, 20), after: lag(10, 20, 20), q: 0.99},
		{name: "only what came after counts", before: lag(100, 100, 100), after: lag(100, 110, 110), q: 0.5, want: 1.5, observed: true},
		{name: "all fast", before: nil, after: lag(10, 10, 10), q: 0.99, want: 0.99, observed: true},
		{name: "beyond the last bound reads as the last bound", before: lag(0, 0, 0), after: lag(0, 0, 5), q: 0.99, want: 2, observed: true},
		{name: "another metric is not read", before: nil, after: []string{`simkubelet_event_write_lag_seconds_bucket{le="1"} 3`}, q: 0.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := deltaQuantile(tc.before, tc.after, simStatusLag, tc.q)
			if ok != tc.observed || math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("deltaQuantile = %v, %v; want %v, %v", got, ok, tc.want, tc.observed)
			}
		})
	}
}

func ftoa(f float64) string { return f1(f) }
