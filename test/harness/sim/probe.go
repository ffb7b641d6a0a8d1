package sim

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// result is a probe result as kept by the kubelet's results managers.
type result int8

const (
	resUnknown result = iota
	resSuccess
	resFailure
)

// applyEarly and parkIdle enable the shortcuts in doProbe and tick (tests
// turn them off to check that they change nothing).
var (
	applyEarly = true
	parkIdle   = true
)

// worker is the kubelet's probe worker for one container and probe type
// (prober/worker.go). It probes at once when created, then on a ticker of
// periodSeconds that starts when it is created; a manual trigger (from a sync
// of a started but unready container) probes at once and re-phases the ticker.
type worker struct {
	c    *container
	t    ProbeType
	spec *corev1.Probe

	period       time.Duration
	timeout      time.Duration
	initialDelay int
	successTh    int
	failureTh    int
	initial      result
	h            probeHandler

	base    time.Duration // ticks happen at base + k*period
	gen     uint64        // invalidates scheduled ticks on reset and stop
	stopped bool
	parked  bool // an idle startup worker skips its (no-op) ticks

	inFlight    bool
	busyUntil   time.Duration // end of an answer applied ahead of time (see doProbe)
	flightGen   uint64
	flightStart time.Duration
	flightID    string
	flight      outcome
	triggered   bool

	resID      string // container ID the result belongs to ("" = none)
	result     result
	lastResult result
	resultRun  int
	onHold     bool
}

func newWorker(c *container, t ProbeType, spec *corev1.Probe) *worker {
	wk := &worker{
		c:            c,
		t:            t,
		spec:         spec,
		period:       time.Duration(spec.PeriodSeconds) * time.Second,
		timeout:      time.Duration(spec.TimeoutSeconds) * time.Second,
		initialDelay: int(spec.InitialDelaySeconds),
		successTh:    int(spec.SuccessThreshold),
		failureTh:    int(spec.FailureThreshold),
	}
	switch t {
	case Readiness:
		wk.initial = resFailure
	case Liveness:
		wk.initial = resSuccess
	default:
		wk.initial = resUnknown
	}
	if wk.period <= 0 {
		wk.period = 10 * time.Second
	}
	if wk.timeout <= 0 {
		wk.timeout = time.Second
	}
	wk.h = newProbeHandler(c, t, spec, wk.timeout)
	return wk
}

// begin starts the worker: it probes at once, unless the kubelet started less
// than a period ago, in which case it first sleeps a random part of a period.
func (wk *worker) begin() {
	w := wk.c.p.w
	wk.base = w.now
	if w.now-w.kstart < wk.period {
		wk.base += time.Duration(wk.c.rng.Float64() * float64(wk.period))
	}
	wk.scheduleTick(wk.base)
}

func (wk *worker) scheduleTick(at time.Duration) {
	wk.c.p.w.schedule(timer{at: at, kind: tkProbe, pod: wk.c.p, ci: int16(wk.c.idx), pt: int8(wk.t), gen: wk.gen})
}

// nextTick returns the first tick strictly after t.
func (wk *worker) nextTick(t time.Duration) time.Duration {
	if t < wk.base {
		return wk.base
	}
	return wk.base + ((t-wk.base)/wk.period+1)*wk.period
}

// tick runs doProbe for a tick or a manual trigger.
func (wk *worker) tick(gen uint64) {
	if gen != wk.gen || wk.stopped || wk.inFlight {
		return
	}
	if !wk.doProbe() {
		wk.stop()
		return
	}
	if parkIdle && wk.t == Startup && !wk.inFlight && wk.c.started() && wk.resID == wk.c.vis.id {
		// Once the container has started, every startup tick returns at once
		// until the kubelet shows another container (or the exit): skip them
		// and resume on the ticker's phase when that happens (wake).
		wk.parked = true
		return
	}
	if !wk.inFlight {
		next := wk.nextTick(wk.c.p.w.now)
		if wk.busyUntil > next {
			next = wk.busyUntil // the ticker kept one tick for us
		}
		wk.scheduleTick(next)
	}
}

// wake resumes a parked worker at its next tick after now. A tick falling
// exactly on this instant is taken to have run already, which is the order
// of the events that change the visible container (they are scheduled after
// the tick).
func (wk *worker) wake() {
	if !wk.parked || wk.stopped {
		return
	}
	wk.parked = false
	wk.scheduleTick(wk.nextTick(wk.c.p.w.now))
}

// trigger is the manual run requested by UpdatePodStatus: probe now and restart
// the ticker from now (a trigger during a probe runs right after it).
func (wk *worker) trigger() {
	if wk.stopped {
		return
	}
	if wk.inFlight {
		wk.triggered = true
		return
	}
	wk.gen++
	wk.base = max(wk.c.p.w.now, wk.busyUntil)
	wk.scheduleTick(wk.base)
}

