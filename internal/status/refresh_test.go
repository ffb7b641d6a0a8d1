package status

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

func TestPatchWait(t *testing.T) {
	now := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	base := func() tuningv1alpha1.ProbePolicyStatus {
		return tuningv1alpha1.ProbePolicyStatus{
			ChangesApplied: 1,
			Conditions:     []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Observing"}},
			Workloads: []tuningv1alpha1.WorkloadSummary{{Name: "web", State: tuningv1alpha1.WorkloadState(StateObserving), Message: "waiting",
				Containers: []tuningv1alpha1.ContainerSummary{{Name: "app", Observed: tuningv1alpha1.ObservedSignals{LivenessKills: 2}}}}},
		}
	}
	figures := func(st *tuningv1alpha1.ProbePolicyStatus) { st.Workloads[0].Containers[0].Observed.LivenessKills = 3 }
	tests := []struct {
		name      string
		change    func(*tuningv1alpha1.ProbePolicyStatus)
		lastPatch time.Time
		want      time.Duration
	}{
		{"figures only, patched 10 s ago: wait the rest of the refresh", figures, now.Add(-10 * time.Second), 20 * time.Second},
		{"figures only, patched a refresh ago: now", figures, now.Add(-ObservedRefresh), 0},
		{"figures only, never patched by this process: now", figures, time.Time{}, 0},
		{"the state changes: now", func(st *tuningv1alpha1.ProbePolicyStatus) {
			figures(st)
			st.Workloads[0].State = tuningv1alpha1.WorkloadState(StateAdjusting)
		}, now.Add(-time.Second), 0},
		{"the message changes: now", func(st *tuningv1alpha1.ProbePolicyStatus) { st.Workloads[0].Message = "other" }, now.Add(-time.Second), 0},
		{"a decision: now", func(st *tuningv1alpha1.ProbePolicyStatus) {
			figures(st)
			st.Decisions = append(st.Decisions, tuningv1alpha1.Decision{ID: "d-1"})
		}, now.Add(-time.Second), 0},
		{"a condition: now", func(st *tuningv1alpha1.ProbePolicyStatus) { st.Conditions[0].Status = metav1.ConditionFalse }, now.Add(-time.Second), 0},
		{"a workload more: now", func(st *tuningv1alpha1.ProbePolicyStatus) {
			st.Workloads = append(st.Workloads, tuningv1alpha1.WorkloadSummary{Name: "api"})
		}, now.Add(-time.Second), 0},
		{"a container's probes change: now", func(st *tuningv1alpha1.ProbePolicyStatus) {
			figures(st)
			st.Workloads[0].Containers[0].Current.Liveness = &tuningv1alpha1.ProbeValues{FailureThreshold: 6}
		}, now.Add(-time.Second), 0},
		{"a container more: now", func(st *tuningv1alpha1.ProbePolicyStatus) {
			st.Workloads[0].Containers = append(st.Workloads[0].Containers, tuningv1alpha1.ContainerSummary{Name: "sidecar"})
		}, now.Add(-time.Second), 0},
		{"nothing changes: no wait (and no patch, which the caller skips)", func(*tuningv1alpha1.ProbePolicyStatus) {}, now.Add(-time.Second), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev, next := base(), base()
			tt.change(&next)
			if got := PatchWait(prev, next, tt.lastPatch, now); got != tt.want {
				t.Errorf("PatchWait = %v, want %v", got, tt.want)
			}
		})
	}
}

// BenchmarkPatchWait runs on every reconcile of a policy whose figures moved: a policy of 10 workloads.
func BenchmarkPatchWait(b *testing.B) {
	now := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	status := func(kills int32) tuningv1alpha1.ProbePolicyStatus {
		st := tuningv1alpha1.ProbePolicyStatus{Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Observing"}}}
		for i := range 10 {
			st.Workloads = append(st.Workloads, tuningv1alpha1.WorkloadSummary{Name: "w" + string(rune('a'+i)), State: tuningv1alpha1.WorkloadState(StateObserving),
				Message: "observing", Containers: []tuningv1alpha1.ContainerSummary{
					{Name: "app", Observed: tuningv1alpha1.ObservedSignals{LivenessKills: kills, StartupP99: &metav1.Duration{Duration: time.Minute}},
						Current: tuningv1alpha1.ProbeSet{Liveness: &tuningv1alpha1.ProbeValues{PeriodSeconds: 10, FailureThreshold: 3}}},
				}})
		}
		return st
	}
	prev, next := status(1), status(2)
	b.ReportAllocs()
	for b.Loop() {
		if PatchWait(prev, next, now.Add(-time.Second), now) == 0 {
			b.Fatal("figures only: should wait")
		}
	}
}
