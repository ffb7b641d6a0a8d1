package status

import (
	"time"

	"k8s.io/apimachinery/pkg/api/equality"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// ObservedRefresh is how often a status whose only change is in the observed figures is patched. Those figures
// (restart counts, start percentiles, flapping rates) move with nearly every pod update, and a patch of the policy
// for each costs a write, a watch event to every watcher of the policy and the decoding of both: on a busy
// cluster the largest part of probe-tuner's CPU. A change of state, message, probes, recommendation, decision or
// condition is patched at once; the metrics carry the live figures.
const ObservedRefresh = 30 * time.Second

// PatchWait says how long to hold back the patch from prev to next, zero to patch now: a change only in the
// observed figures waits until ObservedRefresh has passed since lastPatch (the zero time: never patched by this
// process), anything else does not wait.
func PatchWait(prev, next tuningv1alpha1.ProbePolicyStatus, lastPatch, now time.Time) time.Duration {
	if lastPatch.IsZero() || !onlyObservedChanged(prev, next) {
		return 0
	}
	return max(lastPatch.Add(ObservedRefresh).Sub(now), 0)
}

// onlyObservedChanged says whether the two statuses differ, and only in their containers' observed figures.
func onlyObservedChanged(prev, next tuningv1alpha1.ProbePolicyStatus) bool {
	if equality.Semantic.DeepEqual(prev, next) {
		return false
	}
	return equality.Semantic.DeepEqual(withoutObserved(prev), withoutObserved(next))
}

func withoutObserved(st tuningv1alpha1.ProbePolicyStatus) tuningv1alpha1.ProbePolicyStatus {
	out := *st.DeepCopy()
	for i := range out.Workloads {
		for j := range out.Workloads[i].Containers {
			out.Workloads[i].Containers[j].Observed = tuningv1alpha1.ObservedSignals{}
		}
	}
	return out
}
