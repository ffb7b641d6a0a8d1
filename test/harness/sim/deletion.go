package sim

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Delete requests graceful deletion at time at (clamped to now). gracePeriod
// overrides the pod's terminationGracePeriodSeconds (like --grace-period).
func (p *PodSim) Delete(at time.Time, gracePeriodSeconds *int64) error {
	if p.deleted {
		return nil
	}
	g := *p.pod.Spec.TerminationGracePeriodSeconds
	if gracePeriodSeconds != nil {
		if *gracePeriodSeconds < 0 {
			return fmt.Errorf("negative grace period %d", *gracePeriodSeconds)
		}
		g = *gracePeriodSeconds
	}
	p.pendingGrace = &g
	p.w.schedule(timer{at: p.w.offset(at), kind: tkDelete, pod: p})
	return nil
}

// markDeleted applies the deletion: the API server sets deletionTimestamp and
// the kubelet starts terminating the pod on its next sync.
func (p *PodSim) markDeleted() {
	if p.deleted {
		return
	}
	w := p.w
	p.deleted = true
	if p.pendingGrace != nil {
		p.pod.DeletionGracePeriodSeconds = p.pendingGrace
	}
	if p.pod.DeletionGracePeriodSeconds == nil {
		g := *p.pod.Spec.TerminationGracePeriodSeconds
		p.pod.DeletionGracePeriodSeconds = &g
	}
	p.grace = time.Duration(*p.pod.DeletionGracePeriodSeconds) * time.Second
	if p.pod.DeletionTimestamp == nil {
		ts := metav1.NewTime(w.Now().Add(p.grace).Truncate(time.Second))
		p.pod.DeletionTimestamp = &ts
	}
	p.stats.DeletedAt = w.Now()
	if p.wanted && !p.ready {
		p.stats.NotReadyWhileWanted += w.now - p.notReadySince
	}
	p.wanted = false
	p.requestSync()
}

// terminate is SyncTerminatingPod: liveness and startup probing stop, every
// running app container is stopped with the deletion grace period, in
// parallel; native sidecars get their Killing event now and their SIGTERM in
// turn, after the app containers and the sidecars started after them
// (stopSidecarsInTurn).
func (p *PodSim) terminate() {
	p.terminating = true
	p.termStart = p.w.now
	p.busy = true
	for _, c := range p.containers {
		for _, t := range []ProbeType{Liveness, Startup} {
			if wk := c.workers[t]; wk != nil {
				wk.stop()
			}
		}
	}
	// Without its startup worker a container counts as started.
	p.w.markDirty(p)
	p.updateReady()
	waiting := false
	for _, c := range p.containers {
		if in := c.cur; c.sidecar && in != nil && in.running && !in.exited && in.sigtermAt < 0 {
			c.announceKill(CauseDeletion)
			c.stopPending = true
			waiting = true
			continue
		}
		if c.kill(CauseDeletion, p.grace, true) {
			waiting = true
		}
	}
	if !waiting {
		p.finishTermination()
		return
	}
	p.w.schedule(timer{at: p.w.now + p.grace, kind: tkGraceOver, pod: p})
	p.stopSidecarsInTurn()
}

// finishTermination reports the final status: every container terminated, the
// pod phase terminal.
func (p *PodSim) finishTermination() {
	p.busy = false
	p.finished = true
	p.finishedAt = p.w.now
	for _, c := range p.containers {
		c.refreshVisible(p.w.now)
		for _, wk := range c.workers {
			if wk != nil {
				wk.stop()
			}
		}
	}
	p.updateReady()
	p.w.markDirty(p)
}
