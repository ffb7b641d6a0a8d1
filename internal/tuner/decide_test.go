package tuner

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func settingsFor(mode tuningv1alpha1.Mode) policy.Settings {
	s, err := policy.Resolve(tuningv1alpha1.ProbePolicySpec{Mode: mode})
	if err != nil {
		panic(err)
	}
	return s
}

// crashLooping returns a state and facts where a 45 s start is killed by a 3 x 10 s liveness window.
func crashLooping() (*WorkloadState, Facts) {
	st := &WorkloadState{Observation: observe.State{
		Containers: map[string]*observe.ContainerState{"app": {Censored: censored(4, 30*time.Second), Restarts: map[observe.Cause]int{observe.CauseLiveness: 4}}},
		Revisions: []*observe.RevisionState{{Hash: "r1", FirstSeen: t0.Add(-time.Hour), PodSeconds: 3600, NotReadySeconds: 3600,
			Containers: map[string]*observe.RevisionContainer{"app": {Restarts: map[observe.Cause]int{observe.CauseLiveness: 4}, KillsBeforeReady: 4}}}},
	}}
	live := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}}
	return st, Facts{Name: "cache", Revision: "r1", Containers: []recommend.Container{{Name: "app", Liveness: live}}}
}

func censored(n int, lived time.Duration) observe.Histogram {
	var h observe.Histogram
	for i := 0; i < n; i++ {
		h.Add(lived, t0, 24*time.Hour)
	}
	return h
}

