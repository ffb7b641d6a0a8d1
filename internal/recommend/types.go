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
	Blocked []probes.Change
	// Frozen lists fields a person set by hand after probe-tuner changed them: they are left alone.
	Frozen []probes.FieldRef
}

// Container is one container's current probes and what was observed of it.
type Container struct {
	Name      string
	Startup   *corev1.Probe
	Liveness  *corev1.Probe
	Readiness *corev1.Probe
	Signals   observe.Signals
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
	ReasonCrashLoopUnhandled = "CrashLoopNotTuned"
	ReasonNeedsMoreThanBound = "StartupExceedsBudgetBound"
	ReasonSlowHangDetection  = "LivenessExceedsTimeToDetectBound"
)

// probes.Change reasons.
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
	Changes []probes.Change
	// Probes holds, per container with changes, the complete probes after the changes.
	Probes map[string]probes.Set
	// Findings lists the patterns found, in a stable order.
	Findings []Finding
	// Waiting explains, per container, what evidence is still missing before a rule can act.
	Waiting []string
}
