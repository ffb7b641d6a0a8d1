package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

func TestCorruptCheckpointIsEventedAndStartsAfresh(t *testing.T) {
	w := makeFakeWorld(t)
	w.objects[3].(*corev1.ConfigMap).Data[checkpointKey] = `{"cache": {"observation": [`
	var n calls
	r, c := w.reconciler(t, countingFuncs(&n, nil, nil))
	events := &eventLog{}
	r.States.Recorder = events
	if _, err := reconcileOnce(t, r); err != nil {
		t.Fatalf("a corrupt checkpoint must not fail the reconcile: %v", err)
	}
	got := events.with(EventCheckpointUnreadable)
	if len(got) != 1 || !strings.HasPrefix(got[0], corev1.EventTypeWarning) || !strings.Contains(got[0], "reset") || !strings.Contains(got[0], checkpointName("caches")) {
		t.Fatalf("events %v: want one Warning %s naming the ConfigMap and saying the state was reset", events.events, EventCheckpointUnreadable)
	}
	// Afresh: the killed starts the corrupt checkpoint held are not known, so nothing is changed yet.
	if n.applies != 0 {
		t.Errorf("%d applies on evidence from a checkpoint that could not be read", n.applies)
	}
	ws := r.States.policies[types.NamespacedName{Namespace: "shop", Name: "caches"}].workloads["cache"]
	if ws == nil || ws.LastChange != nil || ws.Observation.Containers["app"] != nil && ws.Observation.Containers["app"].Censored.Weight() != 0 {
		t.Errorf("state %+v: want the workload tracked afresh", ws)
	}
	// The checkpoint written next is a readable, versioned one.
	var cm corev1.ConfigMap
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "shop", Name: checkpointName("caches")}, &cm); err != nil {
		t.Fatal(err)
	}
	if raw := cm.Data[checkpointKey]; !strings.HasPrefix(raw, `{"version":2,`) {
		t.Errorf("checkpoint after the reset = %.80s..., want the versioned form", raw)
	} else if _, err := decodeCheckpoint([]byte(raw)); err != nil {
		t.Error(err)
	}
}

func TestCheckpointFormats(t *testing.T) {
	at := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	states := map[string]*tuner.WorkloadState{
		"cache":   {LastChange: &tuner.ChangeRecord{ID: "d-1", Time: at, FromRevision: "h1"}, LastFindings: "app/StuckNotReady"},
		"version": {Observation: observe.State{Containers: map[string]*observe.ContainerState{"app": {ReadyTransitions: 3}}}},
	}
	raw, err := encodeCheckpoint(states, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), `{"version":2,"workloads":{`) {
		t.Fatalf("encoded %s: want the versioned form", raw)
	}
	check := func(name string, cp checkpoint, err error) {
		t.Helper()
		got := cp.Workloads
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != 2 || got["cache"].LastChange.ID != "d-1" || !got["cache"].LastChange.Time.Equal(at) || got["cache"].LastFindings != "app/StuckNotReady" ||
			got["version"].Observation.Containers["app"].ReadyTransitions != 3 {
			t.Errorf("%s: decoded %+v, want the states written", name, got)
		}
	}
	got, err := decodeCheckpoint(raw)
	check("round trip", got, err)

	// The unversioned form users have: the workloads map alone, even with a Deployment named "version".
	legacy := `{"cache":{"observation":{},"lastChange":{"id":"d-1","time":"2026-06-01T10:00:00Z","fromRevision":"h1","changes":null},"lastFindings":"app/StuckNotReady"},` +
		`"version":{"observation":{"containers":{"app":{"readyTransitions":3}}}}}`
	got, err = decodeCheckpoint([]byte(legacy))
	check("legacy", got, err)
	if got.history {
		t.Error("an unversioned checkpoint decoded as holding the decision history")
	}
	v1 := `{"version":1,"workloads":` + legacy + `}`
	got, err = decodeCheckpoint([]byte(v1))
	check("version 1", got, err)
	if got.history {
		t.Error("a version 1 checkpoint decoded as holding the decision history")
	}

	for name, bad := range map[string]string{"not JSON": `{"cache":`, "unknown version": `{"version":7,"workloads":{}}`, "not an object": `[1]`} {
		if _, err := decodeCheckpoint([]byte(bad)); err == nil {
			t.Errorf("%s: decoded without an error", name)
		}
	}
}