func TestDecide(t *testing.T) {
	cases := []struct {
		name     string
		mode     tuningv1alpha1.Mode
		edit     func(*WorkloadState, *Facts)
		want     Kind
		reason   string
		noRecord bool
	}{
		{name: "Auto applies a change backed by evidence", mode: tuningv1alpha1.ModeAuto, want: Apply},
		{name: "Recommend only recommends", mode: tuningv1alpha1.ModeRecommend, want: Recommend, reason: "mode is Recommend"},
		{name: "Off waits", mode: tuningv1alpha1.ModeOff, want: Wait, reason: "Off"},
		{name: "a paused Deployment is only recommended to", mode: tuningv1alpha1.ModeAuto, edit: func(_ *WorkloadState, f *Facts) { f.Paused = true }, want: Recommend, reason: "paused"},
		// The revision rolling out has not been killed, but the starts seen need more time than the budget gives:
		// the growth is written into the rollout in flight rather than after it, which would roll every pod again.
		{name: "a budget growth joins a rollout in flight", mode: tuningv1alpha1.ModeAuto, edit: func(st *WorkloadState, f *Facts) {
			f.RolloutInProgress = true
			st.Observation.Revisions[0].Containers["app"].KillsBeforeReady = 0
		}, want: Apply},
		{name: "a rollout stalled by its own crash loop is fixed anyway", mode: tuningv1alpha1.ModeAuto, edit: func(_ *WorkloadState, f *Facts) { f.RolloutInProgress = true }, want: Apply},
		{
			name: "one change per cooldown", mode: tuningv1alpha1.ModeAuto,
			edit: func(st *WorkloadState, _ *Facts) {
				st.LastChange = &ChangeRecord{ID: "x", Time: t0.Add(-5 * time.Minute), FromRevision: "r0", Verified: true}
			},
			want: Recommend, reason: "cooling down until 2026-03-01T12:05:00Z",
		},
		{
			// The last change gave starts more time, and the pods of the revision it made are killed before they
			// start all the same: the rollout cannot complete, so neither verification nor cooldown is waited for.
			name: "starts still killed by the revision a budget growth made are grown again at once", mode: tuningv1alpha1.ModeAuto,
			edit: func(st *WorkloadState, f *Facts) {
				st.LastChange = &ChangeRecord{ID: "x", Time: t0.Add(-2 * time.Minute), FromRevision: "r0",
					Changes: []probes.Change{{Container: "app", Probe: "startup", Field: "failureThreshold", From: 3, To: 6, Reason: recommend.ReasonStartupKilled}}}
				f.RolloutInProgress = true
			},
			want: Apply,
		},
		{
			name: "kills of the old revision before the growth's revision shows wait for it", mode: tuningv1alpha1.ModeAuto,
			edit: func(st *WorkloadState, f *Facts) {
				st.LastChange = &ChangeRecord{ID: "x", Time: t0.Add(-2 * time.Minute), FromRevision: "r1",
					Changes: []probes.Change{{Container: "app", Probe: "startup", Field: "failureThreshold", From: 3, To: 6, Reason: recommend.ReasonStartupKilled}}}
			},
			want: Wait, reason: "verifying the change",
		},
		{
			name: "a change that was not a budget growth is verified first even while starts are killed", mode: tuningv1alpha1.ModeAuto,
			edit: func(st *WorkloadState, f *Facts) {
				st.LastChange = &ChangeRecord{ID: "x", Time: t0.Add(-2 * time.Minute), FromRevision: "r0",
					Changes: []probes.Change{{Container: "app", Probe: "readiness", Field: "failureThreshold", From: 3, To: 6, Reason: recommend.ReasonReadinessFlapping}}}
			},
			want: Wait, reason: "verifying the change",
		},
		{
			name: "after the cooldown the next change goes through", mode: tuningv1alpha1.ModeAuto,
			edit: func(st *WorkloadState, _ *Facts) {
				st.LastChange = &ChangeRecord{ID: "x", Time: t0.Add(-11 * time.Minute), FromRevision: "r0", Verified: true}
			},
			want: Apply,
		},
		{
			name: "a recommendation already recorded is not recorded again", mode: tuningv1alpha1.ModeRecommend,
			edit: func(st *WorkloadState, f *Facts) {
				st.LastRecommendation = "app/startup/probe:0>1"
			},
			want: Recommend, noRecord: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, f := crashLooping()
			if tc.edit != nil {
				tc.edit(st, &f)
			}
			act := Decide(st, f, settingsFor(tc.mode), observe.DefaultConfig(), t0)
			if act.Kind != tc.want {
				t.Fatalf("kind = %s (%s), want %s", act.Kind, act.Reason, tc.want)
			}
			if !strings.Contains(act.Reason, tc.reason) {
				t.Errorf("reason = %q, want it to contain %q", act.Reason, tc.reason)
			}
			if tc.want != Wait && act.Record == tc.noRecord {
				t.Errorf("record = %v, want %v", act.Record, !tc.noRecord)
			}
			if tc.want == Apply && (act.ID == "" || len(act.Changes) == 0) {
				t.Errorf("apply without an ID or changes: %+v", act)
			}
		})
	}
}

func TestDecisionIDIsStable(t *testing.T) {
	st1, f := crashLooping()
	st2, _ := crashLooping()
	s := settingsFor(tuningv1alpha1.ModeAuto)
	a := Decide(st1, f, s, observe.DefaultConfig(), t0)
	b := Decide(st2, f, s, observe.DefaultConfig(), t0.Add(time.Minute))
	if a.ID == "" || a.ID != b.ID {
		t.Errorf("IDs %q and %q: the same decision must keep its ID so it is applied and recorded once", a.ID, b.ID)
	}
}

