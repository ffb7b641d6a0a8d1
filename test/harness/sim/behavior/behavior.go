// Package behavior parses the sim.probetuner.io/* annotations that describe a simulated application: how long it
// takes to start, how its health endpoints answer, when it hangs, crashes or runs out of memory, how it shuts down
// and when its dependency is down. The simulator (test/harness/sim) and the real node's test server
// (hack/nodeimages/cmd/probe-target) both read them through this package, so the two cannot diverge. It imports the
// standard library only.
package behavior

import (
	"math/rand/v2"
	"time"
)

// ProbeType identifies one of the three kubelet probe workers of a container.
type ProbeType int8

// The probe types, in the order the kubelet's prober manager creates workers
// for them.
const (
	Startup ProbeType = iota
	Readiness
	Liveness
	NumProbeTypes
)

// String returns the capitalised name the kubelet uses in event messages.
func (t ProbeType) String() string {
	switch t {
	case Startup:
		return "Startup"
	case Readiness:
		return "Readiness"
	case Liveness:
		return "Liveness"
	}
	return "UNKNOWN"
}

// Key returns the lower-case name used in annotations (startup, readiness, liveness).
func (t ProbeType) Key() string {
	switch t {
	case Startup:
		return "startup"
	case Readiness:
		return "readiness"
	case Liveness:
		return "liveness"
	}
	return "unknown"
}

// Behavior is the simulated application inside one container, read from the
// sim.probetuner.io annotations (see ParseBehaviors and docs/simulator.md).
type Behavior struct {
	// Startup is the time from container start until the app serves health
	// checks; before that every probe fails with "connection refused".
	Startup Distribution
	// StartupGrowth and StartupGrowthPer make the startup time grow by
	// StartupGrowth for every StartupGrowthPer of virtual time since the epoch.
	StartupGrowth    time.Duration
	StartupGrowthPer time.Duration
	// StartDelay is the time the runtime needs to create and start the
	// container once the kubelet decides to start it (image present).
	StartDelay Distribution
	// ImagePull is the pull time used when imagePullPolicy is Always.
	ImagePull Distribution
	// Latency is the answer time of the health endpoint, per probe type.
	Latency [NumProbeTypes]Distribution
	// FailureRate is the probability that one probe gets an error answer, per
	// probe type.
	FailureRate [NumProbeTypes]float64
	// HangAfter is the running time after which the app hangs: every health
	// check times out until the container is restarted.
	HangAfter Distribution
	// HangBlocksTCP makes a hung app also time out TCP connects; by default
	// the kernel keeps accepting connections for a hung process.
	HangBlocksTCP bool
	// CrashAfter is the running time after which the app exits on its own
	// with CrashExitCode.
	CrashAfter    Distribution
	CrashExitCode int32
	// OOMAfter is the running time after which the container is OOM killed.
	OOMAfter Distribution
	// Shutdown is the time the app needs to exit after SIGTERM; "never" means
	// it ignores SIGTERM and is SIGKILLed at the grace deadline.
	Shutdown Distribution
	// ShutdownWhenHung replaces Shutdown while the app is hung (default never).
	ShutdownWhenHung Distribution
	// ShutdownExitCode is the exit code after a graceful SIGTERM exit.
	ShutdownExitCode int32
	// Dependency names the shared dependency (default "default"); outages
	// injected with World.InjectOutage apply to every container naming it.
	Dependency string
	// Outages are the dependency outage windows from the annotation.
	Outages []Window
	// CheckedBy says which probe types check the dependency (default liveness).
	CheckedBy [NumProbeTypes]bool
}

// DefaultBehavior returns the behaviour of a container without annotations: it
// serves health checks at once, answers instantly, and never fails.
func DefaultBehavior() Behavior {
	b := Behavior{
		HangAfter:        Never(),
		CrashAfter:       Never(),
		CrashExitCode:    1,
		OOMAfter:         Never(),
		ShutdownWhenHung: Never(),
		ShutdownExitCode: 143,
		Dependency:       "default",
	}
	b.CheckedBy[Liveness] = true
	return b
}

// Window is a recurring or one-off outage window, relative to the world epoch.
type Window struct {
	// Start is the first start (offset from the epoch).
	Start time.Duration
	// Length is how long each outage lasts.
	Length time.Duration
	// Every repeats the window with this period when non-zero.
	Every time.Duration
}

// Contains reports whether offset t (from the epoch) lies inside the window.
func (w Window) Contains(t time.Duration) bool {
	if t < w.Start {
		return false
	}
	if w.Every <= 0 {
		return t < w.Start+w.Length
	}
	return (t-w.Start)%w.Every < w.Length
}

// StartupAt draws the startup time of a container started at offset t from the epoch (StartupGrowth included). ok
// is false when the start never completes.
func (b *Behavior) StartupAt(r *rand.Rand, t time.Duration) (time.Duration, bool) {
	d, ok := b.Startup.Sample(r)
	if !ok {
		return 0, false
	}
	if b.StartupGrowthPer > 0 && t > 0 {
		d += time.Duration(float64(b.StartupGrowth) * (float64(t) / float64(b.StartupGrowthPer)))
	}
	return d, true
}
