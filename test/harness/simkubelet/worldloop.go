package simkubelet

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/probetuner/probe-tuner/test/harness/sim"
)

// worldLoop owns the sim.World (which is not goroutine-safe): only runWorld's goroutine touches it. Each tick it
// advances the world to the wall clock, applies the pod changes the informers delivered, and hands the
// statuses that changed to the status writer and the events to the recorders. The work per tick is
// proportional to what happened, not to the number of pods.
type worldLoop struct {
	d      *Driver
	w      *sim.World
	dirty  map[*sim.PodSim]time.Time // pods whose status changed this tick -> first change
	order  []*sim.PodSim             // the same pods, in the order they changed
	failed map[types.UID]bool        // pods the simulator rejected (reported once)
	count  int64
	// adopted holds the pods that already had containers when this driver found them (it was restarted);
	// see adopt.
	adopted map[types.UID]*adoption
}

func newWorldLoop(d *Driver, start time.Time) *worldLoop {
	l := &worldLoop{d: d, dirty: map[*sim.PodSim]time.Time{}, failed: map[types.UID]bool{}, adopted: map[types.UID]*adoption{}}
	kc := sim.DefaultKubeletConfig()
	if d.cfg.Kubelet != nil {
		kc = *d.cfg.Kubelet
	}
	if kc.StartedAt.IsZero() {
		kc.StartedAt = start
	}
	epoch := d.cfg.Epoch
	if epoch.IsZero() {
		epoch = start
	}
	l.w = sim.NewWorld(sim.Options{
		Seed:    d.cfg.Seed,
		Epoch:   epoch,
		Kubelet: &kc,
		OnEvent: func(e sim.Event) {
			d.stats.events.Add(1)
			d.events.record(e)
		},
		OnStatusChange: l.changed,
	})
	return l
}

// changed is the world's status hook: it runs once per pod and instant with a change.
func (l *worldLoop) changed(p *sim.PodSim) {
	if _, ok := l.dirty[p]; !ok {
		l.dirty[p] = l.w.Now()
		l.order = append(l.order, p)
	}
}

// runWorld ticks until ctx ends.
func (d *Driver) runWorld(ctx context.Context, l *worldLoop) {
	t := time.NewTicker(d.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		l.tick(start)
		d.stats.observeTick(time.Since(start))
	}
}

// tick advances the world to now (pods added in this tick start at now) and hands over what changed.
func (l *worldLoop) tick(now time.Time) {
	l.w.RunUntil(now)
	keys, changes := l.d.inbox.drain()
	for _, k := range keys {
		l.apply(k, changes[k], now)
	}
	if len(keys) > 0 {
		l.w.RunUntil(now) // the first syncs of new pods, deletions requested now
	}
	for _, p := range l.order {
		at, ok := l.dirty[p]
		if !ok {
			continue // removed in this tick
		}
		st := p.Status()
		if a := l.adopted[p.UID()]; a != nil {
			a.apply(&st)
		}
		l.d.writer.enqueue(podKey(p.Namespace(), p.Name()), p.UID(), st, p.Finished(), at)
	}
	clear(l.dirty)
	l.order = l.order[:0]
	l.d.stats.pods.Store(l.count)
}

// apply brings the world in line with the latest state of one pod.
func (l *worldLoop) apply(key string, ch podChange, now time.Time) {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	p := l.w.Pod(ns, name)
	if ch.pod == nil { // gone from the API server
		if p != nil && p.UID() == ch.uid {
			l.remove(p)
		}
		delete(l.failed, ch.uid)
		l.d.writer.forget(key, ch.uid)
		return
	}
	pod := ch.pod
	if p != nil && p.UID() != pod.UID { // a new pod under the same name
		l.remove(p)
		p = nil
	}
	if p != nil {
		if err := requestDeletion(p, pod, now); err != nil {
			l.d.log.Error(err, "Cannot delete simulated pod", "pod", key)
		}
		return
	}
	l.add(key, pod, now)
}

// add starts simulating a pod that is new to this driver.
func (l *worldLoop) add(key string, pod *corev1.Pod, now time.Time) {
	// A pod the simulator rejected, or one that finished before (under a previous run of this driver), is not
	// run; once it is being deleted, it is removed from the API server as it is.
	if l.failed[pod.UID] || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		if pod.DeletionTimestamp != nil {
			l.d.writer.enqueue(key, pod.UID, *pod.Status.DeepCopy(), true, now)
		}
		return
	}
	n := l.d.ours(pod.Spec.NodeName)
	cp := *pod // shallow: AddPod deep-copies; only the status addresses are set here
	if cp.Status.HostIP == "" {
		cp.Status.HostIP = n.ip
		cp.Status.HostIPs = []corev1.HostIP{{IP: n.ip}}
	}
	if _, err := l.w.AddPod(&cp, n.name); err != nil {
		l.failed[pod.UID] = true
		l.d.log.Error(err, "Cannot simulate pod; it stays pending", "pod", key)
		l.d.events.podEvent(pod, n.name, corev1.EventTypeWarning, "FailedSimulation", err.Error())
		if pod.DeletionTimestamp != nil {
			l.d.writer.enqueue(key, pod.UID, *pod.Status.DeepCopy(), true, now)
		}
		return
	}
	l.count++
	l.adopt(pod)
	l.d.log.V(3).Info("Pod added to the simulation", "pod", key, "node", n.name)
}

// remove forgets a pod that is gone (or replaced) in the API server.
func (l *worldLoop) remove(p *sim.PodSim) {
	l.w.RemovePod(p.Namespace(), p.Name())
	delete(l.dirty, p)
	delete(l.adopted, p.UID())
	l.count--
	l.d.log.V(3).Info("Pod removed from the simulation", "pod", podKey(p.Namespace(), p.Name()))
}
