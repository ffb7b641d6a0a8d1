// Package recommend decides probe changes from observed signals, a container's current probes and a
// ProbePolicy's settings. Every change carries a reason and its evidence in numbers; patterns that tuning cannot
// fix (a shared dependency inside a liveness probe, a start that never completes behind a readiness-only probe)
// become findings for a person instead of changes.
//
// It is pure and deterministic: the same input gives the same output, and every probe it returns is valid for
// the API server and within the policy's bounds.
package recommend

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// Input is everything one recommendation for a workload looks at.
type Input struct {
	Settings   policy.Settings
	Containers []Container
	// Blocked lists changes that were reverted before and must not be tried again.
	Blocked []Change
	// Frozen lists fields a person set by hand after probe-tuner changed them: they are left alone.
	Frozen []FieldRef
}

// FieldRef names one probe field of one container.
type FieldRef struct {
	Container string      `json:"container"`
	Probe     probes.Kind `json:"probe"`
	Field     string      `json:"field"`
}

// Container is one container's current probes and what was observed of it.
type Container struct {
	Name      string
	Startup   *corev1.Probe
	Liveness  *corev1.Probe
	Readiness *corev1.Probe
	Signals   observe.Signals
}

// FieldProbe is the pseudo field of a change that adds or removes a whole probe.
const FieldProbe = "probe"

// Change is one probe field to change, with why.
type Change struct {
	Container string      `json:"container"`
	Probe     probes.Kind `json:"probe"`
	// Field is a probe timing field, or FieldProbe when the whole probe is added.
	Field string `json:"field"`
	// From and To are the values before and after; From is 0 and To 1 for an added probe.
	From int32 `json:"from"`
	To   int32 `json:"to"`
	// Reason is a CamelCase cause such as StartupKilledBeforeReady.
	Reason string `json:"reason"`
	// Evidence states the observations behind the change in numbers.
	Evidence string `json:"evidence,omitempty"`
}

// Ref is the field the change is about.
func (c Change) Ref() FieldRef {
	return FieldRef{Container: c.Container, Probe: c.Probe, Field: c.Field}
}

// Same reports whether c and o change the same field to the same value.
func (c Change) Same(o Change) bool {
	return c.Container == o.Container && c.Probe == o.Probe && c.Field == o.Field && c.To == o.To
}

// Severity says how a finding is reported.
type Severity string

// Finding severities: a Warning needs a person; Info explains why nothing was changed.
const (
	Warning Severity = "Warning"
	Info    Severity = "Info"
)

// Finding is a pattern that probe tuning will not fix blindly.
type Finding struct {
	Container string
	Severity  Severity
	// Reason is a CamelCase name such as CorrelatedLivenessFailures.
	Reason string
	// Message says what is wrong and what to do.
	Message string
}

// Finding reasons.
const (
	ReasonCorrelatedLiveness = "CorrelatedLivenessFailures"
	ReasonStuckNotReady      = "StuckNotReady"
	ReasonNoProbes           = "ProbesMissing"
	ReasonIdenticalProbes    = "IdenticalLivenessAndReadiness"
	ReasonNotAProbeProblem   = "NotAProbeProblem"
	ReasonNeedsMoreThanBound = "StartupExceedsBudgetBound"
	ReasonSlowHangDetection  = "LivenessExceedsTimeToDetectBound"
)

// Change reasons.
const (
	ReasonStartupKilled      = "StartupKilledBeforeReady"
	ReasonStartupBelowTarget = "StartupBudgetBelowTarget"
	ReasonStartupTooLoose    = "StartupBudgetTooLoose"
	ReasonLivenessGated      = "LivenessGatedByStartupProbe"
	ReasonReadinessFlapping  = "ReadinessFlapping"
	ReasonLivenessTransient  = "LivenessKillsOnTransientFailures"
	ReasonLivenessTightened  = "LivenessTightenedToTimeToDetectBound"
)

// Plan is the outcome of one recommendation.
type Plan struct {
	// Changes lists every field to change, in a stable order.
	Changes []Change
	// Probes holds, per container with changes, the complete probes after the changes.
	Probes map[string]ProbeSet
	// Findings lists the patterns found, in a stable order.
	Findings []Finding
	// Waiting explains, per container, what evidence is still missing before a rule can act.
	Waiting []string
}

// ProbeSet is a container's three probes.
type ProbeSet struct {
	Startup, Liveness, Readiness *corev1.Probe
}

// Get returns the probe of kind k.
func (p ProbeSet) Get(k probes.Kind) *corev1.Probe {
	switch k {
	case probes.Startup:
		return p.Startup
	case probes.Liveness:
		return p.Liveness
	}
	return p.Readiness
}

// Set replaces the probe of kind k (nil removes it).
func (p *ProbeSet) Set(k probes.Kind, pr *corev1.Probe) {
	switch k {
	case probes.Startup:
		p.Startup = pr
	case probes.Liveness:
		p.Liveness = pr
	default:
		p.Readiness = pr
	}
}
