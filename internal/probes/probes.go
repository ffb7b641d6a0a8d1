// Package probes reads and checks the timing fields of Kubernetes probes: API defaults, the time budgets they
// imply, and the validity rules the API server enforces. It is pure: no client, no clock.
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

// Get returns the probe of the given kind of container c, or nil.
func Get(c *corev1.Container, k Kind) *corev1.Probe {
	switch k {
	case Startup:
		return c.StartupProbe
	case Liveness:
		return c.LivenessProbe
	case Readiness:
		return c.ReadinessProbe
	}
	return nil
}

// Set replaces the probe of the given kind of container c.
func Set(c *corev1.Container, k Kind, p *corev1.Probe) {
	switch k {
	case Startup:
		c.StartupProbe = p
	case Liveness:
		c.LivenessProbe = p
	case Readiness:
		c.ReadinessProbe = p
	}
}

// Of returns p's timing fields with the API defaults applied to the unset ones.
func Of(p *corev1.Probe) Values {
	v := Values{
		InitialDelaySeconds: p.InitialDelaySeconds,
		PeriodSeconds:       p.PeriodSeconds,
		TimeoutSeconds:      p.TimeoutSeconds,
		SuccessThreshold:    p.SuccessThreshold,
		FailureThreshold:    p.FailureThreshold,
	}
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

// Field returns the named timing field's value.
func (v Values) Field(name string) (int32, bool) {
	switch name {
	case "initialDelaySeconds":
		return v.InitialDelaySeconds, true
	case "periodSeconds":
		return v.PeriodSeconds, true
	case "timeoutSeconds":
		return v.TimeoutSeconds, true
	case "successThreshold":
		return v.SuccessThreshold, true
	case "failureThreshold":
		return v.FailureThreshold, true
	}
	return 0, false
}

// WithField returns v with the named timing field set to value.
func (v Values) WithField(name string, value int32) (Values, error) {
	switch name {
	case "initialDelaySeconds":
		v.InitialDelaySeconds = value
	case "periodSeconds":
		v.PeriodSeconds = value
	case "timeoutSeconds":
		v.TimeoutSeconds = value
	case "successThreshold":
		v.SuccessThreshold = value
	case "failureThreshold":
		v.FailureThreshold = value
	default:
		return v, fmt.Errorf("unknown probe field %q", name)
	}
	return v, nil
}

// FieldNames lists the timing fields in a stable order.
var FieldNames = []string{"initialDelaySeconds", "periodSeconds", "timeoutSeconds", "successThreshold", "failureThreshold"}

// Budget is how long the probe lets a container fail from its start before it acts:
// initialDelaySeconds + failureThreshold x periodSeconds. For a startup probe it is the startup budget; for a
// liveness probe without a startup probe, the time a starting container has before it is killed.
func (v Values) Budget() int32 {
	return v.InitialDelaySeconds + v.FailureThreshold*v.PeriodSeconds
}

// TimeToDetect is the longest a hung container goes unnoticed by a liveness probe: failureThreshold periods,
// the last of which may wait the full timeout.
func (v Values) TimeToDetect() int32 {
	return v.FailureThreshold*v.PeriodSeconds + v.TimeoutSeconds
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
	for _, f := range []struct {
		name string
		v    int32
	}{{"periodSeconds", v.PeriodSeconds}, {"timeoutSeconds", v.TimeoutSeconds}, {"successThreshold", v.SuccessThreshold}, {"failureThreshold", v.FailureThreshold}} {
		if f.v < 1 {
			errs = append(errs, fmt.Errorf("%s %s %d must be at least 1", k, f.name, f.v))
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
