package controllers

import (
	"github.com/probetuner/probe-tuner/internal/metrics"
)

// forgetUnselected stops tracking the workloads the policy no longer selects, and removes their metric series;
// they are left as they are. The policy's selected count is shown under its current mode only.
func (r *ProbePolicyReconciler) forgetUnselected(sc *policyScope) {
	selected := make(map[string]bool, len(sc.deployments))
	for _, d := range sc.deployments {
		selected[d.Name] = true
	}
	r.looks.prune(sc.key, selected)
	for _, name := range r.States.Prune(sc.key, selected) {
		metrics.ForgetWorkload(sc.key.Namespace, name)
	}
	metrics.SetSelected(sc.key.Namespace, sc.key.Name, sc.settings.Mode, len(sc.deployments))
}
