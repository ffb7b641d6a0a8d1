package audit

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// identicalProbes: a liveness probe identical to the readiness probe restarts a container for every failure
// that should only take it out of traffic. The predicate is the operator's IdenticalLivenessAndReadiness one.
func identicalProbes(t target) []hit {
	if !probes.Identical(t.set.Liveness, t.set.Readiness) {
		return nil
	}
	return []hit{{probe: probes.Liveness, message: "the liveness and readiness probes are identical: a failure that should only take the pod out of traffic also restarts it. " +
		"Point the liveness probe at its own, cheaper endpoint that checks only the process (the same endpoint with other timings is PT007)"}}
}

// sameHandlerOtherTiming: liveness and readiness on one endpoint differ only in when they act, so the
// endpoint's dependencies (a database, a downstream service) decide restarts too.
func sameHandlerOtherTiming(t target) []hit {
	l, r := t.set.Liveness, t.set.Readiness
	if !probes.SameHandler(l, r) || probes.Identical(l, r) {
		return nil
	}
	return []hit{{probe: probes.Liveness, message: fmt.Sprintf("the liveness and readiness probes check the same %s with different timings: whatever fails readiness "+
		"(a dependency, an overload) also restarts the container, only later. Give liveness its own endpoint that checks only the process", describeHandler(l))}}
}

// describeHandler names what a probe checks, for messages.
func describeHandler(p *corev1.Probe) string {
	switch {
	case p.HTTPGet != nil:
		return fmt.Sprintf("HTTP path %q on port %s", p.HTTPGet.Path, p.HTTPGet.Port.String())
	case p.TCPSocket != nil:
		return "TCP port " + p.TCPSocket.Port.String()
	case p.GRPC != nil:
		return fmt.Sprintf("gRPC port %d", p.GRPC.Port)
	case p.Exec != nil:
		return "command"
	}
	return "handler"
}
