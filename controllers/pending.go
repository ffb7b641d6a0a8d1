package controllers

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// pendingQueue holds, per policy, the decisions not yet in its status: a
// status patch that fails (a conflict, the API server away) must not lose them. It is in memory: an operator
// that restarts before the status holds them finds the written change on the Deployment and adopts it (see
// tuner.StepWorkload), which is why a checkpoint is written only once the status holds what it records.
type pendingQueue struct {
	mu       sync.Mutex
	policies map[types.NamespacedName]*pendingDecisions
}

type pendingDecisions struct {
	decisions []tuningv1alpha1.Decision
}

// Add queues decisions for the policy's status and returns everything queued so far, oldest first. (The count
// of changes applied is not queued: it is recomputed from the workloads' states on every reconcile.)
func (q *pendingQueue) Add(key types.NamespacedName, decisions []tuningv1alpha1.Decision) []tuningv1alpha1.Decision {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.policies == nil {
		q.policies = map[types.NamespacedName]*pendingDecisions{}
	}
	p := q.policies[key]
	if p == nil {
		p = &pendingDecisions{}
		q.policies[key] = p
	}
	p.decisions = append(p.decisions, decisions...)
	return append([]tuningv1alpha1.Decision(nil), p.decisions...)
}

// Clear forgets what was queued for the policy once its status holds it, or the policy is gone.
func (q *pendingQueue) Clear(key types.NamespacedName) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.policies, key)
}
