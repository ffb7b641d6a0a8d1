// Package podstore keeps what probe-tuner reads of the pods of Deployments, and of the kubelet's Killing and
// Unhealthy Events about them, as compact records fed by informers of its own.
//
// It exists for memory. A Pod in an informer cache costs several KiB; even stripped to the fields probe-tuner
// reads, a corev1.Pod struct weighs over a KiB before any of its fields is set. The records here keep a watched
// pod well under one, and the Event informers are field-selected by reason, so that healthy pods' lifecycle
// Events (Pulled, Created, Started) are never sent, let alone stored.
package podstore

import (
	"time"
	"unique"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// Pod is the compact record of a pod of a Deployment.
type Pod struct {
	Namespace, Name string
	UID             types.UID
	// Deployment is the owning Deployment's name (through the ReplicaSet), TemplateHash the pod-template-hash.
	Deployment, TemplateHash string
	Created, Deleting        time.Time
	Phase                    corev1.PodPhase
	// Ready is the status of the Ready condition ("" without one); ReadySince its last transition.
	Ready      corev1.ConditionStatus
	ReadySince time.Time
	Containers []Container
}

// Container is one container: the timing of its probes (from the spec) and its status. Native sidecars (init
// containers with restartPolicy Always) are recorded like app containers; plain init containers are not recorded.
type Container struct {
	Name string
	// Probes holds the timing of the startup, liveness and readiness probes (in probeKinds order); HasProbe says
	// which exist. Handlers are not kept: observation needs to know when a probe runs, not how.
	Probes   [3]ProbeTiming
	HasProbe [3]bool
	// Sidecar says the container is a native sidecar: its spec and status are under the pod's init containers.
	Sidecar bool
	// HasStatus says the kubelet reported a status for the container; the fields below are that status.
	HasStatus    bool
	Ready        bool
	StartedKnown bool
	Started      bool
	RestartCount int32
	ContainerID  string
	Running      bool
	RunningSince time.Time
	Waiting      bool
	WaitReason   string
	Terminated   *Termination
	LastTerm     *Termination
}

// ProbeTiming is a probe's timing fields.
type ProbeTiming struct {
	InitialDelaySeconds, PeriodSeconds, TimeoutSeconds, SuccessThreshold, FailureThreshold int32
}

// Termination is a container's terminated state.
type Termination struct {
	ExitCode              int32
	Reason, ContainerID   string
	StartedAt, FinishedAt time.Time
}

// GetObjectMeta lets the informer's key function (namespace/name) read the record.
func (p *Pod) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name}
}

// Event is the compact record of a kubelet Event about a pod's container.
type Event struct {
	Namespace, Name string
	observe.KubeletEvent
}

// GetObjectMeta lets the informer's key function (namespace/name) read the record.
func (e *Event) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: e.Namespace, Name: e.Name}
}

// maxEventMessage is how much of an Event's message is kept: enough to tell a timeout from an error.
const maxEventMessage = 200

// intern returns the canonical copy of s: namespaces, Deployment names, template hashes, container names and
// reasons repeat across pods, and one copy of each is enough. Unused copies are reclaimed by the GC.
func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

func probeKinds(c *corev1.Container) [3]*corev1.Probe {
	return [3]*corev1.Probe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe}
}

