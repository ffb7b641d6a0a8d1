package audit

import "github.com/probetuner/probe-tuner/internal/probes"

// probesMissing: without probes Kubernetes sends traffic to a container that cannot serve and never restarts
// one that hangs. The predicate is the operator's ProbesMissing one.
func probesMissing(t target) []hit {
	if !probes.None(t.set) {
		return nil
	}
	return []hit{{message: "the container has no probes: Kubernetes cannot tell whether it is ready or alive. " +
		"Add a readiness probe on the endpoint that serves traffic, and a liveness probe on a cheap endpoint that checks only the process"}}
}

// noLiveness: a readiness-only container that hangs is taken out of traffic but never restarted.
func noLiveness(t target) []hit {
	if t.set.Readiness == nil || t.set.Liveness != nil {
		return nil
	}
	return []hit{{probe: probes.Liveness, message: "the container has a readiness probe but no liveness probe: a hung container leaves traffic and is never restarted, " +
		"so its capacity is lost silently. Add a liveness probe on a cheap endpoint that checks only the process (not its dependencies)"}}
}

// noReadiness: a liveness-only container gets traffic as soon as it runs, before it can serve.
func noReadiness(t target) []hit {
	if t.set.Liveness == nil || t.set.Readiness != nil {
		return nil
	}
	return []hit{{probe: probes.Readiness, message: "the container has a liveness probe but no readiness probe: it receives traffic as soon as it runs, " +
		"before it can serve, and while it is overloaded. Add a readiness probe on the endpoint that serves traffic"}}
}
