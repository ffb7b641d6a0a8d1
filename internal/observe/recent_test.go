package observe

import (
	"testing"
	"time"
)

// TestRecentRestartsFromSimulatedKubelet: a crash loop's restarts are all recent while it runs, and none is an
// hour and a minute after the last one, while the totals stay.
func TestRecentRestartsFromSimulatedKubelet(t *testing.T) {
	r := newSimRun(t, deployment(2, map[string]string{"sim.probetuner.io/startup": "45s"}, defaultLivenessYAML+readinessYAML), 1)
	r.run(10 * time.Minute)
	s := r.signals("app")
	if s.TotalRestarts[CauseLiveness] < 4 {
		t.Fatalf("liveness restarts = %d, want a crash loop (at least 4)", s.TotalRestarts[CauseLiveness])
	}
	if got, want := s.RecentRestarts[CauseLiveness], s.TotalRestarts[CauseLiveness]; got != want {
		t.Errorf("recent liveness restarts = %d, want all %d of the last 10 minutes", got, want)
	}
	later := ContainerSignals(r.state, "app", r.revision, r.world.Now().Add(RecentWindow+time.Minute), r.cfg)
	if n := later.RecentRestarts[CauseLiveness]; n != 0 {
		t.Errorf("recent liveness restarts an hour after the last = %d, want 0", n)
	}
	if later.TotalRestarts[CauseLiveness] != s.TotalRestarts[CauseLiveness] {
		t.Errorf("total liveness restarts changed from %d to %d with time alone", s.TotalRestarts[CauseLiveness], later.TotalRestarts[CauseLiveness])
	}
}

func TestRecentRestartMarks(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	type mark struct {
		cause Cause
		n     int
		ended time.Time
		now   time.Time
	}
	cases := []struct {
		name  string
		marks []mark
		at    time.Time
		want  map[Cause]int
		kept  int
	}{
		{
			name:  "same cause and minute share a mark",
			marks: []mark{{CauseLiveness, 1, t0, t0}, {CauseLiveness, 2, t0.Add(40 * time.Second), t0.Add(41 * time.Second)}},
			at:    t0.Add(time.Minute), want: map[Cause]int{CauseLiveness: 3}, kept: 1,
		},
		{
			name:  "causes are kept apart",
			marks: []mark{{CauseLiveness, 1, t0, t0}, {CauseOOM, 1, t0, t0}, {CauseError, 2, t0.Add(time.Minute), t0.Add(time.Minute)}},
			at:    t0.Add(2 * time.Minute), want: map[Cause]int{CauseLiveness: 1, CauseOOM: 1, CauseError: 2}, kept: 3,
		},
		{
			name:  "a restart older than the window is dropped, a younger one kept",
			marks: []mark{{CauseStartup, 1, t0, t0}, {CauseStartup, 1, t0.Add(30 * time.Minute), t0.Add(30 * time.Minute)}},
			at:    t0.Add(61 * time.Minute), want: map[Cause]int{CauseStartup: 1}, kept: 1,
		},
		{
			name:  "the minute of the container's end counts, not when it was seen",
			marks: []mark{{CauseLiveness, 1, t0, t0.Add(50 * time.Minute)}},
			at:    t0.Add(61 * time.Minute), want: map[Cause]int{}, kept: 0,
		},
		{
			name:  "an end time in the future or unknown is taken as now",
			marks: []mark{{CauseError, 1, t0.Add(time.Hour), t0}, {CauseError, 1, time.Time{}, t0}},
			at:    t0.Add(59 * time.Minute), want: map[Cause]int{CauseError: 2}, kept: 1,
		},
		{
			name:  "a late termination is put in its place",
			marks: []mark{{CauseLiveness, 1, t0.Add(5 * time.Minute), t0.Add(5 * time.Minute)}, {CauseOOM, 1, t0, t0.Add(6 * time.Minute)}},
			at:    t0.Add(62 * time.Minute), want: map[Cause]int{CauseLiveness: 1}, kept: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &State{}
			cs := s.container("app")
			for _, m := range tc.marks {
				cs.markRestarts(m.cause, m.n, m.ended, m.now)
			}
			sig := ContainerSignals(s, "app", "rev", tc.at, DefaultConfig())
			for _, c := range Causes {
				if sig.RecentRestarts[c] != tc.want[c] {
					t.Errorf("recent %s restarts = %d, want %d", c, sig.RecentRestarts[c], tc.want[c])
				}
			}
			if len(cs.RecentRestarts) != tc.kept {
				t.Errorf("%d marks kept, want %d: %+v", len(cs.RecentRestarts), tc.kept, cs.RecentRestarts)
			}
		})
	}
}
