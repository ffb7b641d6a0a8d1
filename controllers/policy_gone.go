package controllers

import (
	"k8s.io/apimachinery/pkg/types"

	"github.com/probetuner/probe-tuner/internal/metrics"
)

// policyGone forgets a deleted policy. Its workloads are left as they are; only what probe-tuner kept about them
// goes: their states, the decisions queued for the policy's status, their metric series and the policy's own.
func (r *ProbePolicyReconciler) policyGone(key types.NamespacedName) {
	for _, name := range r.States.Forget(key) {
		metrics.ForgetWorkload(key.Namespace, name)
	}
	r.pending.Clear(key)
	r.looks.forgetPolicy(key)
	r.statusPatched.forget(key)
	metrics.ForgetPolicy(key.Namespace, key.Name)
	r.index.deletePolicy(key)
}
