package controllers

import (
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

// retryAfterLostRace is how soon a policy is looked at again after one of its writes (a Deployment's, or its own
// status) lost a race with another writer.
const retryAfterLostRace = time.Second

// requeueAfter collects when the policy wants to be looked at again: the shortest wait asked for wins. None
// asked for (a policy with no workloads, or Off) means only a change brings it back.
type requeueAfter struct {
	now time.Time
	// after is the shortest wait asked for; zero when none was.
	after time.Duration
}

// within asks for another look within d.
func (q *requeueAfter) within(d time.Duration) {
	if d > 0 && (q.after == 0 || d < q.after) {
		q.after = d
	}
}

// workload asks for what a workload's outcome needs: soon after a lost race, and at the workload's next look
// (tuner.NextLook: the earliest moment something about it changes with time alone, a little past it so that
// the look then finds it passed, and at most tuner.SafetyLookInterval away).
func (q *requeueAfter) workload(w workloadOutcome) {
	if w.retry {
		q.within(retryAfterLostRace)
	}
	if !w.nextLook.IsZero() {
		q.within(max(w.nextLook.Sub(q.now), minRequeue))
	}
}

// minRequeue is the least wait asked for a next look that is already due.
const minRequeue = 10 * time.Millisecond

// result is the reconcile's result.
func (q *requeueAfter) result() ctrl.Result { return ctrl.Result{RequeueAfter: q.after} }
