package recommend

import (
	"fmt"
	"strings"
	"time"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// minStuckThreshold is the least time a pod must be running and never ready before it counts as stuck.
const minStuckThreshold = time.Minute

// probesMissing reports a container without any probe: there is nothing to tune, and the rules after it are
// gated on this finding so that none of them explains or changes anything of the container.
func (r *containerRun) probesMissing() {
	c := r.c
	if probes.None(probes.Set{Startup: c.Startup, Liveness: c.Liveness, Readiness: c.Readiness}) {
		r.find(Info, ReasonNoProbes, fmt.Sprintf("container %s has no probes: Kubernetes cannot tell whether it is alive or ready, "+
			"and probe-tuner does not invent probes; add at least a readiness probe", c.Name))
	}
}

// identicalProbes reports liveness and readiness probes that are the same; the liveness rules are gated on it,
// since tuning such a liveness probe would tune a readiness check into a restart.
func (r *containerRun) identicalProbes() {
	c := r.c
	if probes.Identical(c.Liveness, c.Readiness) {
		r.find(Warning, ReasonIdenticalProbes, fmt.Sprintf("container %s has identical liveness and readiness probes: a failure that should only take the pod out of traffic also restarts it. "+
			"Point the liveness probe at a cheaper endpoint that checks only the process, or give it a higher failureThreshold than readiness", c.Name))
	}
}

// correlatedLiveness reports liveness kills that hit most replicas at once. Every tuning rule is gated on it:
// the restarts and failures then have a shared cause, and no probe setting of this container fixes it.
func (r *containerRun) correlatedLiveness() {
	c := r.c
	sig := c.Signals
	if sig.CorrelatedKills >= 2 && 2*sig.CorrelatedKills >= sig.Replicas {
		r.find(Warning, ReasonCorrelatedLiveness, fmt.Sprintf("%d of %d replicas of container %s were killed by their liveness probe on error answers (not timeouts) within %s of each other: "+
			"error answers that hit most replicas at once point at something they share (a database, a cache, a downstream service) checked inside the liveness probe. "+
			"Restarting cannot fix a shared dependency and takes every replica down together. Make the liveness probe check only this process, and check dependencies in the readiness probe",
			sig.CorrelatedKills, sig.Replicas, c.Name, sig.CorrelationWindow))
	}
}

// stuckNotReady reports pods that run without ever becoming ready far longer than a normal start.
func (r *containerRun) stuckNotReady() {
	c := r.c
	sig := c.Signals
	threshold, normal := r.stuckThreshold()
	var stuck []string
	var longest time.Duration
	for _, p := range sig.NotReady {
		if !p.EverReady && p.For > threshold {
			stuck = append(stuck, p.Pod)
			longest = max(longest, p.For)
		}
	}
	if len(stuck) > 0 {
		advice := "Their liveness probe passes while readiness fails: the application runs but never serves. Check what the readiness endpoint waits for"
		if c.Liveness == nil && c.Startup == nil {
			advice = "With only a readiness probe nothing will ever restart them: the capacity is lost silently. Add a startup probe (or a liveness probe) so that a start that never completes is restarted"
		}
		if slow, ok := r.slowReadiness(threshold); ok {
			advice = slow
		}
		// Whole minutes keep the message (and so the status) from changing on every look.
		r.find(Warning, ReasonStuckNotReady, fmt.Sprintf("%d pod(s) of container %s (%s) have been running without ever becoming ready for over %s, far longer than %s. %s",
			len(stuck), c.Name, strings.Join(stuck, ", "), max(longest.Truncate(time.Minute), time.Minute), normal, advice))
	}
}

// slowReadiness explains pods stuck not ready by the readiness probe's own settings, when they alone keep a
// container from becoming ready for longer than threshold even if every probe passes: no readiness probe runs
// before initialDelaySeconds, and Ready takes successThreshold passing probes in a row, periodSeconds apart. A
// failing endpoint is then not the cause to point at: the probe cannot pass in reasonable time. The message uses
// only the probe's settings and whether readiness failures were reported, so it does not change on every look.
func (r *containerRun) slowReadiness(threshold time.Duration) (string, bool) {
	if r.c.Readiness == nil {
		return "", false
	}
	v := probes.Of(r.c.Readiness)
	hold := readinessHold(v)
	if hold <= threshold {
		return "", false
	}
	// Name every setting that adds to the wait; advise lowering the ones that make up most of it.
	delay := time.Duration(max(v.InitialDelaySeconds, 0)) * time.Second
	var settings, fields []string
	if delay > 0 {
		settings = append(settings, fmt.Sprintf("initialDelaySeconds %d", v.InitialDelaySeconds))
		if 2*delay >= hold {
			fields = append(fields, "initialDelaySeconds")
		}
	}
	if v.SuccessThreshold > 1 {
		settings = append(settings, fmt.Sprintf("successThreshold %d x periodSeconds %ds", v.SuccessThreshold, v.PeriodSeconds))
		if 2*delay <= hold {
			fields = append(fields, "successThreshold")
		}
	}
	msg := fmt.Sprintf("Their readiness probe cannot pass in time: with %s, a pod cannot become ready until about %s after it starts, even if every probe passes",
		strings.Join(settings, " and "), hold)
	if v.SuccessThreshold > 1 && r.c.Signals.ReadinessFailures > 0 {
		msg += fmt.Sprintf("; readiness failures were reported too, and each one starts the count of %d successes again, so Ready may never be reached", v.SuccessThreshold)
	}
	return msg + ". Lower " + strings.Join(fields, " and "), true
}

// readinessHold is the least time a readiness probe's settings keep a started container from being ready:
// initialDelaySeconds, then successThreshold passing probes periodSeconds apart (the first may run at once).
func readinessHold(v probes.Values) time.Duration {
	return asDuration(max(int64(v.InitialDelaySeconds), 0) + max(int64(v.SuccessThreshold)-1, 0)*max(int64(v.PeriodSeconds), 0))
}

// stuckThreshold is how long a running pod may stay not ready before it counts as stuck: three times the
// workload's p99 start, or, with no completed start yet, the policy's largest startup budget.
func (r *containerRun) stuckThreshold() (time.Duration, string) {
	sig := r.c.Signals
	threshold := StuckThreshold(sig.Startup, r.in.Settings)
	if sig.Startup != nil && sig.Startup.Count > 0 {
		return threshold, fmt.Sprintf("the workload's normal start (p99 %s)", sig.Startup.Quantile(0.99).Round(100*time.Millisecond))
	}
	bound := time.Duration(r.in.Settings.Startup.MaxBudgetSeconds) * time.Second
	return threshold, fmt.Sprintf("the policy's startup bound of %s (no start has completed yet)", bound)
}

// StuckThreshold is how long a running pod of a container whose completed starts are startup may stay not ready,
// never having been ready, before the stuckNotReady finding counts it as stuck: three times the p99 start, or,
// with no completed start yet, the policy's largest startup budget; never under a minute.
func StuckThreshold(startup *observe.Histogram, s policy.Settings) time.Duration {
	if startup != nil && startup.Count > 0 {
		return max(3*startup.Quantile(0.99), minStuckThreshold)
	}
	return max(time.Duration(s.Startup.MaxBudgetSeconds)*time.Second, minStuckThreshold)
}

// notAProbeProblem explains restarts that probes did not cause and tuning cannot help.
func (r *containerRun) notAProbeProblem() {
	t := r.c.Signals.Restarts
	if t[observe.CauseLiveness]+t[observe.CauseStartup] > 0 {
		return
	}
	if oom, crash := t[observe.CauseOOM], t[observe.CauseError]; oom+crash > 0 {
		r.find(Info, ReasonNotAProbeProblem, fmt.Sprintf("container %s restarted %d times for reasons probes do not cause (%d OOM kills, %d application crashes): "+
			"its probes are left alone; look at its memory limit and its logs", r.c.Name, oom+crash, oom, crash))
	}
}