func TestVerification(t *testing.T) {
	s := settingsFor(tuningv1alpha1.ModeAuto)
	change := probes.Change{Container: "app", Probe: "liveness", Field: "failureThreshold", From: 3, To: 6, Reason: recommend.ReasonLivenessTransient}
	newState := func(afterRestarts int, afterNotReady float64) (*WorkloadState, Facts) {
		st, f := crashLooping()
		st.Observation.Revisions = append(st.Observation.Revisions, &observe.RevisionState{Hash: "r2", FirstSeen: t0, PodSeconds: 3600, NotReadySeconds: afterNotReady * 3600,
			ServiceSeconds: 3600, ServiceNotReadySeconds: afterNotReady * 3600,
			Containers: map[string]*observe.RevisionContainer{"app": {Restarts: map[observe.Cause]int{observe.CauseLiveness: afterRestarts}}}})
		st.LastChange = &ChangeRecord{ID: "d-1", Time: t0.Add(-11 * time.Minute), FromRevision: "r1", Changes: []probes.Change{change}}
		f.Revision = "r2"
		return st, f
	}
	t.Run("a change that did not lower restarts is reverted and blocked", func(t *testing.T) {
		st, f := newState(6, 1)
		st.LastChange.SettledAt = t0.Add(-10 * time.Minute)
		act := Decide(st, f, s, observe.DefaultConfig(), t0)
		if act.Kind != Revert || len(act.Changes) != 1 || act.Changes[0].To != 3 || act.Changes[0].From != 6 {
			t.Fatalf("action = %+v, want a revert of failureThreshold 6 -> 3", act)
		}
		if len(st.Blocked) != 1 || !st.Blocked[0].Same(change) {
			t.Errorf("blocked = %+v, want the reverted change", st.Blocked)
		}
		Applied(st, act, "r2", t0)
		if !st.LastChange.Reverted {
			t.Error("the change is not marked reverted")
		}
	})
	t.Run("an adopted change whose before was never observed is kept, not reverted on no evidence", func(t *testing.T) {
		// A policy re-created (or a checkpoint lost) during verification: the fresh state adopted the change
		// from the Deployment and saw nothing of revision r1.
		st, f := newState(6, 1)
		st.Observation.Revisions = st.Observation.Revisions[len(st.Observation.Revisions)-1:]
		st.LastChange.SettledAt = t0.Add(-10 * time.Minute)
		act := Decide(st, f, s, observe.DefaultConfig(), t0)
		if act.Kind == Revert || !st.LastChange.Verified || len(st.Blocked) != 0 {
			t.Fatalf("action = %s (%s), verified = %v, blocked %v: want the change kept", act.Kind, act.Reason, st.LastChange.Verified, st.Blocked)
		}
	})
	t.Run("a change that helped is kept", func(t *testing.T) {
		st, f := newState(0, 0.1)
		st.LastChange.SettledAt = t0.Add(-10 * time.Minute)
		act := Decide(st, f, s, observe.DefaultConfig(), t0)
		if act.Kind == Revert || !st.LastChange.Verified {
			t.Fatalf("action = %+v, verified = %v", act.Kind, st.LastChange.Verified)
		}
	})
	t.Run("the window runs from the end of the rollout", func(t *testing.T) {
		st, f := newState(6, 1)
		f.RolloutInProgress = true
		act := Decide(st, f, s, observe.DefaultConfig(), t0)
		if act.Kind == Revert || st.LastChange.Verified {
			t.Fatalf("judged a change whose rollout is still running: %s", act.Kind)
		}
		f.RolloutInProgress = false
		Decide(st, f, s, observe.DefaultConfig(), t0)
		if !st.LastChange.SettledAt.Equal(t0) {
			t.Errorf("settledAt = %s, want the first look at the completed rollout", st.LastChange.SettledAt)
		}
	})
	t.Run("a stalled rollout is judged after three windows", func(t *testing.T) {
		st, f := newState(6, 1)
		f.RolloutInProgress = true
		st.LastChange.Time = t0.Add(-31 * time.Minute)
		if act := Decide(st, f, s, observe.DefaultConfig(), t0); act.Kind != Revert {
			t.Fatalf("action = %s, want a revert of a change whose rollout stalled with more restarts", act.Kind)
		}
	})
	t.Run("a startup budget that grew is not reverted for kills at the larger budget", func(t *testing.T) {
		st, f := newState(6, 1)
		st.LastChange.Changes = []probes.Change{{Container: "app", Probe: "startup", Field: probes.WholeProbe, From: 0, To: 1, Reason: recommend.ReasonStartupKilled}}
		st.LastChange.SettledAt = t0.Add(-10 * time.Minute)
		if act := Decide(st, f, s, observe.DefaultConfig(), t0); act.Kind == Revert {
			t.Fatalf("reverted a budget growth: %s", act.Reason)
		}
	})
	t.Run("a tightening after which probe restarts rose is reverted", func(t *testing.T) {
		st, f := newState(6, 0)
		st.Observation.Revisions[0].Containers["app"].Restarts = map[observe.Cause]int{observe.CauseLiveness: 1}
		st.LastChange.Changes = []probes.Change{{Container: "app", Probe: "liveness", Field: "failureThreshold", From: 30, To: 11, Reason: recommend.ReasonLivenessTightened}}
		st.LastChange.SettledAt = t0.Add(-10 * time.Minute)
		if act := Decide(st, f, s, observe.DefaultConfig(), t0); act.Kind != Revert || !strings.Contains(act.Reason, "rose") {
			t.Fatalf("action = %s (%s), want a revert of the tightening", act.Kind, act.Reason)
		}
	})
	t.Run("a rollout stalled by start kills is judged one window after the change", func(t *testing.T) {
		st, f := newState(6, 1)
		f.RolloutInProgress = true
		st.Observation.Revisions[1].Containers["app"].KillsBeforeReady = 6
		if act := Decide(st, f, s, observe.DefaultConfig(), t0); act.Kind != Revert {
			t.Fatalf("action = %s (%s), want the stalled change judged (and reverted) after one window", act.Kind, act.Reason)
		}
	})
	t.Run("with the mode Off a failed change is not judged", func(t *testing.T) {
		st, f := newState(6, 1)
		st.LastChange.SettledAt = t0.Add(-10 * time.Minute)
		act := Decide(st, f, settingsFor(tuningv1alpha1.ModeOff), observe.DefaultConfig(), t0)
		if act.Kind != Wait || act.Reason != "the policy's mode is Off" || st.LastChange.Verified || len(st.Blocked) != 0 {
			t.Fatalf("action = %s (%s), verified %v, blocked %v: want a wait, the change left unjudged", act.Kind, act.Reason, st.LastChange.Verified, st.Blocked)
		}
	})
	t.Run("inside the window nothing else happens", func(t *testing.T) {
		st, f := newState(6, 1)
		st.LastChange.Time = t0.Add(-time.Minute)
		act := Decide(st, f, s, observe.DefaultConfig(), t0)
		if act.Kind != Wait || !strings.Contains(act.Reason, "verifying") {
			t.Fatalf("action = %s (%s), want a wait while verifying", act.Kind, act.Reason)
		}
	})
}

