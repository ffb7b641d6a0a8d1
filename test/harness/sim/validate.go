package sim

import (
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateProbes applies the API server's probe validation rules that matter
// to the simulation (pkg/apis/core/validation/validation.go validateProbe and
// friends): exactly one handler, no negative numbers, successThreshold 1 for
// liveness and startup probes, no terminationGracePeriodSeconds on readiness
// probes and a positive one elsewhere. A pod that fails them would be rejected
// by the API server, so AddPod rejects it too. Native sidecars' probes follow
// the same rules; a plain init container may have none.
func ValidateProbes(spec *corev1.PodSpec) field.ErrorList {
	var errs field.ErrorList
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		path := field.NewPath("spec", "initContainers").Index(i)
		if isSidecar(c) {
			errs = append(errs, validateProbe(c.StartupProbe, Startup, path.Child("startupProbe"))...)
			errs = append(errs, validateProbe(c.ReadinessProbe, Readiness, path.Child("readinessProbe"))...)
			errs = append(errs, validateProbe(c.LivenessProbe, Liveness, path.Child("livenessProbe"))...)
			continue
		}
		for _, pr := range []struct {
			p    *corev1.Probe
			name string
		}{{c.StartupProbe, "startupProbe"}, {c.ReadinessProbe, "readinessProbe"}, {c.LivenessProbe, "livenessProbe"}} {
			if pr.p != nil {
				errs = append(errs, field.Forbidden(path.Child(pr.name), "may not be set for init containers without restartPolicy=Always"))
			}
		}
	}
	for i := range spec.Containers {
		c := &spec.Containers[i]
		path := field.NewPath("spec", "containers").Index(i)
		errs = append(errs, validateProbe(c.StartupProbe, Startup, path.Child("startupProbe"))...)
		errs = append(errs, validateProbe(c.ReadinessProbe, Readiness, path.Child("readinessProbe"))...)
		errs = append(errs, validateProbe(c.LivenessProbe, Liveness, path.Child("livenessProbe"))...)
	}
	return errs
}

func validateProbe(p *corev1.Probe, t ProbeType, path *field.Path) field.ErrorList {
	if p == nil {
		return nil
	}
	var errs field.ErrorList
	handlers := 0
	for _, h := range []struct {
		set  bool
		name string
	}{{p.Exec != nil, "exec"}, {p.HTTPGet != nil, "httpGet"}, {p.TCPSocket != nil, "tcpSocket"}, {p.GRPC != nil, "grpc"}} {
		if !h.set {
			continue
		}
		if handlers > 0 {
			errs = append(errs, field.Forbidden(path.Child(h.name), "may not specify more than 1 handler type"))
		}
		handlers++
	}
	if handlers == 0 {
		errs = append(errs, field.Required(path, "must specify a handler type"))
	}
	for _, f := range []struct {
		v    int32
		name string
	}{{p.InitialDelaySeconds, "initialDelaySeconds"}, {p.TimeoutSeconds, "timeoutSeconds"}, {p.PeriodSeconds, "periodSeconds"}, {p.SuccessThreshold, "successThreshold"}, {p.FailureThreshold, "failureThreshold"}} {
		if f.v < 0 {
			errs = append(errs, field.Invalid(path.Child(f.name), f.v, apivalidation.IsNegativeErrorMsg))
		}
	}
	if g := p.TerminationGracePeriodSeconds; g != nil && *g <= 0 {
		errs = append(errs, field.Invalid(path.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
	}
	switch t {
	case Liveness, Startup:
		if p.SuccessThreshold != 1 {
			errs = append(errs, field.Invalid(path.Child("successThreshold"), p.SuccessThreshold, "must be 1"))
		}
	case Readiness:
		if p.TerminationGracePeriodSeconds != nil {
			errs = append(errs, field.Invalid(path.Child("terminationGracePeriodSeconds"), p.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
		}
	}
	return errs
}
