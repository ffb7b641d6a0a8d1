// Package observe turns what the kubelet reports about a workload's Pods (their status and its Events) into the
// signals probe tuning needs, per container: startup durations, restarts by cause, readiness flapping, pods stuck
// not ready, and liveness failures that hit many replicas at once.
//
// It is pure: the caller gathers Pods, as this package's own view of them (Pod), and Events (from the pod store's
// records live, from the simulator's API Pods with FromAPIPod in the benchmark) and calls Update with the current
// time; the observer diffs them against its State, which the caller persists so that a restart loses nothing.
package observe

import (
	"time"
)

// Cause is why a container restarted.
type Cause string

// Restart causes.
const (
	CauseLiveness  Cause = "liveness"  // killed by a failed liveness probe
	CauseStartup   Cause = "startup"   // killed by a failed startup probe
	CauseOOM       Cause = "oom"       // killed for exceeding its memory limit
	CauseError     Cause = "error"     // the application exited with a non-zero code on its own
	CauseCompleted Cause = "completed" // the application exited with code 0
)

// Causes lists the restart causes in a stable order.
var Causes = []Cause{CauseLiveness, CauseStartup, CauseOOM, CauseError, CauseCompleted}

// ProbeCaused reports whether the restart was caused by a probe.
func (c Cause) ProbeCaused() bool { return c == CauseLiveness || c == CauseStartup }

// KubeletEvent is one Event the kubelet recorded about a Pod of the workload.
type KubeletEvent struct {
	// ID identifies the Event object (its UID or name); with Count, it lets aggregated Events be counted once.
	ID string
	// Count is the Event's count (1 for a new Event, more once the recorder aggregates it).
	Count int32
	// Pod is the Pod's name; Container is parsed from the involved object's fieldPath ("spec.containers{app}").
	Pod       string
	Container string
	Reason    string
	Message   string
	// Time is the Event's last occurrence.
	Time time.Time
}

// Config tunes the observer.
type Config struct {
	// StartupHalfLife is how fast old startup samples fade.
	StartupHalfLife time.Duration
	// RateHalfLife is how fast restart, failure and flapping counts fade.
	RateHalfLife time.Duration
	// EventGrace is how long a container termination waits for the kubelet's Killing Event before its cause is
	// inferred from the exit code alone.
	EventGrace time.Duration
	// CorrelationWindow is how close in time liveness kills of different replicas must be to count as one
	// correlated failure.
	CorrelationWindow time.Duration
	// MaxRevisions is how many pod-template revisions keep their own statistics.
	MaxRevisions int
}

// DefaultConfig returns the observer settings probe-tuner runs with.
func DefaultConfig() Config {
	return Config{
		StartupHalfLife:   24 * time.Hour,
		RateHalfLife:      6 * time.Hour,
		EventGrace:        10 * time.Second,
		CorrelationWindow: 90 * time.Second,
		MaxRevisions:      3,
	}
}
