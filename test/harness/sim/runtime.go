package sim

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// This file is the container runtime and the app lifecycle: starting an
// instance, its crash/OOM/hang timeline, SIGTERM/SIGKILL and exits.

// startInstance begins starting a new instance (kuberuntime_container.go
// startContainer: image, create, start). It returns true when the start takes
// time and the pod worker must wait for it.
func (c *container) startInstance() bool {
	p := c.p
	w := p.w
	in := &instance{
		id:        containerID(w.seed, p.uid, c.spec.Name, c.n),
		n:         c.n,
		sigtermAt: -1,
		exitAt:    never,
		readyAt:   never,
		hangAt:    never,
	}
	c.n++
	delay, _ := c.b.StartDelay.Sample(c.rng)
	if c.spec.ImagePullPolicy == corev1.PullAlways {
		pull, _ := c.b.ImagePull.Sample(c.rng)
		delay += pull
		p.emit(c, corev1.EventTypeNormal, ReasonPulling, fmt.Sprintf("Pulling image %q", c.spec.Image))
		pd := pull.Truncate(time.Millisecond)
		p.emit(c, corev1.EventTypeNormal, ReasonPulled, fmt.Sprintf("Successfully pulled image %q in %v (%v including waiting). Image size: %d bytes.", c.spec.Image, pd, pd, imageSize(c.spec.Image)))
	} else {
		p.emit(c, corev1.EventTypeNormal, ReasonPulled, fmt.Sprintf("Container image %q already present on machine and can be accessed by the pod", c.spec.Image))
	}
	if delay <= 0 {
		c.run(in)
		return false
	}
	c.starting = in
	w.schedule(timer{at: w.now + delay, kind: tkStarted, pod: p, ci: int16(c.idx), gen: c.bumpGen(in)})
	return true
}

// startDone completes a delayed start and resumes the pod worker.
func (c *container) startDone(gen uint64) {
	in := c.starting
	if in == nil || in.gen != gen {
		return
	}
	c.starting = nil
	c.run(in)
	c.p.advance()
}

// run makes the instance running now and draws its app timeline.
func (c *container) run(in *instance) {
	p := c.p
	w := p.w
	now := w.now
	prevEnd := time.Duration(-1)
	if c.cur != nil && c.cur.exited {
		prevEnd = c.cur.finishedAt
	}
	in.running = true
	in.startedAt = now
	in.startedTrunc = w.offset(w.epoch.Add(now).Truncate(time.Second))
	c.cur = in
	p.emit(c, corev1.EventTypeNormal, ReasonCreated, "Container created")
	p.emit(c, corev1.EventTypeNormal, ReasonStarted, "Container started")
	rs := Start{Container: c.spec.Name, At: w.Now()}
	if prevEnd >= 0 {
		rs.Restart, rs.Delay = true, now-prevEnd
	}
	p.stats.Starts = append(p.stats.Starts, rs)

	if d, ok := c.b.StartupAt(c.rng, now); ok {
		in.readyAt = now + d
	}
	if d, ok := c.b.HangAfter.Sample(c.rng); ok {
		in.hangAt = now + d
	}
	if d, ok := c.b.CrashAfter.Sample(c.rng); ok {
		code := c.b.CrashExitCode
		cause, reason := CauseError, TerminatedError
		if code == 0 {
			cause, reason = CauseCompleted, TerminatedCompleted
		}
		c.scheduleExit(in, now+d, code, reason, cause)
	}
	if d, ok := c.b.OOMAfter.Sample(c.rng); ok {
		c.scheduleExit(in, now+d, 137, TerminatedOOMKilled, CauseOOM)
	}
	p.scheduleRelist()
}

// scheduleExit sets the instance's pending exit if it comes before the
// current one.
func (c *container) scheduleExit(in *instance, at time.Duration, code int32, reason string, cause Cause) {
	if at >= in.exitAt {
		return
	}
	in.exitAt, in.exitCode, in.exitReason, in.exitCause = at, code, reason, cause
	w := c.p.w
	w.schedule(timer{at: at, kind: tkExit, pod: c.p, ci: int16(c.idx), gen: c.bumpGen(in)})
}

// bumpGen gives the instance a new generation, which cancels the timers
// scheduled for it so far, and returns it. Generations come from a counter
// of the container, not of the instance, so a timer left over from an earlier
// instance (an OOM kill of an instance that a probe killed first) can never
// match the instance that replaced it.
func (c *container) bumpGen(in *instance) uint64 {
	c.gens++
	in.gen = c.gens
	return in.gen
}