func TestCheckpointTooLargeIsNotWritten(t *testing.T) {
	w := makeFakeWorld(t)
	var n calls
	r, c := w.reconciler(t, countingFuncs(&n, nil, nil))
	events := &eventLog{}
	r.States.Recorder, r.States.MaxBytes = events, 64
	for range 2 {
		if _, err := reconcileOnce(t, r); err != nil {
			t.Fatalf("an oversized state must not fail the reconcile: %v", err)
		}
	}
	if got := events.with(EventCheckpointTooLarge); len(got) != 1 {
		t.Errorf("events %v: want one %s", events.events, EventCheckpointTooLarge)
	}
	var cm corev1.ConfigMap
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "shop", Name: checkpointName("caches")}, &cm); err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(cm.Data[checkpointKey], `{"version"`) {
		t.Errorf("the oversized state was written")
	}
	if cond := meta.FindStatusCondition(policyStatus(t, c).Conditions, tuningv1alpha1.ConditionCheckpointWritten); cond == nil ||
		cond.Status != metav1.ConditionFalse || cond.Reason != EventCheckpointTooLarge {
		t.Errorf("condition %s = %+v, want False %s", tuningv1alpha1.ConditionCheckpointWritten, cond, EventCheckpointTooLarge)
	}
}

// A readable checkpoint whose state for one workload holds absurd values (negative kills, a count of 2^31-1, a
// weight of 1e308): that workload starts afresh, with a Warning Event naming it and what was wrong, and its
// forged counts reach neither the status nor a decision; the other workload keeps its state.
func TestCheckpointOutOfBoundsIsDroppedPerWorkload(t *testing.T) {
	w := makeFakeWorldOf(t, "cache", "web")
	cm := w.objects[len(w.objects)-1].(*corev1.ConfigMap)
	cp, err := decodeCheckpoint([]byte(cm.Data[checkpointKey]))
	if err != nil {
		t.Fatal(err)
	}
	states := cp.Workloads
	forged := states["web"]
	forged.Observation.Containers["app"].Restarts[observe.CauseLiveness] = -100
	forged.Observation.Revisions[0].Containers["app"].KillsBeforeReady = 2147483647
	forged.Observation.Containers["app"].Censored.Buckets[5] = 1e308
	raw, err := encodeCheckpoint(states, cp.Decisions)
	if err != nil {
		t.Fatal(err)
	}
	cm.Data[checkpointKey] = string(raw)

	var n calls
	r, c := w.reconciler(t, countingFuncs(&n, nil, nil))
	events := &eventLog{}
	r.States.Recorder = events
	if _, err := reconcileOnce(t, r); err != nil {
		t.Fatalf("an out-of-bounds checkpoint must not fail the reconcile: %v", err)
	}
	got := events.with(EventCheckpointInvalid)
	if len(got) != 1 || !strings.HasPrefix(got[0], corev1.EventTypeWarning) || !strings.Contains(got[0], "web (") ||
		!strings.Contains(got[0], "web (observation: ") || strings.Contains(got[0], "cache (") {
		t.Fatalf("events %v: want one Warning %s naming web and what was wrong, and not cache", events.events, EventCheckpointInvalid)
	}
	workloads := r.States.policies[types.NamespacedName{Namespace: "shop", Name: "caches"}].workloads
	if cs := workloads["cache"].Observation.Containers["app"]; cs == nil || cs.Censored.Weight() == 0 {
		t.Errorf("cache lost its valid state: %+v", workloads["cache"])
	}
	if ws := workloads["web"]; ws != nil && ws.Observation.Containers["app"] != nil && ws.Observation.Containers["app"].Restarts[observe.CauseLiveness] != 0 {
		t.Errorf("web kept forged counts: %+v", ws.Observation.Containers["app"])
	}
	for _, s := range policyStatus(t, c).Workloads {
		for _, cs := range s.Containers {
			if cs.Observed.LivenessKills < 0 {
				t.Errorf("status shows %s/%s livenessKills %d", s.Name, cs.Name, cs.Observed.LivenessKills)
			}
		}
	}
}