// stop ends the worker; its result is forgotten, as the kubelet removes it
// when a worker exits.
func (wk *worker) stop() {
	wk.stopped = true
	wk.gen++
	wk.resID = ""
}

// resultFor returns the current result for a container ID (resUnknown when
// the results manager has none).
func (wk *worker) resultFor(id string) result {
	if wk.resID != id || id == "" {
		return resUnknown
	}
	return wk.result
}

// doProbe mirrors worker.go doProbe: it returns false when the worker stops.
func (wk *worker) doProbe() bool {
	c := wk.c
	p := c.p
	if p.finished {
		return false
	}
	v := c.vis
	if v == nil {
		return true // the container has not been created yet
	}
	if v.id != wk.resID {
		// A new container: seed the initial result and resume probing. The
		// run counters are deliberately kept (they are only reset on hold).
		wk.resID = v.id
		wk.result = resUnknown
		wk.set(wk.initial)
		wk.onHold = false
	}
	if wk.onHold {
		return true
	}
	if v.seenExited {
		wk.set(resFailure)
		return true
	}
	if p.deleted && (wk.t == Liveness || wk.t == Startup) {
		wk.set(resSuccess)
		return false
	}
	now := p.w.now
	if int((now-v.startedTrunc)/time.Second) < wk.initialDelay {
		return true
	}
	if c.started() {
		if wk.t == Startup {
			return true
		}
	} else if wk.t != Startup {
		return true
	}
	o := c.evaluate(wk, v, now)
	if applyEarly && o.after > 0 && o.res == resSuccess && !o.errored && wk.lastResult == resSuccess &&
		wk.resID == v.id && wk.result == resSuccess {
		// A success that only extends a run of successes changes nothing but
		// the run counter and has no event: apply it now instead of
		// scheduling its delivery, and keep the worker busy until the answer
		// would have arrived. This is equivalent and halves the timers.
		wk.resultRun++
		wk.busyUntil = now + o.after
		return true
	}
	if o.after > 0 {
		wk.inFlight = true
		wk.flightGen++
		wk.flightStart = now
		wk.flightID = v.id
		wk.flight = o
		p.w.schedule(timer{at: now + o.after, kind: tkProbeDone, pod: p, ci: int16(c.idx), pt: int8(wk.t), gen: wk.flightGen})
		return true
	}
	wk.apply(o, v.id)
	return true
}

// done delivers the result of a probe that took time, then schedules the next
// run: at once if a tick or a trigger arrived meanwhile, else at the next tick.
func (wk *worker) done(gen uint64) {
	if !wk.inFlight || gen != wk.flightGen {
		return
	}
	wk.inFlight = false
	if wk.stopped {
		return
	}
	wk.apply(wk.flight, wk.flightID)
	if wk.stopped {
		return
	}
	now := wk.c.p.w.now
	if wk.triggered {
		wk.triggered = false
		wk.gen++
		wk.base = now
		wk.scheduleTick(now)
		return
	}
	next := wk.nextTick(wk.flightStart)
	if next < now {
		next = now // the ticker kept one tick for us
	}
	wk.scheduleTick(next)
}

// apply records one probe outcome (prober.go probe and the threshold logic of
// worker.go doProbe).
func (wk *worker) apply(o outcome, id string) {
	p := wk.c.p
	if o.errored {
		p.emit(wk.c, corev1.EventTypeWarning, ReasonUnhealthy, o.msg)
		return // errors are not counted
	}
	if o.res == resFailure {
		p.emit(wk.c, corev1.EventTypeWarning, ReasonUnhealthy, o.msg)
	}
	if wk.lastResult == o.res {
		wk.resultRun++
	} else {
		wk.lastResult = o.res
		wk.resultRun = 1
	}
	if (o.res == resFailure && wk.resultRun < wk.failureTh) || (o.res == resSuccess && wk.resultRun < wk.successTh) {
		return
	}
	if id == wk.resID {
		wk.set(o.res)
	}
	if (wk.t == Liveness && o.res == resFailure) || wk.t == Startup {
		wk.onHold = true
		wk.resultRun = 0
	}
}

// set stores a result for the worker's container; a change is published like
// a results-manager update (kubelet.go syncLoopIteration): readiness and
// startup changes update the status and sync the pod, a liveness failure
// syncs the pod (which kills the container).
func (wk *worker) set(r result) {
	if wk.result == r {
		return
	}
	c := wk.c
	p := c.p
	visible := c.vis != nil && c.vis.id == wk.resID
	before := visible && c.ready()
	beforeStarted := visible && c.started()
	wk.result = r
	switch wk.t {
	case Readiness, Startup:
		if visible && (before != c.ready() || beforeStarted != c.started()) {
			p.w.markDirty(p)
			p.updateReady()
		}
		p.requestSync()
	case Liveness:
		if r == resFailure {
			p.requestSync()
		}
	}
}
