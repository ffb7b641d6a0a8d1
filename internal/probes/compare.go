package probes

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// None reports whether a container has no probe at all: nothing tells Kubernetes whether it is alive or ready.
// The operator's ProbesMissing finding and the audit's check of the same name both use it.
func None(s Set) bool {
	return s.Startup == nil && s.Liveness == nil && s.Readiness == nil
}

// Identical reports whether two probes have the same handler and the same timing once the API defaults are
// applied; successThreshold (which must be 1 for liveness) and terminationGracePeriodSeconds (which readiness may
// not set) are ignored. The operator's IdenticalLivenessAndReadiness finding and the audit use it.
func Identical(a, b *corev1.Probe) bool {
	if a == nil || b == nil {
		return false
	}
	x, y := a.DeepCopy(), b.DeepCopy()
	Of(x).Apply(x)
	Of(y).Apply(y)
	x.SuccessThreshold, y.SuccessThreshold = 0, 0
	x.TerminationGracePeriodSeconds, y.TerminationGracePeriodSeconds = nil, nil
	return x.String() == y.String()
}

// SameHandler reports whether two probes check the same thing: the same command, the same HTTP request (path,
// port, host, scheme, headers), the same TCP port or the same gRPC service, whatever their timing.
func SameHandler(a, b *corev1.Probe) bool {
	if a == nil || b == nil {
		return false
	}
	return equality.Semantic.DeepEqual(a.ProbeHandler, b.ProbeHandler)
}