// A checkpoint the API server refuses to write: the reconcile is no error (the policy keeps its resync instead
// of the error back-off), one Warning Event says so however often it fails, and the status shows it in
// CheckpointWritten=False with Ready=False; once a write succeeds both are True again.
func TestCheckpointWriteFailureIsShownAndKeepsTheResync(t *testing.T) {
	w := makeFakeWorld(t)
	var n calls
	refuse := true
	funcs := countingFuncs(&n, nil, nil)
	pass := funcs.Apply
	funcs.Apply = func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
		if _, ok := obj.(*corev1ac.ConfigMapApplyConfiguration); ok && refuse {
			return apierrors.NewRequestEntityTooLargeError("limit is 1048576")
		}
		return pass(ctx, c, obj, opts...)
	}
	r, c := w.reconciler(t, funcs)
	events := &eventLog{}
	r.States.Recorder = events
	for i := range 3 {
		res, err := reconcileOnce(t, r)
		if err != nil {
			t.Fatalf("reconcile %d: a checkpoint that cannot be written must not fail the reconcile (back-off replaces the resync): %v", i, err)
		}
		if res.RequeueAfter <= 0 || res.RequeueAfter > checkpointInterval {
			t.Errorf("reconcile %d: requeue after %s, want at most the %s checkpoint interval: the write is tried again", i, res.RequeueAfter, checkpointInterval)
		}
	}
	if got := events.with(EventCheckpointNotWritten); len(got) != 1 || !strings.HasPrefix(got[0], corev1.EventTypeWarning) || !strings.Contains(got[0], "limit is 1048576") {
		t.Errorf("events %v: want one Warning %s with the API error", events.events, EventCheckpointNotWritten)
	}
	st := policyStatus(t, c)
	written := meta.FindStatusCondition(st.Conditions, tuningv1alpha1.ConditionCheckpointWritten)
	ready := meta.FindStatusCondition(st.Conditions, tuningv1alpha1.ConditionReady)
	if written == nil || written.Status != metav1.ConditionFalse || written.Reason != EventCheckpointNotWritten || written.ObservedGeneration != 1 ||
		!strings.Contains(written.Message, "limit is 1048576") {
		t.Errorf("condition %s = %+v, want False %s with the error", tuningv1alpha1.ConditionCheckpointWritten, written, EventCheckpointNotWritten)
	}
	if ready == nil || ready.Status != metav1.ConditionFalse {
		t.Errorf("Ready = %+v, want False while the checkpoint is not written", ready)
	}

	refuse = false
	r.Clock = clocktesting.NewFakePassiveClock(testNow.Add(time.Minute))
	for range 2 {
		if _, err := reconcileOnce(t, r); err != nil {
			t.Fatal(err)
		}
	}
	st = policyStatus(t, c)
	if written := meta.FindStatusCondition(st.Conditions, tuningv1alpha1.ConditionCheckpointWritten); written == nil || written.Status != metav1.ConditionTrue {
		t.Errorf("after a successful write %s = %+v, want True", tuningv1alpha1.ConditionCheckpointWritten, written)
	}
	if ready := meta.FindStatusCondition(st.Conditions, tuningv1alpha1.ConditionReady); ready == nil || ready.Status != metav1.ConditionTrue {
		t.Errorf("after a successful write Ready = %+v, want True", ready)
	}
}
