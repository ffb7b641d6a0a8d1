package observe

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// Pod is what observation reads of a Pod, and nothing more. Observation owns this view rather than reading
// corev1.Pod so that a compact cache can feed it without rebuilding an API object per look: the operator builds
// it from its pod store's records (in controllers, which depends on both; neither this package nor the store
// knows the other), the benchmark and tests from API Pods with FromAPIPod.
type Pod struct {
	Name string
	UID  types.UID
	// Revision is the pod's pod-template-hash label.
	Revision string
	// Created is the pod's creation timestamp; zero when unknown.
	Created time.Time
	// Deleting says the pod has a deletion timestamp.
	Deleting bool
	// Ready says the pod's Ready condition is True; ReadySince is that condition's last transition.
	Ready      bool
	ReadySince time.Time
	// TerminationGracePeriodSeconds is the pod's; nil leaves the API default.
	TerminationGracePeriodSeconds *int64
	// Containers are the containers observation follows, app containers first, then native sidecars (plain init
	// containers run once and say nothing about probes). Those with a status are folded in this order.
	Containers []Container
}

// Container is one app container or native sidecar of a Pod: its probes from the spec and its status.
type Container struct {
	Name string
	// Sidecar says it is a native sidecar (an init container with restartPolicy Always).
	Sidecar bool
	// Probes holds the container's probes by kind; nil for a kind it does not have.
	Probes probes.ByKind[*Probe]
	// Status is what the kubelet last reported of the container; nil before it reported anything.
	Status *ContainerStatus
}

// Probe is what observation reads of a probe: when it runs and how long it lets a container fail.
type Probe struct {
	// Values are the probe's timing fields with the API defaults applied.
	probes.Values
	// TerminationGracePeriodSeconds is the probe's own grace period after a kill; nil leaves the pod's.
	TerminationGracePeriodSeconds *int64
}

// ContainerStatus is what observation reads of the kubelet's status of a container.
type ContainerStatus struct {
	Ready bool
	// Started says the kubelet reported the container started (its startup probe, if any, succeeded).
	Started      bool
	RestartCount int32
	ContainerID  string
	// Running says the current instance is running; RunningSince is when it started.
	Running      bool
	RunningSince time.Time
	// Waiting is the reason the container waits (CrashLoopBackOff, ContainerCreating, ...), empty when it is
	// not waiting.
	Waiting string
	// LastTermination is how the previous instance ended; nil when none did.
	LastTermination *Termination
}

// Termination is how a container instance ended.
type Termination struct {
	ExitCode    int32
	Reason      string
	ContainerID string
	StartedAt   time.Time
	FinishedAt  time.Time
}

// FromAPIPod builds the view of an API Pod. Containers follow the status lists' order (the order the kubelet
// reports them in), then the containers without a status, so that folding matches what the kubelet reported.
func FromAPIPod(p *corev1.Pod) Pod {
	out := Pod{Name: p.Name, UID: p.UID, Revision: p.Labels[appsv1.DefaultDeploymentUniqueLabelKey], Created: p.CreationTimestamp.Time, Deleting: p.DeletionTimestamp != nil,
		TerminationGracePeriodSeconds: p.Spec.TerminationGracePeriodSeconds}
	for i := range p.Status.Conditions {
		if c := &p.Status.Conditions[i]; c.Type == corev1.PodReady {
			out.Ready, out.ReadySince = c.Status == corev1.ConditionTrue, c.LastTransitionTime.Time
			break
		}
	}
	specs := make(map[string]*corev1.Container, len(p.Spec.Containers)+len(p.Spec.InitContainers))
	for i := range p.Spec.Containers {
		specs[p.Spec.Containers[i].Name] = &p.Spec.Containers[i]
	}
	for i := range p.Spec.InitContainers {
		if c := &p.Spec.InitContainers[i]; probes.IsNativeSidecar(c) {
			specs[c.Name] = c
		}
	}
	out.Containers = make([]Container, 0, len(specs))
	reported := make(map[string]bool, len(specs))
	for i := range p.Status.ContainerStatuses {
		st := &p.Status.ContainerStatuses[i]
		out.Containers = append(out.Containers, apiContainer(st.Name, specs[st.Name], false, st))
		reported[st.Name] = true
	}
	for i := range p.Spec.Containers {
		if c := &p.Spec.Containers[i]; !reported[c.Name] {
			out.Containers = append(out.Containers, apiContainer(c.Name, c, false, nil))
		}
	}
	for i := range p.Status.InitContainerStatuses {
		st := &p.Status.InitContainerStatuses[i]
		if spec := specs[st.Name]; probes.IsNativeSidecar(spec) { // a plain init container's status is not ours to read
			out.Containers = append(out.Containers, apiContainer(st.Name, spec, true, st))
			reported[st.Name] = true
		}
	}
	for i := range p.Spec.InitContainers {
		if c := &p.Spec.InitContainers[i]; probes.IsNativeSidecar(c) && !reported[c.Name] {
			out.Containers = append(out.Containers, apiContainer(c.Name, c, true, nil))
		}
	}
	return out
}

// FromAPIPods builds the views of API Pods, in order.
func FromAPIPods(pods []*corev1.Pod) []Pod {
	out := make([]Pod, len(pods))
	for i, p := range pods {
		out[i] = FromAPIPod(p)
	}
	return out
}

// apiContainer builds the view of one container from its spec (nil when the pod has none of that name) and its
// status (nil when the kubelet reported none).
func apiContainer(name string, spec *corev1.Container, sidecar bool, st *corev1.ContainerStatus) Container {
	c := Container{Name: name, Sidecar: sidecar}
	if spec != nil {
		set := probes.ContainerSet(spec)
		for _, k := range probes.Kinds {
			if p := set.Get(k); p != nil {
				c.Probes.Set(k, &Probe{Values: probes.Of(p), TerminationGracePeriodSeconds: p.TerminationGracePeriodSeconds})
			}
		}
	}
	if st == nil {
		return c
	}
	c.Status = &ContainerStatus{Ready: st.Ready, Started: st.Started != nil && *st.Started, RestartCount: st.RestartCount, ContainerID: st.ContainerID}
	if r := st.State.Running; r != nil {
		c.Status.Running, c.Status.RunningSince = true, r.StartedAt.Time
	}
	if w := st.State.Waiting; w != nil {
		c.Status.Waiting = w.Reason
	}
	if t := st.LastTerminationState.Terminated; t != nil {
		c.Status.LastTermination = &Termination{ExitCode: t.ExitCode, Reason: t.Reason, ContainerID: t.ContainerID,
			StartedAt: t.StartedAt.Time, FinishedAt: t.FinishedAt.Time}
	}
	return c
}

// container returns the pod's app container of that name, else its native sidecar of that name, else nil.
func (p *Pod) container(name string) *Container {
	var sidecar *Container
	for i := range p.Containers {
		if c := &p.Containers[i]; c.Name == name {
			if !c.Sidecar {
				return c
			}
			if sidecar == nil {
				sidecar = c
			}
		}
	}
	return sidecar
}
