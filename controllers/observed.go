package controllers

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/podstore"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// The pod store keeps compact records for memory and knows nothing of observation; observation reads its own
// view of a pod and knows nothing of informers. The conversion between the two lives here, where both are
// already used, so that the dependencies stay one-way: controllers -> observe, controllers -> podstore.

// observedPods builds observation's view of the pod store's records, in the order given. App containers come
// before native sidecars, each in the record's order, as observation folds them.
func observedPods(recs []*podstore.Pod) []observe.Pod {
	out := make([]observe.Pod, len(recs))
	for i, r := range recs {
		p := observe.Pod{Name: r.Name, UID: r.UID, Revision: r.TemplateHash, Created: r.Created, Deleting: !r.Deleting.IsZero(),
			Ready: r.Ready == corev1.ConditionTrue, ReadySince: r.ReadySince, Containers: make([]observe.Container, 0, len(r.Containers))}
		for _, sidecars := range []bool{false, true} {
			for j := range r.Containers {
				if c := &r.Containers[j]; c.Sidecar == sidecars {
					p.Containers = append(p.Containers, observedContainer(c))
				}
			}
		}
		out[i] = p
	}
	return out
}

// observedContainer builds observation's view of one container record. The record keeps no grace periods, so
// the view leaves the probes' and the pod's to their defaults.
func observedContainer(c *podstore.Container) observe.Container {
	out := observe.Container{Name: c.Name, Sidecar: c.Sidecar}
	for _, k := range probes.Kinds {
		if c.HasProbe.Get(k) {
			out.Probes.Set(k, &observe.Probe{Values: c.Probes.Get(k)})
		}
	}
	if !c.HasStatus {
		return out
	}
	out.Status = &observe.ContainerStatus{Ready: c.Ready, Started: c.StartedKnown && c.Started, RestartCount: c.RestartCount,
		ContainerID: c.ContainerID, Running: c.Running, RunningSince: c.RunningSince}
	if c.Waiting {
		out.Status.Waiting = c.WaitReason
	}
	if t := c.LastTerm; t != nil {
		out.Status.LastTermination = &observe.Termination{ExitCode: t.ExitCode, Reason: t.Reason, ContainerID: t.ContainerID,
			StartedAt: t.StartedAt, FinishedAt: t.FinishedAt}
	}
	return out
}

// observedEvents converts the pod store's Event records for observation.
func observedEvents(recs []*podstore.Event) []observe.KubeletEvent {
	out := make([]observe.KubeletEvent, len(recs))
	for i, e := range recs {
		out[i] = observe.KubeletEvent{ID: e.ID, Count: e.Count, Pod: e.Pod, Container: e.Container, Reason: e.Reason, Message: e.Message, Time: e.Time}
	}
	return out
}
