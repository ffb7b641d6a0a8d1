package tuner

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

// dueWorkload is a workload of one pod of revision r1 whose container app has the given probes (nil: none of
// that kind) and the given tracked state, looked at t0.
type dueWorkload struct {
	st    *WorkloadState
	look  WorkloadLook
	facts Facts
}

func newDueWorkload(live, ready *corev1.Probe, pc *observe.PodContainer) dueWorkload {
	p := observe.Pod{Name: "web-1", UID: "u1", Revision: "r1", Containers: []observe.Container{{Name: "app"}}}
	if live != nil {
		p.Containers[0].Probes.Liveness = &observe.Probe{Values: probes.Of(live)}
	}
	if ready != nil {
		p.Containers[0].Probes.Readiness = &observe.Probe{Values: probes.Of(ready)}
	}
	st := &WorkloadState{Observation: observe.State{
		Pods:      map[string]*observe.PodState{"u1": {Name: "web-1", Revision: "r1", LastSeen: t0, Containers: map[string]*observe.PodContainer{"app": pc}}},
		Revisions: []*observe.RevisionState{{Hash: "r1", FirstSeen: t0.Add(-time.Hour), Containers: map[string]*observe.RevisionContainer{"app": {}}}},
	}}
	return dueWorkload{st: st, look: WorkloadLook{Observe: observe.Input{Pods: []observe.Pod{p}, Revision: "r1", Now: t0}},
		facts: Facts{Name: "web", Revision: "r1", Containers: []recommend.Container{{Name: "app", Liveness: live, Readiness: ready}}}}
}

