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

// onlyObservedChanged says whether the two statuses differ, and only in their containers' observed figures. It
// compares level by level on shallow copies with the lists below cleared: it runs on every reconcile, and a deep
// copy of both statuses was most of what it allocated.
func onlyObservedChanged(prev, next tuningv1alpha1.ProbePolicyStatus) bool {
	if len(prev.Workloads) != len(next.Workloads) {
		return false
	}
	pt, nt := prev, next
	pt.Workloads, nt.Workloads = nil, nil
	if !equality.Semantic.DeepEqual(pt, nt) {
		return false
	}
	observedMoved := false
	for i := range prev.Workloads {
		pw, nw := prev.Workloads[i], next.Workloads[i]
		if len(pw.Containers) != len(nw.Containers) {
			return false
		}
		pw.Containers, nw.Containers = nil, nil
		if !equality.Semantic.DeepEqual(pw, nw) {
			return false
		}
		for j := range prev.Workloads[i].Containers {
			pc, nc := prev.Workloads[i].Containers[j], next.Workloads[i].Containers[j]
			observedMoved = observedMoved || !equality.Semantic.DeepEqual(pc.Observed, nc.Observed)
			pc.Observed, nc.Observed = tuningv1alpha1.ObservedSignals{}, tuningv1alpha1.ObservedSignals{}
			if !equality.Semantic.DeepEqual(pc, nc) {
				return false
			}
		}
	}
	return observedMoved
}
