package recommend

import (
	"fmt"
	"strings"
	"time"

	"github.com/probetuner/probe-tuner/internal/observe"
)

// minStuckThreshold is the least time a pod must be running and never ready before it counts as stuck.
const minStuckThreshold = time.Minute

// findPatterns reports what tuning must not touch blindly, and blocks the rules that would.
func (r *containerRun) findPatterns() {
	c := r.c
	sig := c.Signals
	if identical(c.Liveness, c.Readiness) {
		r.blockLiveness = true
		r.find(Warning, ReasonIdenticalProbes, fmt.Sprintf("container %s has identical liveness and readiness probes: a failure that should only take the pod out of traffic also restarts it. "+
			"Point the liveness probe at a cheaper endpoint that checks only the process, or give it a higher failureThreshold than readiness", c.Name))
	}
	if sig.CorrelatedKills >= 2 && 2*sig.CorrelatedKills >= sig.Replicas {
		r.blockLiveness, r.blockAll = true, true
		r.find(Warning, ReasonCorrelatedLiveness, fmt.Sprintf("%d of %d replicas of container %s were killed by their liveness probe within %s of each other: "+
			"failures that hit most replicas at once point at something they share (a database, a cache, a downstream service) checked inside the liveness probe. "+
			"Restarting cannot fix a shared dependency and takes every replica down together. Make the liveness probe check only this process, and check dependencies in the readiness probe",
			sig.CorrelatedKills, sig.Replicas, c.Name, sig.CorrelationWindow))
	}
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
		// Whole minutes keep the message (and so the status) from changing on every look.
		r.find(Warning, ReasonStuckNotReady, fmt.Sprintf("%d pod(s) of container %s (%s) have been running without ever becoming ready for over %s, far longer than %s. %s",
			len(stuck), c.Name, strings.Join(stuck, ", "), max(longest.Truncate(time.Minute), time.Minute), normal, advice))
	}
}

// stuckThreshold is how long a running pod may stay not ready before it counts as stuck: three times the
// workload's p99 start, or, with no completed start yet, the policy's largest startup budget.
func (r *containerRun) stuckThreshold() (time.Duration, string) {
	sig := r.c.Signals
	if sig.Startup != nil && sig.Startup.Count > 0 {
		p99 := sig.Startup.Quantile(0.99)
		return max(3*p99, minStuckThreshold), fmt.Sprintf("the workload's normal start (p99 %s)", p99.Round(100*time.Millisecond))
	}
	bound := time.Duration(r.in.Settings.Startup.MaxBudgetSeconds) * time.Second
	return max(bound, minStuckThreshold), fmt.Sprintf("the policy's startup bound of %s (no start has completed yet)", bound)
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
