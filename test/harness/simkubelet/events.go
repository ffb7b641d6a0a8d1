package simkubelet

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/probetuner/probe-tuner/test/harness/sim"
)

// eventRecorders turn the simulator's events into core/v1 Events through client-go's broadcaster, so that
// aggregation ("combined from similar events"), the spam filter and the drop-when-overloaded queue are the
// real ones. Each node has a broadcaster, a client and a recorder of its own (source component "kubelet", host the
// node name), like a kubelet: one broadcaster for all nodes would send every node's Events through one
// goroutine and one rate limit, and at a few thousand pods deliver them minutes late.
type eventRecorders struct {
	broadcasters []record.EventBroadcaster
	byNode       map[string]record.EventRecorder
	scheduler    record.EventRecorder
}

// observeLag, when set, is given the lag of each Event written (see lagSink).
func newEventRecorders(ctx context.Context, schedulerClient kubernetes.Interface, nodeClients map[string]kubernetes.Interface, schedulerName string,
	observeLag func(time.Duration)) *eventRecorders {
	e := &eventRecorders{byNode: make(map[string]record.EventRecorder, len(nodeClients))}
	newBroadcaster := func(client kubernetes.Interface) record.EventBroadcaster {
		b := record.NewBroadcaster(record.WithContext(ctx))
		b.StartStructuredLogging(3)
		var sink record.EventSink = &typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")}
		if observeLag != nil {
			sink = lagSink{EventSink: sink, observe: observeLag}
		}
		b.StartRecordingToSink(sink)
		e.broadcasters = append(e.broadcasters, b)
		return b
	}
	e.scheduler = newBroadcaster(schedulerClient).NewRecorder(clientscheme.Scheme, corev1.EventSource{Component: schedulerName})
	for name, client := range nodeClients {
		e.byNode[name] = newBroadcaster(client).NewRecorder(clientscheme.Scheme, corev1.EventSource{Component: "kubelet", Host: name})
	}
	return e
}

// record hands one simulator event to the recorder of its node. It never blocks: an overloaded broadcaster
// drops the event, as a kubelet's does.
func (e *eventRecorders) record(ev sim.Event) {
	r := e.byNode[ev.Node]
	if r == nil {
		return
	}
	ref := &corev1.ObjectReference{
		Kind:       "Pod",
		APIVersion: "v1",
		Namespace:  ev.Namespace,
		Name:       ev.Pod,
		UID:        ev.PodUID,
		FieldPath:  ev.FieldPath,
	}
	r.Event(ref, ev.Type, ev.Reason, ev.Message)
}

// podEvent records an event about a pod itself (no container), from the kubelet of node.
func (e *eventRecorders) podEvent(pod *corev1.Pod, node, eventType, reason, msg string) {
	if r := e.byNode[node]; r != nil {
		r.Event(pod, eventType, reason, msg)
	}
}

// shutdown stops the broadcasters (events still queued are dropped).
func (e *eventRecorders) shutdown() {
	for _, b := range e.broadcasters {
		b.Shutdown()
	}
}

// lagSink measures how late Events reach the API server: from the moment the recorder made (or, aggregated,
// last counted) an Event to the end of its write. A broadcaster writes its node's Events one at a time, so
// under load they queue behind each other; the benchmark waits for this lag to fall before it starts measuring.
type lagSink struct {
	record.EventSink
	observe func(time.Duration)
}

func (s lagSink) Create(e *corev1.Event) (*corev1.Event, error) {
	out, err := s.EventSink.Create(e)
	s.written(e, err)
	return out, err
}

func (s lagSink) Update(e *corev1.Event) (*corev1.Event, error) {
	out, err := s.EventSink.Update(e)
	s.written(e, err)
	return out, err
}

func (s lagSink) Patch(e *corev1.Event, data []byte) (*corev1.Event, error) {
	out, err := s.EventSink.Patch(e, data)
	s.written(e, err)
	return out, err
}

func (s lagSink) written(e *corev1.Event, err error) {
	if err == nil && !e.LastTimestamp.IsZero() {
		s.observe(time.Since(e.LastTimestamp.Time))
	}
}