func TestDesiredRevertRemovesAnAddedProbe(t *testing.T) {
	st, f := crashLooping()
	act := Decide(st, f, settingsFor(tuningv1alpha1.ModeAuto), observe.DefaultConfig(), t0)
	applied := Desired(nil, act)
	if applied["app"].Startup == nil {
		t.Fatal("the applied probes lack the added startup probe")
	}
	revert := Action{Kind: Revert, Changes: []probes.Change{{Container: "app", Probe: "startup", Field: probes.WholeProbe, From: 1, To: 0}}}
	back := Desired(map[string]probes.Set{"app": applied["app"]}, revert)
	if back["app"].Startup != nil || back["app"].Liveness == nil {
		t.Errorf("after the revert: %+v, want the startup probe gone and liveness kept", back["app"])
	}
}

// The record of a hand edit names the field, or only the probe when the whole probe probe-tuner added was
// removed or changed: "startup probe probe" read as a typo in the Event of a manual undo.
func TestOverrideRecordNamesAWholeProbeOnce(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := overrideRecord("web", []probes.FieldRef{
		{Container: "app", Probe: probes.Startup, Field: probes.WholeProbe},
		{Container: "app", Probe: probes.Liveness, Field: probes.FailureThreshold},
	}, at)
	want := []string{
		"web startup probe of container app was changed by someone else after probe-tuner set it; probe-tuner leaves it to them from now on",
		"web liveness probe failureThreshold of container app was changed by someone else after probe-tuner set it; probe-tuner leaves it to them from now on",
	}
	for i, d := range rec.Decisions {
		if d.Evidence != want[i] {
			t.Errorf("decision %d evidence = %q, want %q", i, d.Evidence, want[i])
		}
	}
}