// FromPod makes the record of a pod. A record passed in is returned as is: informers may hand an already
// transformed object back to the transform.
func FromPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	r := &Pod{Namespace: intern(p.Namespace), Name: p.Name, UID: p.UID, Created: p.CreationTimestamp.Time, Phase: corev1.PodPhase(intern(string(p.Status.Phase)))}
	if p.DeletionTimestamp != nil {
		r.Deleting = p.DeletionTimestamp.Time
	}
	r.TemplateHash = intern(p.Labels[appsv1.DefaultDeploymentUniqueLabelKey])
	r.Deployment = intern(deploymentOf(p.OwnerReferences, r.TemplateHash))
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			r.Ready, r.ReadySince = corev1.ConditionStatus(intern(string(c.Status))), c.LastTransitionTime.Time
		}
	}
	r.Containers = make([]Container, 0, len(p.Spec.Containers))
	for i := range p.Spec.Containers {
		r.Containers = append(r.Containers, specRecord(&p.Spec.Containers[i], false))
	}
	for i := range p.Spec.InitContainers {
		if c := &p.Spec.InitContainers[i]; probes.IsNativeSidecar(c) {
			r.Containers = append(r.Containers, specRecord(c, true))
		}
	}
	for i := range p.Status.ContainerStatuses {
		r.container(p.Status.ContainerStatuses[i].Name).setStatus(&p.Status.ContainerStatuses[i])
	}
	for i := range p.Status.InitContainerStatuses {
		cs := &p.Status.InitContainerStatuses[i]
		if rc := r.sidecar(cs.Name); rc != nil { // a plain init container's status is not ours to read
			rc.setStatus(cs)
		}
	}
	return r, nil
}

// specRecord makes the record of a container's spec: its name and its probes' timing.
func specRecord(c *corev1.Container, sidecar bool) Container {
	rc := Container{Name: intern(c.Name), Sidecar: sidecar}
	for k, probe := range probeKinds(c) {
		if probe != nil {
			rc.HasProbe[k] = true
			rc.Probes[k] = ProbeTiming{probe.InitialDelaySeconds, probe.PeriodSeconds, probe.TimeoutSeconds, probe.SuccessThreshold, probe.FailureThreshold}
		}
	}
	return rc
}

// setStatus records the kubelet's status of the container.
func (rc *Container) setStatus(cs *corev1.ContainerStatus) {
	rc.HasStatus, rc.Ready, rc.RestartCount, rc.ContainerID = true, cs.Ready, cs.RestartCount, cs.ContainerID
	if cs.Started != nil {
		rc.StartedKnown, rc.Started = true, *cs.Started
	}
	if s := cs.State.Running; s != nil {
		rc.Running, rc.RunningSince = true, s.StartedAt.Time
	}
	if s := cs.State.Waiting; s != nil {
		rc.Waiting, rc.WaitReason = true, intern(s.Reason)
	}
	rc.Terminated = termination(cs.State.Terminated)
	rc.LastTerm = termination(cs.LastTerminationState.Terminated)
}

// sidecar returns the record's native sidecar of that name, or nil.
func (p *Pod) sidecar(name string) *Container {
	for i := range p.Containers {
		if c := &p.Containers[i]; c.Sidecar && c.Name == name {
			return c
		}
	}
	return nil
}

// container returns the record's app container of that name, adding one (a status without a spec) when missing.
func (p *Pod) container(name string) *Container {
	for i := range p.Containers {
		if !p.Containers[i].Sidecar && p.Containers[i].Name == name {
			return &p.Containers[i]
		}
	}
	p.Containers = append(p.Containers, Container{Name: intern(name)})
	return &p.Containers[len(p.Containers)-1]
}

func termination(t *corev1.ContainerStateTerminated) *Termination {
	if t == nil {
		return nil
	}
	return &Termination{ExitCode: t.ExitCode, Reason: intern(t.Reason), ContainerID: t.ContainerID, StartedAt: t.StartedAt.Time, FinishedAt: t.FinishedAt.Time}
}

// deploymentOf returns the name of the Deployment owning a pod through its ReplicaSet ("<deployment>-<hash>").
func deploymentOf(refs []metav1.OwnerReference, hash string) string {
	for _, ref := range refs {
		if ref.Controller != nil && *ref.Controller {
			if ref.Kind != "ReplicaSet" || hash == "" || len(ref.Name) <= len(hash)+1 || ref.Name[len(ref.Name)-len(hash)-1:] != "-"+hash {
				return ""
			}
			return ref.Name[:len(ref.Name)-len(hash)-1]
		}
	}
	return ""
}