func exitReason(code int32) string {
	if code == 0 {
		return TerminatedCompleted
	}
	return TerminatedError
}

// kill stops the running instance (kuberuntime_container.go killContainer):
// Killing event, SIGTERM, exit after the app's shutdown time or SIGKILL (exit
// 137) at the grace deadline. It returns true when an exit is pending and the
// caller (the pod worker) must wait for it.
func (c *container) kill(cause Cause, grace time.Duration, wait bool) bool {
	in := c.cur
	if in == nil || in.exited || !in.running {
		return false
	}
	if in.sigtermAt >= 0 {
		in.waiter = in.waiter || wait
		return true
	}
	c.announceKill(cause)
	c.sigterm(in, cause, grace, wait)
	return true
}

// announceKill writes the Killing event of a kill of the running instance
// (and, for a probe kill that ends a hang, the time to detect it). The
// kubelet's message names an init container as such and, as
// computeInitContainerActions has it, does not say it will be restarted.
func (c *container) announceKill(cause Cause) {
	in := c.cur
	p := c.p
	now := p.w.now
	var msg string
	switch cause {
	case CauseLiveness, CauseStartup:
		probe := "liveness"
		if cause == CauseStartup {
			probe = "startup"
		}
		switch {
		case c.sidecar:
			msg = fmt.Sprintf("Init container %s failed %s probe", c.spec.Name, probe)
		case p.pod.Spec.RestartPolicy != corev1.RestartPolicyNever:
			msg = fmt.Sprintf("Container %s failed %s probe, will be restarted", c.spec.Name, probe)
		default:
			msg = fmt.Sprintf("Container %s failed %s probe", c.spec.Name, probe)
		}
		if in.hung(now) && !in.hangCounted {
			in.hangCounted = true
			p.stats.HangDetections = append(p.stats.HangDetections, now-in.hangAt)
		}
	default:
		msg = fmt.Sprintf("Stopping container %s", c.spec.Name)
	}
	p.emit(c, corev1.EventTypeNormal, ReasonKilling, msg)
}

// sigterm sends SIGTERM to the instance: it exits after the app's shutdown
// time, or is SIGKILLed (exit 137) at the grace deadline. wait says the pod
// worker waits for the exit.
func (c *container) sigterm(in *instance, cause Cause, grace time.Duration, wait bool) {
	now := c.p.w.now
	grace = max(grace, c.p.w.kubelet.MinGracePeriod)
	in.sigtermAt = now
	in.killCause = cause
	dist := c.b.Shutdown
	if in.hung(now) {
		dist = c.b.ShutdownWhenHung
	}
	if d, ok := dist.Sample(c.rng); ok && d < grace {
		code := c.b.ShutdownExitCode
		c.scheduleExit(in, now+d, code, exitReason(code), cause)
	} else {
		c.scheduleExit(in, now+grace, 137, TerminatedError, cause)
	}
	in.waiter = wait
}

// exitTimer fires a pending exit.
func (c *container) exitTimer(gen uint64) {
	in := c.cur
	if in == nil || in.exited || in.gen != gen {
		return
	}
	c.exit(in)
}

// exit terminates the instance now.
func (c *container) exit(in *instance) {
	p := c.p
	w := p.w
	in.exited = true
	in.finishedAt = w.now
	in.code, in.reason, in.cause = in.exitCode, in.exitReason, in.exitCause
	if in.killCause != CauseNone {
		in.cause = in.killCause
	}
	if in.hung(w.now) {
		p.stats.Hangs++
	}
	decided := w.now // the kill decision, not the end of the grace period, says whether the start had finished
	if in.sigtermAt >= 0 {
		decided = in.sigtermAt
	}
	p.stats.Terminations = append(p.stats.Terminations, Termination{
		Container:      c.spec.Name,
		RestartIdx:     in.n,
		StartedAt:      w.epoch.Add(in.startedAt),
		FinishedAt:     w.Now(),
		ExitCode:       in.code,
		Reason:         in.reason,
		Cause:          in.cause,
		StartCompleted: in.readyAt <= decided,
	})
	if !p.deleted && in.cause != CauseDeletion {
		p.stats.Restarts.count(in.cause)
	}
	p.scheduleRelist()
	if in.waiter {
		in.waiter = false
		p.onKillDone()
	}
}

// hangNow makes the running instance hang now (InjectHang).
func (c *container) hangNow() {
	in := c.cur
	if in == nil || in.exited || !in.running {
		return
	}
	if now := c.p.w.now; now < in.hangAt {
		in.hangAt = now
	}
}
