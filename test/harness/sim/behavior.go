package sim

import (
	"time"

	"github.com/probetuner/probe-tuner/test/harness/sim/behavior"
)

// The behaviour annotations are parsed by package behavior, which the real node's probe-target server shares; these
// names keep the simulator's API as it was.

// AnnotationDomain is the domain of the behaviour annotations.
const AnnotationDomain = behavior.AnnotationDomain

// ProbeType identifies one of the three kubelet probe workers of a container.
type ProbeType = behavior.ProbeType

// The probe types, in the order the kubelet's prober manager creates workers for them.
const (
	Startup       = behavior.Startup
	Readiness     = behavior.Readiness
	Liveness      = behavior.Liveness
	numProbeTypes = behavior.NumProbeTypes
)

// Behavior is the simulated application inside one container (see behavior.Behavior).
type Behavior = behavior.Behavior

// Window is a recurring or one-off outage window, relative to the world epoch.
type Window = behavior.Window

// Distribution is a distribution of durations parsed from an annotation value (see behavior.Distribution).
type Distribution = behavior.Distribution

// DefaultBehavior returns the behaviour of a container without annotations.
func DefaultBehavior() Behavior { return behavior.DefaultBehavior() }

// ParseBehaviors reads the behaviour annotations of a pod for the named containers (see behavior.ParseBehaviors).
func ParseBehaviors(annotations map[string]string, containers []string) (map[string]*Behavior, error) {
	return behavior.ParseBehaviors(annotations, containers)
}

// AnnotationKeys returns the known behaviour keys, sorted.
func AnnotationKeys() []string { return behavior.AnnotationKeys() }

// ParseDistribution parses a distribution (see behavior.Distribution for the syntax).
func ParseDistribution(s string) (Distribution, error) { return behavior.ParseDistribution(s) }

// Fixed returns the distribution that always yields d.
func Fixed(d time.Duration) Distribution { return behavior.Fixed(d) }

// Never returns the distribution whose event never happens.
func Never() Distribution { return behavior.Never() }
