package tuner

import (
	"testing"
	"time"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

// TestARevertDecidedAgainBlocksOnce: a revert whose write lost a race is decided again on the next look; the
// change it undoes is blocked once, not once per try.
func TestARevertDecidedAgainBlocksOnce(t *testing.T) {
	s := settingsFor(tuningv1alpha1.ModeAuto)
	change := probes.Change{Container: "app", Probe: "liveness", Field: "failureThreshold", From: 3, To: 6, Reason: recommend.ReasonLivenessTransient}
	st, f := crashLooping()
	st.Observation.Revisions = append(st.Observation.Revisions, &observe.RevisionState{Hash: "r2", FirstSeen: t0, PodSeconds: 3600, NotReadySeconds: 3600,
		ServiceSeconds: 3600, ServiceNotReadySeconds: 3600,
		Containers: map[string]*observe.RevisionContainer{"app": {Restarts: map[observe.Cause]int{observe.CauseLiveness: 6}}}})
	st.LastChange = &ChangeRecord{ID: "d-1", Time: t0.Add(-11 * time.Minute), FromRevision: "r1", Changes: []probes.Change{change},
		SettledAt: t0.Add(-10 * time.Minute)}
	f.Revision = "r2"
	for try := range 3 {
		// The write is not reported with Applied: it lost a race each time.
		if act := Decide(st, f, s, observe.DefaultConfig(), t0.Add(time.Duration(try)*time.Second)); act.Kind != Revert {
			t.Fatalf("try %d: action %s, want the revert decided again", try, act.Kind)
		}
	}
	if len(st.Blocked) != 1 || !st.Blocked[0].Same(change) {
		t.Errorf("blocked = %+v after three tries of one revert, want the reverted change once", st.Blocked)
	}
}
