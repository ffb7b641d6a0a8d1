package tuner

import (
	"strings"
	"testing"
	"time"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

func TestWorkloadStateValidate(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	change := probes.Change{Container: "app", Probe: probes.Liveness, Field: probes.FailureThreshold, From: 3, To: 6, Reason: recommend.ReasonLivenessTransient}
	valid := func() *WorkloadState {
		return &WorkloadState{
			Observation: observe.State{UpdatedAt: now, Containers: map[string]*observe.ContainerState{"app": {Restarts: map[observe.Cause]int{observe.CauseLiveness: 4}}}},
			LastChange:  &ChangeRecord{ID: "d-1", Time: now.Add(-time.Hour), Changes: []probes.Change{change}, SettledAt: now.Add(-50 * time.Minute)},
			Blocked:     []probes.Change{change},
			Frozen:      []probes.FieldRef{change.Ref()},
		}
	}
	if err := valid().Validate(now); err != nil {
		t.Fatalf("a valid state is refused: %v", err)
	}
	cases := []struct {
		name  string
		forge func(st *WorkloadState)
		want  string
	}{
		{"forged observation", func(st *WorkloadState) { st.Observation.Containers["app"].Restarts[observe.CauseLiveness] = -100 }, "observation: "},
		{"last change dated 2099", func(st *WorkloadState) { st.LastChange.Time = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC) }, "lastChange.time 2099"},
		{"settled in 2099", func(st *WorkloadState) { st.LastChange.SettledAt = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC) }, "settledAt 2099"},
		{"no change id", func(st *WorkloadState) { st.LastChange.ID = "" }, "lastChange.id"},
		{"unknown probe", func(st *WorkloadState) { st.LastChange.Changes[0].Probe = "sideways" }, `"sideways" is not a probe`},
		{"unknown field", func(st *WorkloadState) { st.Blocked[0].Field = "colour" }, `"colour" is not a probe field`},
		{"negative value", func(st *WorkloadState) { st.LastChange.Changes[0].To = -6 }, "from 3 to -6"},
		{"whole probe of 5", func(st *WorkloadState) {
			st.LastChange.Changes[0].Field, st.LastChange.Changes[0].To = probes.WholeProbe, 5
		}, "outside 0..1"},
		{"frozen without container", func(st *WorkloadState) { st.Frozen[0].Container = "" }, "frozen[0]: container name"},
		{"huge signature", func(st *WorkloadState) { st.LastFindings = strings.Repeat("x", maxEvidence+1) }, "signature"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := valid()
			tc.forge(st)
			if err := st.Validate(now); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
