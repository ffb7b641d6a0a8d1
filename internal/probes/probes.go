// Package probes is probe-tuner's vocabulary for Kubernetes probes: the probe kinds and their timing fields, the
// API defaults, the time budgets the fields imply, the validity rules the API server enforces, and the changes
// and field references that recommendation, tuning and apply pass between them. It is pure: no client, no clock.
package probes

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// Kind names a probe type.
type Kind string

// The three probe types a container may have.
const (
	Startup   Kind = "startup"
	Liveness  Kind = "liveness"
	Readiness Kind = "readiness"
)

// Kinds lists the probe types in the order they act on a starting container.
var Kinds = []Kind{Startup, Liveness, Readiness}

// ByKind holds one value per probe kind. It is the one place that maps a Kind to a probe: a container's probes
// (Set), a record's probe timings, an observed container's probes all use it.
type ByKind[T any] struct {
	Startup, Liveness, Readiness T
}

// Get returns the value of kind k; the zero value for a kind that is none of the three.
func (b ByKind[T]) Get(k Kind) T {
	if p := b.of(k); p != nil {
		return *p
	}
	var zero T
	return zero
}

// Set replaces the value of kind k; a kind that is none of the three changes nothing.
func (b *ByKind[T]) Set(k Kind, v T) {
	if p := b.of(k); p != nil {
		*p = v
	}
}

// of points at the value of kind k, nil for a kind that is none of the three.
func (b *ByKind[T]) of(k Kind) *T {
	switch k {
	case Startup:
		return &b.Startup
	case Liveness:
		return &b.Liveness
	case Readiness:
		return &b.Readiness
	}
	return nil
}

// Set is a container's three probes; nil is no probe.
type Set = ByKind[*corev1.Probe]

// ContainerSet returns c's probes. The probes are c's, not copies.
func ContainerSet(c *corev1.Container) Set {
	return Set{Startup: c.StartupProbe, Liveness: c.LivenessProbe, Readiness: c.ReadinessProbe}
}

// SetContainer makes s the probes of c.
func SetContainer(c *corev1.Container, s Set) {
	c.StartupProbe, c.LivenessProbe, c.ReadinessProbe = s.Startup, s.Liveness, s.Readiness
}

// Field names a probe timing field, as the API spells it.
type Field string

// The probe timing fields, and the pseudo field of a whole probe.
const (
	InitialDelaySeconds Field = "initialDelaySeconds"
	PeriodSeconds       Field = "periodSeconds"
	TimeoutSeconds      Field = "timeoutSeconds"
	SuccessThreshold    Field = "successThreshold"
	FailureThreshold    Field = "failureThreshold"
	// WholeProbe is the pseudo field of a change that adds or removes a whole probe.
	WholeProbe Field = "probe"
)

// Fields lists the timing fields in a stable order.
var Fields = []Field{InitialDelaySeconds, PeriodSeconds, TimeoutSeconds, SuccessThreshold, FailureThreshold}

// API defaults for probe timing fields (pkg/apis/core/v1/defaults.go).
const (
	DefaultTimeoutSeconds   = 1
	DefaultPeriodSeconds    = 10
	DefaultSuccessThreshold = 1
	DefaultFailureThreshold = 3
)

// Values are a probe's timing fields with the API defaults applied.
type Values struct {
	InitialDelaySeconds int32
	PeriodSeconds       int32
	TimeoutSeconds      int32
	SuccessThreshold    int32
	FailureThreshold    int32
}

// Of returns p's timing fields with the API defaults applied to the unset ones.
func Of(p *corev1.Probe) Values {
	return Values{
		InitialDelaySeconds: p.InitialDelaySeconds,
		PeriodSeconds:       p.PeriodSeconds,
		TimeoutSeconds:      p.TimeoutSeconds,
		SuccessThreshold:    p.SuccessThreshold,
		FailureThreshold:    p.FailureThreshold,
	}.Defaulted()
}

// Defaulted returns v with the API defaults in place of its unset (zero) fields.
func (v Values) Defaulted() Values {
	if v.PeriodSeconds == 0 {
		v.PeriodSeconds = DefaultPeriodSeconds
	}
	if v.TimeoutSeconds == 0 {
		v.TimeoutSeconds = DefaultTimeoutSeconds
	}
	if v.SuccessThreshold == 0 {
		v.SuccessThreshold = DefaultSuccessThreshold
	}
	if v.FailureThreshold == 0 {
		v.FailureThreshold = DefaultFailureThreshold
	}
	return v
}

// Apply writes v's timing fields into p.
func (v Values) Apply(p *corev1.Probe) {
	p.InitialDelaySeconds = v.InitialDelaySeconds
	p.PeriodSeconds = v.PeriodSeconds
	p.TimeoutSeconds = v.TimeoutSeconds
	p.SuccessThreshold = v.SuccessThreshold
	p.FailureThreshold = v.FailureThreshold
}

