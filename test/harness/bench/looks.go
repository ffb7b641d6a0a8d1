package bench

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// benchPolicy is the name of the ProbePolicy the tuned run acts for, as its last-change annotation records it.
const benchPolicy = "probebench"

// Look is one look probe-tuner took at the workload in a tuned run: what it was given, and what it decided.
type Look struct {
	// Input is the look as tuner.StepWorkload got it; its pods, Events and Deployment are copies.
	Input tuner.WorkloadLook
	// Pods are the API Pods Input's observation view was built from (copies), for replaying the look through
	// the operator's pod store.
	Pods []*corev1.Pod
	// Outcome is what the look decided, the write (its records, its state change) included.
	Outcome tuner.Outcome
}

// TunedLooks runs the scenario's tuned run and returns every look probe-tuner took, in order: tests replay them
// through the operator to check that it decides what the benchmark measured.
func TunedLooks(sc *Scenario) ([]Look, error) {
	var looks []Look
	if _, err := runScenario(sc, runOptions{tune: true, look: func(l Look) { looks = append(looks, l) }}); err != nil {
		return nil, err
	}
	return looks, nil
}

// copyLook copies what the simulation changes later: the pods the look was built from (their status is
// refreshed in place), with the observation view rebuilt from the copies, and the Deployment (a write changes
// its template and annotations).
func copyLook(in tuner.WorkloadLook, pods []*corev1.Pod) Look {
	out := in
	copies := make([]*corev1.Pod, len(pods))
	for i, p := range pods {
		copies[i] = p.DeepCopy()
	}
	out.Observe.Pods = observe.FromAPIPods(copies)
	out.Observe.Events = append(in.Observe.Events[:0:0], in.Observe.Events...)
	out.Deployment = in.Deployment.DeepCopy()
	return Look{Input: out, Pods: copies}
}
