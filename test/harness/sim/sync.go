package sim

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// This file is the pod worker: the kubelet's SyncPod loop for one pod.

// killItem is a container to kill in the current SyncPod, and why.
type killItem struct {
	c      *container
	reason Cause
}

// startItem is a container to (re)start in the current SyncPod, with the
// finish time of the latest exited instance in the pod status the sync began
// with (hasPrev false when there is none).
type startItem struct {
	c       *container
	prevEnd time.Duration
	hasPrev bool
}

// requestSync asks the pod worker for a sync (PLEG event, probe result
// change, deletion); requests coalesce until the sync runs.
func (p *PodSim) requestSync() {
	if p.syncQueued || p.finished {
		return
	}
	p.syncQueued = true
	p.w.schedule(timer{at: p.w.now, kind: tkSyncNow, pod: p})
}

// runQueuedSync runs a requested sync. Like the pod worker, which waits for a
// PLEG cache entry newer than the end of its previous sync (GetNewerThan), a
// sync that would see no relist since the previous sync ended is postponed to
// the next relist.
func (p *PodSim) runQueuedSync() {
	if per := p.w.kubelet.PLEGPeriod; per > 0 && !p.busy {
		if asOf := p.w.now - p.w.now%per; asOf <= p.lastSyncEnd {
			p.w.schedule(timer{at: asOf + per, kind: tkSyncNow, pod: p})
			return
		}
	}
	p.syncQueued = false
	p.sync()
}

// scheduleRelist makes the runtime change that just happened visible at the
// next PLEG relist.
func (p *PodSim) scheduleRelist() {
	if p.relistQueued {
		return
	}
	p.relistQueued = true
	at := p.w.now
	if per := p.w.kubelet.PLEGPeriod; per > 0 {
		if r := at % per; r != 0 {
			at += per - r
		}
	}
	p.w.schedule(timer{at: at, kind: tkRelist, pod: p})
}

func (p *PodSim) relist() {
	p.relistQueued = false
	p.requestSync()
}

// asOf returns the time of the latest PLEG relist: the runtime state the
// kubelet can know about now.
func (p *PodSim) asOf() time.Duration {
	now := p.w.now
	if per := p.w.kubelet.PLEGPeriod; per > 0 {
		return now - now%per
	}
	return now
}

// refreshVisible updates what the kubelet's pod status shows from the runtime
// state as of the last relist.
func (p *PodSim) refreshVisible() {
	changed := false
	asOf := p.asOf()
	for _, c := range p.containers {
		if c.refreshVisible(asOf) {
			changed = true
		}
	}
	if changed {
		p.w.markDirty(p)
		p.updateReady()
	}
}

// sync is the kubelet's SyncPod for this pod (kubelet.go SyncPod and
// kuberuntime_manager.go computePodActions/SyncPod): it refreshes the status,
// triggers readiness probes of started-but-unready containers (prober_manager.go
// UpdatePodStatus), kills containers whose liveness or startup probe failed and
// (re)starts exited containers subject to CrashLoopBackOff. Native sidecars
// come first (sidecarActions); the app containers only once the pod has
// initialized (appsMayRun).
func (p *PodSim) sync() {
	if p.finished || p.removed {
		return
	}
	if p.busy {
		p.pendingSync = true
		return
	}
	p.refreshVisible()
	for _, c := range p.containers {
		c.maybeTriggerReadiness()
	}
	if p.deleted {
		p.terminate()
		return
	}
	var kills []killItem
	var starts []startItem
	for _, c := range p.containers {
		if c.sidecar {
			kills, starts = p.sidecarActions(c, kills, starts)
		}
	}
	appsMayRun := p.appsMayRun()
	for _, c := range p.containers {
		if c.sidecar || !appsMayRun {
			continue
		}
		v := c.vis
		switch {
		case c.visibleRunning():
			reason := CauseNone
			if wk := c.workers[Liveness]; wk != nil && wk.resultFor(v.id) == resFailure {
				reason = CauseLiveness
			} else if wk := c.workers[Startup]; wk != nil && wk.resultFor(v.id) == resFailure {
				reason = CauseStartup
			}
			if reason == CauseNone {
				continue
			}
			kills = append(kills, killItem{c: c, reason: reason})
			if p.pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
				it := startItem{c: c}
				if c.prevVis != nil {
					it.prevEnd, it.hasPrev = c.prevVis.finishedAt, true
				}
				starts = append(starts, it)
			}
		case v == nil:
			if c.cur == nil { // never started (a started one shows up at the next relist)
				starts = append(starts, startItem{c: c})
			}
		default: // exited and seen
			if c.shouldRestart() {
				starts = append(starts, startItem{c: c, prevEnd: v.finishedAt, hasPrev: true})
			}
		}
	}
	p.backOffUntil = -1
	if len(kills) == 0 && len(starts) == 0 {
		p.finishSync()
		return
	}
	p.busy = true
	p.killQueue = kills
	p.startQueue = starts
	p.advance()
}

