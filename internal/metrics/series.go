package metrics

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// ActionLabel is the action label of Adjustments for a decision's action: its word in lower case ("applied",
// "reverted", "recommended").
func ActionLabel(a tuningv1alpha1.DecisionAction) string { return strings.ToLower(string(a)) }

// perWorkload are the metric vectors with a series per workload, labelled namespace and workload.
var perWorkload = []interface {
	DeletePartialMatch(prometheus.Labels) int
}{StartupDuration, Restarts, ReadyTransitions, Adjustments, Reverts}

// ForgetWorkload removes every series of a workload that is no longer tuned (no longer selected, or its policy
// deleted): the counters, the startup histogram and the probe and finding gauges.
func ForgetWorkload(namespace, workload string) {
	for _, v := range perWorkload {
		v.DeletePartialMatch(prometheus.Labels{"namespace": namespace, "workload": workload})
	}
	WorkloadsShown.Forget(namespace, workload)
}

// selectedModes remembers the mode each policy's selected count is shown under, so that a change of mode
// removes exactly that series: a partial-match delete scans every policy's series, on every reconcile of every
// policy.
var selectedModes = struct {
	sync.Mutex
	byPolicy map[[2]string]string
}{byPolicy: map[[2]string]string{}}

// SetSelected shows how many Deployments a policy selects, under its current mode only: the series of the mode
// it had before goes.
func SetSelected(namespace, policy string, mode tuningv1alpha1.Mode, n int) {
	key := [2]string{namespace, policy}
	selectedModes.Lock()
	before, known := selectedModes.byPolicy[key]
	selectedModes.byPolicy[key] = string(mode)
	selectedModes.Unlock()
	if known && before != string(mode) {
		SelectedWorkloads.DeleteLabelValues(namespace, policy, before)
	}
	SelectedWorkloads.WithLabelValues(namespace, policy, string(mode)).Set(float64(n))
}

// ForgetPolicy removes the series of a deleted policy.
func ForgetPolicy(namespace, policy string) {
	selectedModes.Lock()
	delete(selectedModes.byPolicy, [2]string{namespace, policy})
	selectedModes.Unlock()
	SelectedWorkloads.DeletePartialMatch(prometheus.Labels{"namespace": namespace, "policy": policy})
}
