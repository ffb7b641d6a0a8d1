package sim

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Event reasons written by the kubelet (pkg/kubelet/events/event.go).
const (
	ReasonPulling   = "Pulling"
	ReasonPulled    = "Pulled"
	ReasonCreated   = "Created"
	ReasonStarted   = "Started"
	ReasonKilling   = "Killing"
	ReasonBackOff   = "BackOff"
	ReasonUnhealthy = "Unhealthy"
)

// Waiting and terminated reasons shown in container statuses.
const (
	WaitingContainerCreating = "ContainerCreating"
	WaitingPodInitializing   = "PodInitializing"
	WaitingCrashLoopBackOff  = "CrashLoopBackOff"
	TerminatedError          = "Error"
	TerminatedCompleted      = "Completed"
	TerminatedOOMKilled      = "OOMKilled"
)

// Event is one kubelet event about a pod's container, before client-go's
// aggregation and spam filtering (a real kubelet's recorder may merge or drop
// repeated events; the simulator reports every one).
type Event struct {
	// Time is the virtual (or, in real-time use, wall) time of the event.
	Time      time.Time
	Namespace string
	Pod       string
	PodUID    types.UID
	Node      string
	// Container is the container the event is about; FieldPath is its
	// involvedObject.fieldPath ("spec.containers{app}").
	Container string
	FieldPath string
	// Type is corev1.EventTypeNormal or corev1.EventTypeWarning.
	Type    string
	Reason  string
	Message string
}

// String formats the event like a line of `kubectl events`.
func (e Event) String() string {
	return fmt.Sprintf("%s %-7s %-9s pod/%s %s", e.Time.UTC().Format(time.RFC3339), e.Type, e.Reason, e.Pod, e.Message)
}

// emit records an event about container c at the current virtual time.
func (p *PodSim) emit(c *container, typ, reason, msg string) {
	w := p.w
	e := Event{
		Time:      w.epoch.Add(w.now),
		Namespace: p.pod.Namespace,
		Pod:       p.pod.Name,
		PodUID:    p.uid,
		Node:      p.node,
		Type:      typ,
		Reason:    reason,
		Message:   msg,
	}
	if c != nil {
		e.Container = c.spec.Name
		e.FieldPath = c.fieldPath
	}
	p.stats.Events[reason]++
	if w.onEvent != nil {
		w.onEvent(e)
		return
	}
	w.events = append(w.events, e)
}

// podDesc formats a pod as the kubelet does in messages: name_namespace(uid)
// (pkg/kubelet/util/format/pod.go).
func (p *PodSim) podDesc() string {
	return fmt.Sprintf("%s_%s(%s)", p.pod.Name, p.pod.Namespace, p.uid)
}

func (p *PodSim) emitBackOff(c *container) {
	p.emit(c, corev1.EventTypeWarning, ReasonBackOff,
		fmt.Sprintf("Back-off restarting failed container %s in pod %s", c.spec.Name, p.podDesc()))
}

// backOffMessage is the waiting message shown during CrashLoopBackOff
// (kuberuntime_manager.go doBackOff).
func (p *PodSim) backOffMessage(c *container, d time.Duration) string {
	return fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", d, c.spec.Name, p.podDesc())
}
