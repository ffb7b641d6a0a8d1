package recommend

import (
	"strings"
	"testing"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// Pods in CrashLoopBackOff that a step changes nothing for are a warning, whatever keeps the rules from acting:
// a workload must never read Stable, or Paused with "no change recommended", while it crash-loops.
func TestCrashLoopThatNothingChangesIsAWarning(t *testing.T) {
	undone := []probes.FieldRef{{Container: "app", Probe: probes.Startup, Field: probes.WholeProbe}}
	cases := []struct {
		name   string
		c      Container
		frozen []probes.FieldRef
		want   []string // in the message; nil: no such finding
	}{
		{
			name: "after a manual undo of an added startup probe the crash loop returns: the undo is respected and said",
			c: func() Container {
				c := makeContainer("app").liveness(makeProbe("/healthz").period(10).failure(3).obj()).startsKilled(6, secs(30))
				c.Signals.CrashLoopBackOff = 2
				return c.obj()
			}(),
			frozen: undone,
			want:   []string{"2 of 3 pod(s) of container app are in CrashLoopBackOff", "set by hand", "6 liveness kills"},
		},
		{
			name: "an application crash loop (restarts before probe-tuner watched, or exit 1) is a warning, not Stable",
			c: func() Container {
				c := makeContainer("app").liveness(makeProbe("/healthz").obj()).readiness(makeProbe("/ready").obj()).restarts(observe.CauseError, 1)
				c.Signals.CrashLoopBackOff = 1
				return c.obj()
			}(),
			want: []string{"1 of 3 pod(s) of container app are in CrashLoopBackOff", "1 application crashes"},
		},
		{
			name: "a crash loop the step fixes is no warning: the change says it",
			c: func() Container {
				c := makeContainer("app").liveness(makeProbe("/healthz").period(10).failure(3).obj()).startsKilled(6, secs(30))
				c.Signals.CrashLoopBackOff = 2
				return c.obj()
			}(),
		},
		{
			name: "no pod in CrashLoopBackOff: no warning",
			c:    makeContainer("app").liveness(makeProbe("/healthz").obj()).readiness(makeProbe("/ready").obj()).restarts(observe.CauseError, 3).obj(),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := Recommend(Input{Settings: settings(), Containers: []Container{tc.c}, Frozen: tc.frozen})
			var msg string
			for _, f := range plan.Findings {
				if f.Reason == ReasonCrashLoopUnhandled {
					if f.Severity != Warning {
						t.Errorf("severity = %s, want Warning", f.Severity)
					}
					msg = f.Message
				}
			}
			if tc.want == nil {
				if msg != "" {
					t.Errorf("unexpected %s: %s (changes %v)", ReasonCrashLoopUnhandled, msg, plan.Changes)
				}
				return
			}
			if msg == "" {
				t.Fatalf("no %s finding; findings %+v, changes %v, waiting %v", ReasonCrashLoopUnhandled, plan.Findings, plan.Changes, plan.Waiting)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
}