// Field returns the value of timing field f; false for a field that is not a timing field.
func (v Values) Field(f Field) (int32, bool) {
	if p := v.field(f); p != nil {
		return *p, true
	}
	return 0, false
}

// WithField returns v with timing field f set to value.
func (v Values) WithField(f Field, value int32) (Values, error) {
	p := v.field(f)
	if p == nil {
		return v, fmt.Errorf("unknown probe field %q", f)
	}
	*p = value
	return v, nil
}

// field points at timing field f of v, nil for a field that is not a timing field.
func (v *Values) field(f Field) *int32 {
	switch f {
	case InitialDelaySeconds:
		return &v.InitialDelaySeconds
	case PeriodSeconds:
		return &v.PeriodSeconds
	case TimeoutSeconds:
		return &v.TimeoutSeconds
	case SuccessThreshold:
		return &v.SuccessThreshold
	case FailureThreshold:
		return &v.FailureThreshold
	}
	return nil
}

// Budget is how long the probe lets a container fail from its start before it acts:
// initialDelaySeconds + failureThreshold x periodSeconds. For a startup probe it is the startup budget; for a
// liveness probe without a startup probe, the time a starting container has before it is killed.
func (v Values) Budget() int32 {
	return v.InitialDelaySeconds + v.FailureThreshold*v.PeriodSeconds
}

// EarliestAction is the soonest a probe with these fields acts on a container that fails from its start. The
// kubelet's probe ticker runs from the worker's creation, not from the container's start (a restarted container
// keeps its pod's phase), so the first probe that counts comes up to one period after initialDelaySeconds and
// the failureThreshold-th failure failureThreshold-1 periods after that: a kill lands between this and Budget.
func (v Values) EarliestAction() int32 {
	return v.InitialDelaySeconds + max(v.FailureThreshold-1, 0)*v.PeriodSeconds
}

// TimeToDetect is the longest a hung container goes unnoticed by a liveness probe with these fields:
// failureThreshold periods, the last of which may wait the full timeout.
func (v Values) TimeToDetect() int64 {
	return TimeToDetect(v.FailureThreshold, v.PeriodSeconds, v.TimeoutSeconds)
}

// TimeToDetect is failureThreshold x periodSeconds + timeoutSeconds in int64: the API server puts no upper bound
// on the fields, and int32 math would wrap to a short (or negative) time for a probe that never detects a hang.
func TimeToDetect(failureThreshold, periodSeconds, timeoutSeconds int32) int64 {
	return int64(failureThreshold)*int64(periodSeconds) + int64(timeoutSeconds)
}

// ToAPI converts v for the ProbePolicy status.
func (v Values) ToAPI() *tuningv1alpha1.ProbeValues {
	return &tuningv1alpha1.ProbeValues{
		InitialDelaySeconds: v.InitialDelaySeconds,
		PeriodSeconds:       v.PeriodSeconds,
		TimeoutSeconds:      v.TimeoutSeconds,
		SuccessThreshold:    v.SuccessThreshold,
		FailureThreshold:    v.FailureThreshold,
	}
}

// HandlerCount is how many of a probe's handlers are set; the API server requires exactly one.
func HandlerCount(p *corev1.Probe) int {
	n := 0
	if p.Exec != nil {
		n++
	}
	if p.HTTPGet != nil {
		n++
	}
	if p.TCPSocket != nil {
		n++
	}
	if p.GRPC != nil {
		n++
	}
	return n
}

// Validate reports whether p would be accepted by the API server as a probe of kind k, after the API server's
// defaulting of unset (zero) fields (pkg/apis/core/validation: positive period, timeout and thresholds,
// successThreshold 1 for liveness and startup probes, non-negative initial delay, exactly one handler, no
// termination grace period on readiness).
func Validate(p *corev1.Probe, k Kind) error {
	if p == nil {
		return nil
	}
	var errs []error
	v := Of(p)
	if v.InitialDelaySeconds < 0 {
		errs = append(errs, fmt.Errorf("%s initialDelaySeconds %d is negative", k, v.InitialDelaySeconds))
	}
	for _, f := range []Field{PeriodSeconds, TimeoutSeconds, SuccessThreshold, FailureThreshold} {
		if n, _ := v.Field(f); n < 1 {
			errs = append(errs, fmt.Errorf("%s %s %d must be at least 1", k, f, n))
		}
	}
	if (k == Liveness || k == Startup) && v.SuccessThreshold != 1 {
		errs = append(errs, fmt.Errorf("%s successThreshold must be 1, not %d", k, v.SuccessThreshold))
	}
	if k == Readiness && p.TerminationGracePeriodSeconds != nil {
		errs = append(errs, errors.New("a readiness probe may not set terminationGracePeriodSeconds"))
	}
	if n := HandlerCount(p); n != 1 {
		errs = append(errs, fmt.Errorf("%s probe has %d handlers, want exactly 1", k, n))
	}
	return errors.Join(errs...)
}
