package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// A status edited by hand, then an operator restart: the decisions shown come from probe-tuner's checkpointed
// history (the one real change, once), not from the 20 forged entries; lastDecision, changesApplied and the
// conditions are recomputed, and a condition added by hand is gone.
func TestHandEditedStatusIsRecomputedFromTheHistory(t *testing.T) {
	w := makeFakeWorld(t)
	var n calls
	r, c := w.reconciler(t, countingFuncs(&n, nil, nil))
	mustReconcile(t, r)
	want := policyStatus(t, c).Decisions
	if n.applies != 1 || appliedDecisions(policyStatus(t, c)) == 0 {
		t.Fatalf("setup: %d applies, decisions %+v: want one applied change", n.applies, want)
	}
	var cm corev1.ConfigMap
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "shop", Name: checkpointName("caches")}, &cm); err != nil {
		t.Fatal(err)
	}
	if cp, err := decodeCheckpoint([]byte(cm.Data[checkpointKey])); err != nil || !cp.history || len(cp.Decisions) != len(want) {
		t.Fatalf("checkpoint history %+v (%v): want the %d decisions the status shows", cp.Decisions, err, len(want))
	}

	var pol tuningv1alpha1.ProbePolicy
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(w.policy), &pol); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(pol.DeepCopy())
	pol.Status.ChangesApplied = -5
	pol.Status.Decisions = nil
	for i := range 20 {
		pol.Status.Decisions = append(pol.Status.Decisions, tuningv1alpha1.Decision{Time: metav1.NewTime(testNow.Add(-time.Duration(i) * time.Minute)),
			Workload: fmt.Sprintf("forged-%d", i), Container: "app", Probe: tuningv1alpha1.ProbeLiveness, Field: "failureThreshold", From: "3", To: "6",
			Action: tuningv1alpha1.DecisionApplied, Reason: "ByHand"})
	}
	pol.Status.Conditions = append(pol.Status.Conditions, metav1.Condition{Type: "Hacked", Status: metav1.ConditionTrue, Reason: "ByHand",
		LastTransitionTime: metav1.NewTime(testNow)})
	if err := c.Status().Patch(context.Background(), &pol, patch); err != nil {
		t.Fatal(err)
	}

	// A restart: nothing in memory, the checkpoint and the edited status in the API.
	r2, _ := w.reconciler(t, countingFuncs(&n, nil, nil))
	r2.Client, r2.APIReader = c, c
	r2.States = &StateStore{Reader: c, Writer: ClientCheckpointWriter{Client: c}}
	mustReconcile(t, r2)
	got := policyStatus(t, c)
	for _, d := range got.Decisions {
		if strings.HasPrefix(d.Workload, "forged-") {
			t.Fatalf("forged decision %+v shown after the restart", d)
		}
	}
	if len(got.Decisions) != len(want) || got.ChangesApplied != 1 || !strings.Contains(got.LastDecision, "cache/app") {
		t.Errorf("decisions %d (want %d), changesApplied %d (want 1), lastDecision %q", len(got.Decisions), len(want), got.ChangesApplied, got.LastDecision)
	}
	if meta.FindStatusCondition(got.Conditions, "Hacked") != nil {
		t.Errorf("conditions %+v: the hand-added condition stayed", got.Conditions)
	}
}

// A checkpoint from before the history (version 1) takes the status' decisions once, as they are, and writes
// them into the history: upgrading probe-tuner keeps what users saw.
func TestVersion1CheckpointTakesTheStatusHistoryOnce(t *testing.T) {
	w := makeFakeWorld(t)
	old := tuningv1alpha1.Decision{ID: "d-old", Time: metav1.NewTime(testNow.Add(-2 * time.Hour)), Workload: "cache", Container: "app",
		Probe: tuningv1alpha1.ProbeLiveness, Field: "failureThreshold", From: "3", To: "5", Action: tuningv1alpha1.DecisionApplied, Reason: "Earlier"}
	w.policy.Status.Decisions = []tuningv1alpha1.Decision{old}
	cm := w.objects[3].(*corev1.ConfigMap)
	cm.Data[checkpointKey] = `{"version":1,"workloads":` + cm.Data[checkpointKey] + `}`
	var n calls
	r, c := w.reconciler(t, countingFuncs(&n, nil, nil))
	mustReconcile(t, r)
	got := policyStatus(t, c).Decisions
	if len(got) < 2 || got[len(got)-1].ID != "d-old" {
		t.Fatalf("decisions %+v: want the new ones first and the status' old one kept", got)
	}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(cm), cm); err != nil {
		t.Fatal(err)
	}
	cp, err := decodeCheckpoint([]byte(cm.Data[checkpointKey]))
	if err != nil || cp.Version != checkpointVersion || len(cp.Decisions) != len(got) {
		t.Errorf("checkpoint version %d with %d decisions (%v): want version %d holding the %d shown", cp.Version, len(cp.Decisions), err, checkpointVersion, len(got))
	}
}
