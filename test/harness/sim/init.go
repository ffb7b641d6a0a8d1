package sim

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// This file holds init containers. A plain init container is not run: it
// completes the moment the kubelet reaches it. A native sidecar (an init
// container with restartPolicy Always) is run like an app container, with its
// probes, behaviour and restarts; the kubelet reaches the next init container
// once it has started, and starts the app containers once every init
// container is done (kuberuntime_manager.go computeInitContainerActions).

// isSidecar reports whether an init container is a native sidecar
// (pkg/api/v1/pod IsRestartableInitContainer).
func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// ContainerNames returns the names of the containers the simulator runs, which
// the behaviour annotations may name: the native sidecars in init order, then
// the app containers. Plain init containers are not run and have no behaviour.
func ContainerNames(spec *corev1.PodSpec) []string {
	var names []string
	for i := range spec.InitContainers {
		if isSidecar(&spec.InitContainers[i]) {
			names = append(names, spec.InitContainers[i].Name)
		}
	}
	for i := range spec.Containers {
		names = append(names, spec.Containers[i].Name)
	}
	return names
}

// beginInit reaches the first init containers when the pod is added: the
// plain ones before the first sidecar complete at once, as before sidecars
// were modelled.
func (p *PodSim) beginInit() {
	p.initDoneAt = make([]time.Duration, len(p.pod.Spec.InitContainers))
	p.reachNext()
	p.initialized = p.initDone()
	p.initializedSince = p.w.now
}

// reachNext reaches the next init container. A plain one completes now, so the
// kubelet moves on at once, up to the next native sidecar (which must start
// first) or past the last init container.
func (p *PodSim) reachNext() {
	ics := p.pod.Spec.InitContainers
	for p.initReached < len(ics) {
		i := p.initReached
		p.initReached++
		if isSidecar(&ics[i]) {
			return
		}
		p.initDoneAt[i] = p.w.now
		p.w.markDirty(p)
	}
}

// sidecar returns the simulated container of init container i, a sidecar.
func (p *PodSim) sidecar(i int) *container {
	for _, c := range p.containers {
		if c.sidecar && c.initIdx == i {
			return c
		}
	}
	return nil
}

// sidecarActions adds what a sync does to a native sidecar: one whose startup
// probe failed, or whose liveness probe failed once it started, is killed and
// restarted; an exited one is restarted (whatever the pod's restartPolicy);
// one never started is started once it is reached; and once the newest one
// reached has started, the next init container is reached.
func (p *PodSim) sidecarActions(c *container, kills []killItem, starts []startItem) ([]killItem, []startItem) {
	v := c.vis
	switch {
	case c.visibleRunning():
		reason := CauseNone
		if wk := c.workers[Startup]; wk != nil && wk.resultFor(v.id) == resFailure {
			reason = CauseStartup
		} else if c.started() {
			if c.initIdx == p.initReached-1 {
				p.reachNext()
				p.updateInitialized()
			}
			if wk := c.workers[Liveness]; wk != nil && wk.resultFor(v.id) == resFailure {
				reason = CauseLiveness
			}
		}
		if reason == CauseNone {
			break
		}
		kills = append(kills, killItem{c: c, reason: reason})
		it := startItem{c: c}
		if c.prevVis != nil {
			it.prevEnd, it.hasPrev = c.prevVis.finishedAt, true
		}
		starts = append(starts, it)
	case v == nil:
		if c.cur == nil && c.initIdx < p.initReached {
			starts = append(starts, startItem{c: c})
		}
	default: // exited and seen
		starts = append(starts, startItem{c: c, prevEnd: v.finishedAt, hasPrev: true})
	}
	return kills, starts
}

// appsMayRun is computeInitContainerActions' podHasInitialized: the app
// containers are looked at (started, killed, restarted) only once an app
// container runs, or every init container has been reached and the last one
// is done (a plain one has completed, a sidecar runs and has started).
func (p *PodSim) appsMayRun() bool {
	for _, c := range p.containers {
		if !c.sidecar && c.visibleRunning() {
			return true
		}
	}
	ics := p.pod.Spec.InitContainers
	if p.initReached < len(ics) {
		return false
	}
	if len(ics) == 0 || !isSidecar(&ics[len(ics)-1]) {
		return true
	}
	last := p.sidecar(len(ics) - 1)
	return last.visibleRunning() && last.started()
}

// incompleteInit returns the init containers that are not done, as the
// Initialized condition names them (status/generate.go
// GeneratePodInitializedCondition): a plain one not yet completed, a sidecar
// not started.
func (p *PodSim) incompleteInit() []string {
	var out []string
	for i := range p.pod.Spec.InitContainers {
		ic := &p.pod.Spec.InitContainers[i]
		switch {
		case isSidecar(ic):
			if !p.sidecar(i).started() {
				out = append(out, ic.Name)
			}
		case i >= p.initReached:
			out = append(out, ic.Name)
		}
	}
	return out
}

// initDone reports the Initialized condition: an app container shows running
// or terminated (so the pod was initialized before, even if a sidecar now
// restarts), or no init container is incomplete.
func (p *PodSim) initDone() bool {
	for _, c := range p.containers {
		if !c.sidecar && c.shownStarted() {
			return true
		}
	}
	return len(p.incompleteInit()) == 0
}

// updateInitialized recomputes the Initialized condition and its transition
// time.
func (p *PodSim) updateInitialized() {
	if len(p.pod.Spec.InitContainers) == 0 {
		return // initialized from the start
	}
	if done := p.initDone(); done != p.initialized {
		p.initialized = done
		p.initializedSince = p.w.now
		p.w.markDirty(p)
	}
}

// shownStarted reports whether the container's status shows it running or
// terminated (not waiting): kubecontainer.HasAnyRegularContainerStarted.
func (c *container) shownStarted() bool {
	v := c.vis
	return v != nil && (!v.seenExited || c.waitReason == "" || c.p.finished)
}

// stopSidecarsInTurn sends SIGTERM to the native sidecars whose turn has come
// while the pod terminates (kuberuntime_termination_order.go): a sidecar waits
// for every app container and every sidecar after it to exit, at most for the
// grace period, and then gets what is left of it in whole seconds (at least
// the minimum). Their Killing events were written when termination began.
func (p *PodSim) stopSidecarsInTurn() {
	for i := len(p.containers) - 1; i >= 0; i-- {
		c := p.containers[i]
		if !c.stopPending || !(p.turnsDue || p.sidecarsTurn(c)) {
			continue
		}
		c.stopPending = false
		waited := (p.w.now - p.termStart).Truncate(time.Second)
		c.sigterm(c.cur, CauseDeletion, p.grace-waited, true)
	}
}

// sidecarsTurn reports whether every container sidecar c waits for has exited.
func (p *PodSim) sidecarsTurn(c *container) bool {
	for _, o := range p.containers {
		if o == c || (o.sidecar && o.initIdx < c.initIdx) {
			continue
		}
		if o.cur != nil && !o.cur.exited {
			return false
		}
	}
	return true
}

// graceOver gives every sidecar still waiting for its turn its SIGTERM: the
// termination's grace period has run out.
func (p *PodSim) graceOver() {
	if !p.terminating || p.finished {
		return
	}
	p.turnsDue = true
	p.stopSidecarsInTurn()
}

// duplicateName returns a container name used twice among the init and app
// containers (the API server rejects such a pod), or "".
func duplicateName(spec *corev1.PodSpec) string {
	seen := map[string]bool{}
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			if seen[list[i].Name] {
				return list[i].Name
			}
			seen[list[i].Name] = true
		}
	}
	return ""
}
