//go:build fidelity

package fidelity

import (
	"testing"
	"time"
)

func TestBeforeListen(t *testing.T) {
	start := time.Date(2026, 12, 3, 12, 0, 10, 0, time.UTC)
	starts := []time.Time{start.Add(-time.Minute), start}
	refused := `Readiness probe failed: Get "http://10.0.0.5:8080/ready": dial tcp 10.0.0.5:8080: connect: connection refused`
	for _, tc := range []struct {
		name        string
		reason, msg string
		count       int
		first, last time.Time
		want        bool
	}{
		{"refused in the start's second", "Unhealthy", refused, 1, start, start, true},
		{"refused two seconds after a start", "Unhealthy", refused, 0, start.Add(2 * time.Second), time.Time{}, true},
		{"refused before any start", "Unhealthy", refused, 1, start.Add(-2 * time.Minute), time.Time{}, false},
		{"refused later in the container's life", "Unhealthy", refused, 1, start.Add(5 * time.Second), start.Add(5 * time.Second), false},
		{"first near a start, last long after", "Unhealthy", refused, 2, start, start.Add(40 * time.Second), false},
		{"both near different starts", "Unhealthy", refused, 2, start.Add(-time.Minute), start.Add(time.Second), true},
		// A startup probe every second against an app that listens late fails near every restart too; 22 refusals
		// from two starts are the app, not the race.
		{"more refusals than starts", "Unhealthy", refused, 22, start.Add(-time.Minute), start.Add(time.Second), false},
		{"a timeout near a start counts", "Unhealthy", `Readiness probe failed: context deadline exceeded`, 1, start, start, false},
		{"not a probe failure", "Killing", refused, 1, start, start, false},
	} {
		if got := beforeListen(tc.reason, tc.msg, tc.count, tc.first, tc.last, starts); got != tc.want {
			t.Errorf("%s: beforeListen = %v, want %v", tc.name, got, tc.want)
		}
	}
}