// ToPod rebuilds the pod as observation reads it: identity, template hash, the probes' timing, the Ready
// condition and the container statuses, native sidecars among the init containers (restartPolicy Always) with
// their statuses. Everything else is unset.
func (p *Pod) ToPod() *corev1.Pod {
	out := &corev1.Pod{}
	out.Namespace, out.Name, out.UID = p.Namespace, p.Name, p.UID
	out.CreationTimestamp = metav1.NewTime(p.Created)
	if !p.Deleting.IsZero() {
		t := metav1.NewTime(p.Deleting)
		out.DeletionTimestamp = &t
	}
	if p.TemplateHash != "" {
		out.Labels = map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: p.TemplateHash}
	}
	out.Status.Phase = p.Phase
	if p.Ready != "" {
		out.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: p.Ready, LastTransitionTime: metav1.NewTime(p.ReadySince)}}
	}
	for i := range p.Containers {
		c := &p.Containers[i]
		sc := corev1.Container{Name: c.Name}
		if c.Sidecar {
			always := corev1.ContainerRestartPolicyAlways
			sc.RestartPolicy = &always
		}
		for k, has := range c.HasProbe {
			if !has {
				continue
			}
			t := c.Probes[k]
			probe := &corev1.Probe{InitialDelaySeconds: t.InitialDelaySeconds, PeriodSeconds: t.PeriodSeconds, TimeoutSeconds: t.TimeoutSeconds,
				SuccessThreshold: t.SuccessThreshold, FailureThreshold: t.FailureThreshold}
			switch k {
			case 0:
				sc.StartupProbe = probe
			case 1:
				sc.LivenessProbe = probe
			case 2:
				sc.ReadinessProbe = probe
			}
		}
		if c.Sidecar {
			out.Spec.InitContainers = append(out.Spec.InitContainers, sc)
		} else {
			out.Spec.Containers = append(out.Spec.Containers, sc)
		}
		if !c.HasStatus {
			continue
		}
		cs := corev1.ContainerStatus{Name: c.Name, Ready: c.Ready, RestartCount: c.RestartCount, ContainerID: c.ContainerID}
		if c.StartedKnown {
			started := c.Started
			cs.Started = &started
		}
		if c.Running {
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.RunningSince)}
		}
		if c.Waiting {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.WaitReason}
		}
		cs.State.Terminated = c.Terminated.toAPI()
		cs.LastTerminationState.Terminated = c.LastTerm.toAPI()
		if c.Sidecar {
			out.Status.InitContainerStatuses = append(out.Status.InitContainerStatuses, cs)
		} else {
			out.Status.ContainerStatuses = append(out.Status.ContainerStatuses, cs)
		}
	}
	return out
}

func (t *Termination) toAPI() *corev1.ContainerStateTerminated {
	if t == nil {
		return nil
	}
	return &corev1.ContainerStateTerminated{ExitCode: t.ExitCode, Reason: t.Reason, ContainerID: t.ContainerID,
		StartedAt: metav1.NewTime(t.StartedAt), FinishedAt: metav1.NewTime(t.FinishedAt)}
}

// FromEvent makes the record of a kubelet Event about a pod's container.
func FromEvent(obj any) (any, error) {
	e, ok := obj.(*corev1.Event)
	if !ok {
		return obj, nil
	}
	r := &Event{Namespace: intern(e.Namespace), Name: e.Name}
	r.ID, r.Count, r.Pod = string(e.UID), eventCount(e), e.InvolvedObject.Name
	r.Container = intern(observe.ContainerFromFieldPath(e.InvolvedObject.FieldPath))
	r.Reason, r.Time = intern(e.Reason), eventTime(e)
	r.Message = e.Message
	if len(r.Message) > maxEventMessage {
		r.Message = r.Message[:maxEventMessage]
	}
	return r, nil
}

func eventCount(e *corev1.Event) int32 {
	if e.Series != nil && e.Series.Count > 0 {
		return e.Series.Count
	}
	return max(e.Count, 1)
}

// eventTime is the Event's last occurrence.
func eventTime(e *corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.FirstTimestamp.Time
}
