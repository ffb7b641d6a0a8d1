package sim

import (
	"maps"
	"time"
)

// Cause is why a container instance terminated.
type Cause uint8

// Termination causes. CauseDeletion exits are not restarts.
const (
	CauseNone Cause = iota
	CauseLiveness
	CauseStartup
	CauseOOM
	CauseError
	CauseCompleted
	CauseDeletion
)

// String returns the lower-case cause name used in reports.
func (c Cause) String() string {
	switch c {
	case CauseLiveness:
		return "liveness"
	case CauseStartup:
		return "startup"
	case CauseOOM:
		return "oom"
	case CauseError:
		return "error"
	case CauseCompleted:
		return "completed"
	case CauseDeletion:
		return "deletion"
	}
	return "none"
}

// Restarts counts container terminations that lead to a restart (or would,
// under restartPolicy Always), by cause.
type Restarts struct {
	// Liveness: killed after a failed liveness probe.
	Liveness int `json:"liveness"`
	// Startup: killed after a failed startup probe.
	Startup int `json:"startup"`
	// OOM: OOM killed (exit 137, reason OOMKilled).
	OOM int `json:"oom"`
	// Error: the app exited on its own with a non-zero code.
	Error int `json:"error"`
	// Completed: the app exited on its own with code 0.
	Completed int `json:"completed"`
}

// Total returns the sum over all causes.
func (r Restarts) Total() int { return r.Liveness + r.Startup + r.OOM + r.Error + r.Completed }

// Add returns the field-wise sum.
func (r Restarts) Add(o Restarts) Restarts {
	return Restarts{r.Liveness + o.Liveness, r.Startup + o.Startup, r.OOM + o.OOM, r.Error + o.Error, r.Completed + o.Completed}
}

func (r *Restarts) count(c Cause) {
	switch c {
	case CauseLiveness:
		r.Liveness++
	case CauseStartup:
		r.Startup++
	case CauseOOM:
		r.OOM++
	case CauseError:
		r.Error++
	case CauseCompleted:
		r.Completed++
	}
}

// Termination records one container exit.
type Termination struct {
	Container  string
	RestartIdx int32 // restartCount of the instance that exited
	StartedAt  time.Time
	FinishedAt time.Time
	ExitCode   int32
	Reason     string
	Cause      Cause
	// StartCompleted is true when the app had completed its start (served health checks) by the time it was
	// killed, or by its exit when nobody killed it: a probe kill without it ended a start that never finished.
	StartCompleted bool
}

// Start records one container start.
type Start struct {
	Container string
	// Restart is false for the container's first start.
	Restart bool
	// Delay is, for a restart, the time from the previous instance's exit to
	// this start: zero for an immediate restart, the back-off (plus requeue
	// jitter) otherwise.
	Delay time.Duration
	// At is when the instance started running.
	At time.Time
}

// PodStats are the counters the simulation keeps for one pod.
type PodStats struct {
	// AddedAt is when the pod was added; DeletedAt when deletion was requested.
	AddedAt   time.Time
	DeletedAt time.Time
	// FirstReady is the time from AddedAt to the first Ready=True; FirstReadyOK
	// is false when the pod has never been ready.
	FirstReady   time.Duration
	FirstReadyOK bool
	// NotReadyWhileWanted is the time the pod was not Ready between its
	// creation and its deletion (or now).
	NotReadyWhileWanted time.Duration
	// ReadyTransitions counts changes of the Ready condition (the initial
	// False does not count).
	ReadyTransitions int
	// Restarts by cause, summed over the containers.
	Restarts Restarts
	// Hangs counts app hangs; HangDetections lists, for hangs ended by a probe
	// kill, the time from the hang to the Killing event.
	Hangs          int
	HangDetections []time.Duration
	// Events counts emitted kubelet events by reason.
	Events map[string]int
	// Terminations lists every container exit; Starts every container start.
	Terminations []Termination
	Starts       []Start
}

// Stats returns a copy of the pod's counters, with the open not-ready interval
// counted up to now.
func (p *PodSim) Stats() PodStats {
	s := p.stats
	s.Events = maps.Clone(p.stats.Events)
	s.HangDetections = append([]time.Duration(nil), p.stats.HangDetections...)
	s.Terminations = append([]Termination(nil), p.stats.Terminations...)
	s.Starts = append([]Start(nil), p.stats.Starts...)
	if p.wanted && !p.ready {
		s.NotReadyWhileWanted += p.w.now - p.notReadySince
	}
	for _, c := range p.containers {
		if in := c.cur; in != nil && !in.exited && in.hung(p.w.now) {
			s.Hangs++ // hung right now
		}
	}
	return s
}

// updateReady recomputes the pod's Ready condition and its counters (and the
// Initialized condition, which changes with the same container states).
func (p *PodSim) updateReady() {
	p.updateInitialized()
	ready := !p.finished
	for _, c := range p.containers {
		if !c.ready() {
			ready = false
			break
		}
	}
	if ready == p.ready {
		return
	}
	w := p.w
	p.ready = ready
	p.readySince = w.now
	p.stats.ReadyTransitions++
	if ready {
		if !p.stats.FirstReadyOK {
			p.stats.FirstReadyOK = true
			p.stats.FirstReady = w.now - p.addedAt
		}
		if p.wanted {
			p.stats.NotReadyWhileWanted += w.now - p.notReadySince
		}
	} else {
		p.notReadySince = w.now
	}
	w.markDirty(p)
}
