// Package podstore keeps what probe-tuner reads of the pods of Deployments, and of the kubelet's Killing and
// Unhealthy Events about them, as compact records fed by informers of its own. It serves the records as they
// are: it knows nothing of observation, whose view of a pod is built from them by the caller (controllers).
//
// It exists for memory. A Pod in an informer cache costs several KiB; even stripped to the fields probe-tuner
// reads, a corev1.Pod struct weighs over a KiB before any of its fields is set. The records here keep a watched
// pod well under one, and the Event informers are field-selected by reason, so that healthy pods' lifecycle
// Events (Pulled, Created, Started) are never sent, let alone stored.
package podstore

import (
	"strings"
	"time"
	"unique"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// Pod is the compact record of a pod of a Deployment.
type Pod struct {
	nameOnly
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
	// Probes holds the timing of the container's probes, API defaults applied; HasProbe says which exist. Values
	// rather than pointers keep a record to one allocation. Handlers are not kept: observation needs to know when
	// a probe runs, not how.
	Probes   probes.ByKind[probes.Values]
	HasProbe probes.ByKind[bool]
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

// Termination is a container's terminated state.
type Termination struct {
	ExitCode              int32
	Reason, ContainerID   string
	StartedAt, FinishedAt time.Time
}

// Event is the compact record of a kubelet Event about a pod's container.
type Event struct {
	nameOnly
	Namespace, Name string
	// ID identifies the Event object (its UID); with Count, it lets aggregated Events be counted once.
	ID string
	// Count is the Event's count (1 for a new Event, more once the recorder aggregates it).
	Count int32
	// Pod is the Pod's name; Container is parsed from the involved object's fieldPath ("spec.containers{app}").
	Pod, Container string
	Reason         string
	// Message is the Event's message, cut to maxEventMessage bytes.
	Message string
	// Time is the Event's last occurrence.
	Time time.Time
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
	set := probes.ContainerSet(c)
	for _, k := range probes.Kinds {
		if probe := set.Get(k); probe != nil {
			rc.HasProbe.Set(k, true)
			rc.Probes.Set(k, probes.Of(probe))
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

// FromEvent makes the record of a kubelet Event about a pod's container.
func FromEvent(obj any) (any, error) {
	e, ok := obj.(*corev1.Event)
	if !ok {
		return obj, nil
	}
	r := &Event{Namespace: intern(e.Namespace), Name: e.Name}
	r.ID, r.Count, r.Pod = string(e.UID), eventCount(e), e.InvolvedObject.Name
	r.Container = intern(ContainerFromFieldPath(e.InvolvedObject.FieldPath))
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

// ContainerFromFieldPath parses an Event's involvedObject.fieldPath ("spec.containers{app}") into the container
// name, or "" when it names none.
func ContainerFromFieldPath(fieldPath string) string {
	open := strings.IndexByte(fieldPath, '{')
	end := strings.LastIndexByte(fieldPath, '}')
	if open < 0 || end <= open {
		return ""
	}
	return fieldPath[open+1 : end]
}