// advance continues the current SyncPod: kill the containers to kill one after
// the other, then start the containers to start, checking back-off with the
// status the sync began with.
func (p *PodSim) advance() {
	for len(p.killQueue) > 0 {
		k := p.killQueue[0]
		p.killQueue = p.killQueue[1:]
		if k.c.kill(k.reason, p.probeKillGrace(k.c, k.reason), true) {
			return // wait for the exit
		}
	}
	for len(p.startQueue) > 0 {
		s := p.startQueue[0]
		p.startQueue = p.startQueue[1:]
		if p.deleted {
			continue
		}
		c := s.c
		if s.hasPrev {
			if wait, until := c.backoff.inBackOff(p.w, s.prevEnd); wait {
				p.emitBackOff(c)
				c.setWaiting(WaitingCrashLoopBackOff, p.backOffMessage(c, c.backoff.delay))
				if p.backOffUntil < 0 || until < p.backOffUntil {
					p.backOffUntil = until
				}
				continue
			}
			c.backoff.next(p.w, s.prevEnd)
		}
		c.setWaiting("", "")
		if c.startInstance() {
			return // wait for pull/create/start
		}
	}
	p.finishSync()
}

// finishSync ends a SyncPod and requeues the pod: at the back-off expiry if a
// container is backing off (capped at the resync period), else after the
// resync period, both jittered (pod_workers.go completeWork).
func (p *PodSim) finishSync() {
	p.busy = false
	p.lastSyncEnd = p.w.now
	k := p.w.kubelet
	d := k.ResyncPeriod
	if p.backOffUntil >= 0 {
		d = max(0, p.backOffUntil-p.w.now)
		d = min(d, k.ResyncPeriod)
	}
	p.backOffUntil = -1
	p.syncGen++
	if d > 0 || k.ResyncPeriod > 0 {
		p.w.schedule(timer{at: p.w.now + p.jitter(d), kind: tkResync, pod: p, gen: p.syncGen})
	}
	if p.pendingSync {
		p.pendingSync = false
		p.requestSync()
	}
}

// probeKillGrace returns the grace period of a probe kill
// (kuberuntime_container.go setTerminationGracePeriod): the pod's
// deletionGracePeriodSeconds if set, else the probe's own
// terminationGracePeriodSeconds, else the pod's.
func (p *PodSim) probeKillGrace(c *container, reason Cause) time.Duration {
	if g := p.pod.DeletionGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	var probe *corev1.Probe
	switch reason {
	case CauseLiveness:
		probe = c.spec.LivenessProbe
	case CauseStartup:
		probe = c.spec.StartupProbe
	}
	if probe != nil && probe.TerminationGracePeriodSeconds != nil {
		return time.Duration(*probe.TerminationGracePeriodSeconds) * time.Second
	}
	return time.Duration(*p.pod.Spec.TerminationGracePeriodSeconds) * time.Second
}

// onKillDone resumes the pod worker after a container it was stopping exited.
func (p *PodSim) onKillDone() {
	if p.terminating {
		p.stopSidecarsInTurn()
		for _, c := range p.containers {
			if c.cur != nil && !c.cur.exited {
				return
			}
		}
		p.finishTermination()
		return
	}
	p.advance()
}
