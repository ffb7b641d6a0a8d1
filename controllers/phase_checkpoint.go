package controllers

import (
	"context"
	"time"
)

// reconcileCheckpoint is the checkpoint phase: the policy's state is written when it changed in a way worth
// keeping at once, or the last write is old. A write that fails is no error (the policy keeps its resync rather
// than the error back-off): the store keeps why, and the status shows it in the CheckpointWritten condition. It runs only once the status holds the decisions the state
// records: an operator that dies before then finds the written change on the Deployment and adopts it, and the
// decision is recorded after all.
func (r *ProbePolicyReconciler) reconcileCheckpoint(ctx context.Context, sc *policyScope) error {
	if sc.skipCheckpoint {
		return nil
	}
	changed := sc.historyChanged
	for _, o := range sc.outcomes {
		changed = changed || o.changed
	}
	before := r.States.Failure(sc.key)
	err := r.States.Save(ctx, sc.policy, sc.now, changed)
	if after := r.States.Failure(sc.key); (before == nil) != (after == nil) || before != nil && after != nil && before.Reason != after.Reason {
		// The status just patched says otherwise: show the change soon rather than at the next resync.
		sc.requeue.within(checkpointConditionDelay)
	}
	if due := r.States.SaveDue(sc.key); !due.IsZero() {
		sc.requeue.within(max(due.Sub(sc.now), minRequeue))
	}
	return err
}

// checkpointConditionDelay is how soon the status is brought up to date after a checkpoint write started or
// stopped failing (the status phase runs before the checkpoint phase).
const checkpointConditionDelay = time.Second