func TestNextLook(t *testing.T) {
	readiness := &corev1.Probe{PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}
	liveness := &corev1.Probe{PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}
	// 30 x 10 s + 1 s = 301 s to detect a hang, above the default maxTimeToDetectSeconds of 120.
	slowLiveness := &corev1.Probe{PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 30}
	serving := func() *observe.PodContainer {
		return &observe.PodContainer{ID: "c1", Running: true, Ready: true, EverReady: true, StartCompleted: true, StartedAt: t0.Add(-time.Hour)}
	}
	s := settingsFor(tuningv1alpha1.ModeAuto) // cooldown 10m, verification window 10m, maxBudgetSeconds 600
	var fortySecondStart observe.Histogram
	fortySecondStart.Add(40*time.Second, t0.Add(-time.Hour), 24*time.Hour)
	stuckAfterFortySecondStarts := recommend.StuckThreshold(&fortySecondStart, s)
	if stuckAfterFortySecondStarts < 100*time.Second || stuckAfterFortySecondStarts > 140*time.Second {
		t.Fatalf("stuck threshold after 40 s starts = %s, want about three times 40 s", stuckAfterFortySecondStarts)
	}
	cases := []struct {
		name string
		// live and ready default to liveness and readiness; pc to a serving container.
		live, ready *corev1.Probe
		noReady     bool
		edit        func(*dueWorkload)
		want        time.Duration // after t0
	}{
		{name: "nothing pending: the safety look", want: SafetyLookInterval},
		{name: "a termination waiting for its Killing Event", edit: func(w *dueWorkload) { w.st.Observation.RecheckAt = t0.Add(7 * time.Second) },
			want: 7*time.Second + lookSlack},
		{name: "a wait for a Killing Event already over: at once", edit: func(w *dueWorkload) { w.st.Observation.RecheckAt = t0.Add(-time.Second) },
			want: lookSlack},
		{name: "a verified change cooling down", edit: func(w *dueWorkload) {
			w.st.LastChange = &ChangeRecord{ID: "d1", Time: t0.Add(-4 * time.Minute), Verified: true}
		}, want: 6*time.Minute + lookSlack},
		{name: "a verified change past its cooldown", edit: func(w *dueWorkload) {
			w.st.LastChange = &ChangeRecord{ID: "d1", Time: t0.Add(-40 * time.Minute), Verified: true}
		}, want: SafetyLookInterval},
		{name: "a change whose rollout has not settled: judged a window after it if it stalls", edit: func(w *dueWorkload) {
			w.st.LastChange = &ChangeRecord{ID: "d1", Time: t0.Add(-8 * time.Minute), FromRevision: "r0"}
		}, want: 2*time.Minute + lookSlack},
		{name: "a change older than a window whose rollout has not settled: after three windows", edit: func(w *dueWorkload) {
			w.st.LastChange = &ChangeRecord{ID: "d1", Time: t0.Add(-25 * time.Minute), FromRevision: "r0"}
		}, want: 5*time.Minute + lookSlack},
		{name: "a settled change: a window after it settled", edit: func(w *dueWorkload) {
			w.st.LastChange = &ChangeRecord{ID: "d1", Time: t0.Add(-30 * time.Minute), FromRevision: "r0", SettledAt: t0.Add(-7 * time.Minute)}
		}, want: 3*time.Minute + lookSlack},
		{name: "a pod never ready, before the stuck threshold (no start yet: maxBudgetSeconds)", edit: func(w *dueWorkload) {
			*w.st.Observation.Pods["u1"].Containers["app"] = observe.PodContainer{ID: "c1", Running: true, StartedAt: t0.Add(-4 * time.Minute),
				NotReadySince: t0.Add(-4 * time.Minute), StartCompleted: true}
		}, want: 6*time.Minute + lookSlack},
		{name: "a pod never ready, before the stuck threshold of three p99 starts", edit: func(w *dueWorkload) {
			w.st.Observation.Containers = map[string]*observe.ContainerState{"app": {Startup: fortySecondStart}}
			*w.st.Observation.Pods["u1"].Containers["app"] = observe.PodContainer{ID: "c1", Running: true, StartedAt: t0.Add(-time.Minute),
				NotReadySince: t0.Add(-time.Minute), StartCompleted: true}
		}, want: stuckAfterFortySecondStarts - time.Minute + lookSlack},
		{name: "a pod stuck for 12m30s: when the finding's message says 13 minutes", edit: func(w *dueWorkload) {
			*w.st.Observation.Pods["u1"].Containers["app"] = observe.PodContainer{ID: "c1", Running: true, StartedAt: t0.Add(-12*time.Minute - 30*time.Second),
				NotReadySince: t0.Add(-12*time.Minute - 30*time.Second), StartCompleted: true}
		}, want: 30*time.Second + lookSlack},
		{name: "a pod ready before and not ready now is not stuck", edit: func(w *dueWorkload) {
			*w.st.Observation.Pods["u1"].Containers["app"] = observe.PodContainer{ID: "c1", Running: true, EverReady: true, StartedAt: t0.Add(-time.Hour),
				NotReadySince: t0.Add(-time.Minute), StartCompleted: true}
		}, want: SafetyLookInterval},
		{name: "a liveness-only start still within its budget", noReady: true, edit: func(w *dueWorkload) {
			// Budget: 3 x 10 s, plus one period.
			*w.st.Observation.Pods["u1"].Containers["app"] = observe.PodContainer{ID: "c1", Running: true, StartedAt: t0.Add(-15 * time.Second), NotReadySince: t0.Add(-15 * time.Second)}
		}, want: 25*time.Second + lookSlack},
		{name: "a liveness-only start past its budget while its probe fails: when the failures are over", noReady: true, edit: func(w *dueWorkload) {
			*w.st.Observation.Pods["u1"].Containers["app"] = observe.PodContainer{ID: "c1", Running: true, StartedAt: t0.Add(-50 * time.Second),
				NotReadySince: t0.Add(-50 * time.Second), FailRun: observe.FailRun{Probe: observe.CauseLiveness, Failures: 2, First: t0.Add(-15 * time.Second), Last: t0.Add(-5 * time.Second)}}
		}, want: 25*time.Second + lookSlack},
		{name: "a run of liveness failures that may end as a near miss", edit: func(w *dueWorkload) {
			pc := serving()
			pc.LiveRun, pc.LiveRunLast = 2, t0.Add(-3*time.Second)
			*w.st.Observation.Pods["u1"].Containers["app"] = *pc
		}, want: 27*time.Second + lookSlack},
		{name: "a liveness probe too slow to detect a hang, watched for half a window", live: slowLiveness, edit: func(w *dueWorkload) {
			// 30 of the 60 probes of a 10m window at a 10 s period; one pod adds one every 10 s.
			w.st.Observation.Revisions[0].Containers["app"].LivenessProbes = 30
		}, want: 300*time.Second + lookSlack},
		{name: "a liveness probe too slow to detect a hang, watched long enough", live: slowLiveness, edit: func(w *dueWorkload) {
			w.st.Observation.Revisions[0].Containers["app"].LivenessProbes = 60
		}, want: SafetyLookInterval},
		{name: "a liveness probe within the bound is not waited for", edit: func(w *dueWorkload) {
			w.st.Observation.Revisions[0].Containers["app"].LivenessProbes = 30
		}, want: SafetyLookInterval},
		{name: "the earliest moment wins", edit: func(w *dueWorkload) {
			w.st.LastChange = &ChangeRecord{ID: "d1", Time: t0.Add(-4 * time.Minute), Verified: true}
			w.st.Observation.RecheckAt = t0.Add(9 * time.Second)
		}, want: 9*time.Second + lookSlack},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			live, ready := liveness, readiness
			if tc.live != nil {
				live = tc.live
			}
			if tc.noReady {
				ready = nil
			}
			w := newDueWorkload(live, ready, serving())
			if tc.edit != nil {
				tc.edit(&w)
			}
			got := NextLook(w.st, w.look, w.facts, s, observe.DefaultConfig())
			if want := t0.Add(tc.want); !got.Equal(want) {
				t.Errorf("NextLook = t0+%s, want t0+%s", got.Sub(t0), tc.want)
			}
		})
	}
}

// TestWrittenMovesTheNextLookToTheNewChange checks that a look that writes a change asks for the look its
// change needs (a window later, when a stalled rollout is judged), not the one computed before the write.
func TestWrittenMovesTheNextLookToTheNewChange(t *testing.T) {
	st, d := slowStarter()
	s := resolved(t, tuningv1alpha1.ModeAuto)
	s.Pacing.VerificationWindow = 5 * time.Minute // before the cooldown and the safety look
	out, err := StepWorkload(st, lookAt(d), s, observe.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if !out.Write {
		t.Fatalf("the slow starter's look decided %s, not a write", out.Action.Kind)
	}
	if req, err := PrepareWrite(st, &out, d, "p"); err != nil || req == nil {
		t.Fatalf("PrepareWrite = %v, %v", req, err)
	}
	Written(st, &out)
	want := stepNow.Add(s.Pacing.VerificationWindow + lookSlack)
	if !out.NextLook.Equal(want) {
		t.Errorf("NextLook after the write = now+%s, want now+%s", out.NextLook.Sub(stepNow), want.Sub(stepNow))
	}
}
