package sim

import (
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Options configure a World.
type Options struct {
	// Seed seeds every random stream (each pod and container derives its own
	// stream from Seed and its name).
	Seed uint64
	// Epoch is virtual time zero: Now() starts there, dependency outage windows
	// and startup growth are measured from it. For real-time use pass
	// time.Now(); for virtual time any fixed instant.
	Epoch time.Time
	// Kubelet overrides the kubelet timings; nil means DefaultKubeletConfig().
	Kubelet *KubeletConfig
	// OnEvent, if set, receives every kubelet event as it happens (World.Now()
	// is the event time). Otherwise events are buffered for DrainEvents.
	OnEvent func(Event)
	// OnStatusChange, if set, is called once per pod and instant at which the
	// pod's status changed, after all changes of that instant (World.Now() is
	// that instant); call PodSim.Status() inside to get the new status.
	// Otherwise changed pods are buffered for DrainChanged.
	OnStatusChange func(*PodSim)
}

// World simulates the kubelets of any number of nodes and the pods bound to
// them: a discrete-event scheduler over a virtual clock (no fixed-step
// ticking). It is deterministic for given inputs and seed, starts no
// goroutines and is not safe for concurrent use: a real-time driver calls
// RunUntil(time.Now()) from one goroutine. Call RunUntil(Now()) after AddPod to
// run the pod's first sync at once.
type World struct {
	seed    uint64
	epoch   time.Time
	now     time.Duration
	kubelet KubeletConfig
	kstart  time.Duration // kubelet start, as an offset from the epoch

	timers timerHeap
	seq    uint64

	pods    []*PodSim
	byKey   map[string]*PodSim
	nodes   map[string]int
	usedIPs map[string]bool

	outages map[string][]Window

	onEvent  func(Event)
	onStatus func(*PodSim)
	events   []Event
	dirty    []*PodSim
	changed  []*PodSim
}

// NewWorld creates an empty world at its epoch.
func NewWorld(o Options) *World {
	w := &World{
		seed:    o.Seed,
		epoch:   o.Epoch,
		byKey:   map[string]*PodSim{},
		nodes:   map[string]int{},
		usedIPs: map[string]bool{},
		outages: map[string][]Window{},
		onEvent: o.OnEvent,

		onStatus: o.OnStatusChange,
		kubelet:  DefaultKubeletConfig(),
		kstart:   -1 << 62,
	}
	if o.Kubelet != nil {
		w.kubelet = *o.Kubelet
	}
	if !w.kubelet.StartedAt.IsZero() {
		w.kstart = w.kubelet.StartedAt.Sub(w.epoch)
	}
	return w
}

// Now returns the current virtual time.
func (w *World) Now() time.Time { return w.epoch.Add(w.now) }

// Epoch returns virtual time zero.
func (w *World) Epoch() time.Time { return w.epoch }

// Elapsed returns the virtual time since the epoch.
func (w *World) Elapsed() time.Duration { return w.now }

// Seed returns the world seed.
func (w *World) Seed() uint64 { return w.seed }

// Kubelet returns the kubelet timings in use.
func (w *World) Kubelet() KubeletConfig { return w.kubelet }

// offset converts an absolute time into an offset from the epoch.
func (w *World) offset(t time.Time) time.Duration { return t.Sub(w.epoch) }

func podKey(namespace, name string) string { return namespace + "/" + name }

// AddPod starts simulating a pod bound to node at the current time. The pod is
// deep-copied and defaulted (ApplyDefaults); its behaviour is read from its own
// annotations (copy the template's annotations onto the pod, as Kubernetes
// does). An empty namespace means "default"; a missing UID is derived from the
// seed. Native sidecars (init containers with restartPolicy Always) run like
// app containers and start before them; plain init containers are not run:
// each is reported completed once the kubelet reaches it.
func (w *World) AddPod(pod *corev1.Pod, node string) (*PodSim, error) {
	if pod == nil {
		return nil, errors.New("nil pod")
	}
	if pod.Name == "" {
		return nil, errors.New("pod has no name")
	}
	if len(pod.Spec.Containers) == 0 {
		return nil, fmt.Errorf("pod %s has no containers", pod.Name)
	}
	pod = pod.DeepCopy()
	if pod.Namespace == "" {
		pod.Namespace = corev1.NamespaceDefault
	}
	key := podKey(pod.Namespace, pod.Name)
	if _, dup := w.byKey[key]; dup {
		return nil, fmt.Errorf("pod %s already exists", key)
	}
	if node == "" {
		node = pod.Spec.NodeName
	}
	if node == "" {
		return nil, fmt.Errorf("pod %s: no node given and spec.nodeName is empty", key)
	}
	pod.Spec.NodeName = node
	ApplyDefaults(&pod.Spec)
	if errs := ValidateProbes(&pod.Spec); len(errs) > 0 {
		return nil, fmt.Errorf("pod %s: invalid probes: %w", key, errs.ToAggregate())
	}
	names := ContainerNames(&pod.Spec)
	if dup := duplicateName(&pod.Spec); dup != "" {
		return nil, fmt.Errorf("pod %s: container name %q is used twice (init and app containers share one namespace)", key, dup)
	}
	behaviors, err := ParseBehaviors(pod.Annotations, names)
	if err != nil {
		return nil, fmt.Errorf("pod %s: %w", key, err)
	}
	p, err := newPodSim(w, pod, node, behaviors)
	if err != nil {
		return nil, fmt.Errorf("pod %s: %w", key, err)
	}
	w.pods = append(w.pods, p)
	w.byKey[key] = p
	p.start()
	return p, nil
}

// Pod returns the simulated pod, or nil.
func (w *World) Pod(namespace, name string) *PodSim { return w.byKey[podKey(namespace, name)] }

// Pods returns the simulated pods in the order they were added.
func (w *World) Pods() []*PodSim { return slices.Clone(w.pods) }

// DeletePod requests graceful deletion of a pod at time at (not before now),
// with the pod's terminationGracePeriodSeconds; see PodSim.Delete.
func (w *World) DeletePod(namespace, name string, at time.Time) error {
	p := w.Pod(namespace, name)
	if p == nil {
		return fmt.Errorf("pod %s not found", podKey(namespace, name))
	}
	return p.Delete(at, nil)
}

// RemovePod forgets a pod (typically a Finished one, after the driver has
// deleted it from the API server). Its pending timers are dropped.
func (w *World) RemovePod(namespace, name string) {
	key := podKey(namespace, name)
	p := w.byKey[key]
	if p == nil {
		return
	}
	p.removed = true
	delete(w.byKey, key)
	delete(w.usedIPs, p.podIP)
	w.pods = slices.DeleteFunc(w.pods, func(q *PodSim) bool { return q == p })
	w.dirty = slices.DeleteFunc(w.dirty, func(q *PodSim) bool { return q == p })
	w.changed = slices.DeleteFunc(w.changed, func(q *PodSim) bool { return q == p })
}

// NextEventTime returns the time of the next scheduled timer, if any. A
// real-time driver may sleep until then (or ~250ms, whichever comes first).
func (w *World) NextEventTime() (time.Time, bool) {
	for len(w.timers) > 0 {
		if t := w.timers[0]; t.pod == nil || !t.pod.removed {
			return w.epoch.Add(t.at), true
		}
		w.timers.pop()
	}
	return time.Time{}, false
}

// Advance runs the simulation for d.
func (w *World) Advance(d time.Duration) { w.RunUntil(w.Now().Add(d)) }

// RunUntil processes every timer up to and including t, then sets the clock to
// t. Status-change hooks run whenever the clock is about to move on (and at
// the end), so they see every instant at which a status changed; timers they
// schedule are processed too. A t before Now() only flushes pending changes.
func (w *World) RunUntil(t time.Time) {
	end := w.offset(t)
	for {
		for len(w.timers) > 0 && w.timers[0].at <= end {
			if at := w.timers[0].at; at > w.now {
				if len(w.dirty) > 0 {
					w.flush() // hooks may schedule timers at the current instant
					continue
				}
				w.now = at
			}
			tm := w.timers.pop()
			if tm.pod != nil && tm.pod.removed {
				continue
			}
			w.fire(tm)
		}
		if len(w.dirty) == 0 {
			break
		}
		w.flush()
	}
	if end > w.now {
		w.now = end
	}
}

// fire dispatches one timer.
func (w *World) fire(t timer) {
	p := t.pod
	switch t.kind {
	case tkProbe:
		p.containers[t.ci].workers[t.pt].tick(t.gen)
	case tkProbeDone:
		p.containers[t.ci].workers[t.pt].done(t.gen)
	case tkSyncNow:
		p.runQueuedSync()
	case tkResync:
		if t.gen == p.syncGen {
			p.requestSync()
		}
	case tkRelist:
		p.relist()
	case tkStarted:
		p.containers[t.ci].startDone(t.gen)
	case tkExit:
		p.containers[t.ci].exitTimer(t.gen)
	case tkDelete:
		p.markDeleted()
	case tkHang:
		p.containers[t.ci].hangNow()
	case tkGraceOver:
		p.graceOver()
	}
}

// markDirty records that p's status changed at the current instant.
func (w *World) markDirty(p *PodSim) {
	p.version++
	if !p.dirtyQueued {
		p.dirtyQueued = true
		w.dirty = append(w.dirty, p)
	}
}

// flush hands the pods whose status changed at the current instant to the
// OnStatusChange hook, or to the DrainChanged buffer.
func (w *World) flush() {
	if len(w.dirty) == 0 {
		return
	}
	batch := w.dirty
	w.dirty = nil
	for _, p := range batch {
		p.dirtyQueued = false
		if p.removed {
			continue
		}
		if w.onStatus != nil {
			w.onStatus(p)
			continue
		}
		if !p.changedQueued {
			p.changedQueued = true
			w.changed = append(w.changed, p)
		}
	}
}

// DrainEvents returns the events buffered since the last call (only used when
// Options.OnEvent is nil).
func (w *World) DrainEvents() []Event {
	ev := w.events
	w.events = nil
	return ev
}

// DrainChanged returns the pods whose status changed since the last call, in
// the order of their first change (only used when Options.OnStatusChange is nil).
func (w *World) DrainChanged() []*PodSim {
	w.flush()
	ch := w.changed
	w.changed = nil
	for _, p := range ch {
		p.changedQueued = false
	}
	return ch
}
