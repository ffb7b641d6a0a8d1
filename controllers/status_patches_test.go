package controllers

import (
	"context"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/probetuner/probe-tuner/internal/status"
)

// TestStatusFiguresRefreshedNotPatchedOnEveryLook: once the status is up to date, a look whose only change is
// in the observed figures (here the stored figures were altered, as every pod update alters the computed ones)
// does not patch the status, but asks to come back when the refresh is due, and patches then.
func TestStatusFiguresRefreshedNotPatchedOnEveryLook(t *testing.T) {
	w := makeFakeWorld(t)
	var n calls
	r, c := w.reconciler(t, countingFuncs(&n, nil, nil))
	clock := r.Clock.(*clocktesting.FakeClock)
	// The first looks decide and write; a minute later nothing is left to do.
	mustReconcile(t, r)
	clock.Step(time.Minute)
	mustReconcile(t, r)
	before := n.statusPatches
	if before == 0 {
		t.Fatal("the first looks patched no status")
	}

	alterFigures := func() {
		t.Helper()
		pol := w.policy.DeepCopy()
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(pol), pol); err != nil {
			t.Fatal(err)
		}
		if len(pol.Status.Workloads) == 0 || len(pol.Status.Workloads[0].Containers) == 0 {
			t.Fatalf("no container in status: %+v", pol.Status)
		}
		pol.Status.Workloads[0].Containers[0].Observed.Crashes += 7
		if err := c.Status().Update(context.Background(), pol); err != nil {
			t.Fatal(err)
		}
		n.statusPatches-- // the test's own write, through the same counting client
	}
	alterFigures()
	clock.Step(time.Second)
	res, err := reconcileOnce(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if n.statusPatches != before {
		t.Errorf("a change of figures alone, a second after the last patch, was patched (%d patches, was %d)", n.statusPatches, before)
	}
	if res.RequeueAfter <= 0 || res.RequeueAfter > status.ObservedRefresh {
		t.Errorf("requeue after %v, want within the refresh of %v", res.RequeueAfter, status.ObservedRefresh)
	}

	clock.Step(status.ObservedRefresh)
	mustReconcile(t, r)
	if n.statusPatches != before+1 {
		t.Errorf("the figures were not patched when the refresh was due (%d patches, want %d)", n.statusPatches, before+1)
	}
	if got := policyStatus(t, c).Workloads[0].Containers[0].Observed.Crashes; got >= 7 {
		t.Errorf("the altered figure (crashes %d) is still shown after the refresh", got)
	}
}
