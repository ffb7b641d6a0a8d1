package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/status"
)

// reconcileStatus is the status phase: the status is computed once from the workloads' outcomes (what actually
// happened to each) and the decisions still queued, and patched once. The decisions stay queued until a patch
// succeeds; a patch that loses a race asks for a retry soon and is no error. When no workload could be looked at
// and nothing is queued, there is nothing new to show and the status is left as it is.
func (r *ProbePolicyReconciler) reconcileStatus(ctx context.Context, sc *policyScope) error {
	pol := sc.policy
	in := status.Input{Previous: pol.Status, Generation: pol.Generation, Mode: sc.settings.Mode, SpecError: sc.specErr, Now: sc.now,
		Checkpoint: r.States.Failure(sc.key)}
	looked := len(sc.outcomes) == 0
	for _, o := range sc.outcomes {
		in.Workloads = append(in.Workloads, o.summary)
		in.NewDecision = append(in.NewDecision, o.decisions...)
		looked = looked || o.looked
	}
	in.ChangesApplied = sc.changesApplied()
	history, own := r.States.History(sc.key)
	if !own {
		// The checkpoint was written by a release that kept no history in it: the status is taken as it once.
		history = pol.Status.Decisions
	}
	in.History = history
	in.NewDecision = r.pending.Add(sc.key, in.NewDecision)
	if !looked && len(in.NewDecision) == 0 {
		sc.skipCheckpoint = true
		return nil
	}
	st := status.Compute(in)
	if len(in.NewDecision) == 0 {
		if wait := status.PatchWait(pol.Status, st, r.statusPatched.last(sc.key), sc.now); wait > 0 {
			// Only observed figures moved, and the status was patched a moment ago: they are shown at the next
			// refresh, which this requeue brings even when nothing else happens.
			sc.requeue.within(wait)
			return nil
		}
	}
	patched, err := r.patchStatus(ctx, pol, st)
	if err != nil {
		sc.skipCheckpoint = true
		if apierrors.IsConflict(err) {
			// The cached policy is older than the status written last: try again soon on a fresh copy, with the
			// decisions still queued.
			sc.requeue.within(retryAfterLostRace)
			return nil
		}
		return err
	}
	r.pending.Clear(sc.key)
	if patched {
		r.statusPatched.patched(sc.key, sc.now)
	}
	r.States.SetHistory(sc.key, st.Decisions)
	sc.historyChanged = len(in.NewDecision) > 0 || !own
	return nil
}

// patchStatus writes the status when it changed and says whether it wrote. The status is probe-tuner's alone and
// computed whole, so it is written whole (an update of the status subresource, guarded by the resourceVersion the
// status was computed from): no merge patch to compute from two copies, which cost more than the write itself.
func (r *ProbePolicyReconciler) patchStatus(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, st tuningv1alpha1.ProbePolicyStatus) (bool, error) {
	if equality.Semantic.DeepEqual(st, pol.Status) {
		return false, nil
	}
	pol.Status = st
	if err := r.statusWriter().WriteStatus(ctx, pol); err != nil {
		return false, fmt.Errorf("writing the status of ProbePolicy %s/%s: %w", pol.Namespace, pol.Name, err)
	}
	return true, nil
}

// statusWriter is StatusWriter, or the reconciler's client when none is set.
func (r *ProbePolicyReconciler) statusWriter() StatusWriter {
	if r.StatusWriter != nil {
		return r.StatusWriter
	}
	return clientStatusWriter{c: r.Client}
}

// changesApplied sums the changes the policy wrote to the Deployments it selects, from their states: each state
// counts its own writes and takes the count back from the Deployment after a lost checkpoint, so the sum is
// recomputed on every reconcile and never accumulated onto the stored status.
func (sc *policyScope) changesApplied() int64 {
	var n int64
	for i := range sc.deployments {
		if ws := sc.states[sc.deployments[i].Name]; ws != nil {
			n += max(ws.ChangesApplied, 0)
		}
	}
	return n
}
