package controllers

import "context"

// reconcileCheckpoint is the checkpoint phase: the policy's state is written when it changed in a way worth
// keeping at once, or the last write is old. It runs only once the status holds the decisions the state
// records: an operator that dies before then finds the written change on the Deployment and adopts it, and the
// decision is recorded after all.
func (r *ProbePolicyReconciler) reconcileCheckpoint(ctx context.Context, sc *policyScope) error {
	if sc.skipCheckpoint {
		return nil
	}
	changed := false
	for _, o := range sc.outcomes {
		changed = changed || o.changed
	}
	return r.States.Save(ctx, sc.policy, sc.now, changed)
}
