package recommend

import (
	"fmt"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// minTightenedPeriodSeconds is the shortest liveness period tightenByPeriod sets: probing more often costs the
// container (an exec probe is a process per probe) for hangs found a few seconds sooner.
const minTightenedPeriodSeconds = 5

// tightenByPeriod brings a liveness probe within maxTimeToDetectSeconds by shortening its period when the bound
// leaves fewer than the Kubernetes default of 3 failures at the current period (30 s x 2 failures within 60 s,
// or a single failure): such a window restarts a container on one or two slow answers, while 3 failures at a
// shorter period detect a hang as soon and need a slow spell to last two periods. It keeps
// min(3, failureThreshold) failures (or the policy's minimum) and takes the longest period that fits the bound,
// and reports whether it changed the probe. It leaves the probe to the failureThreshold-only path when that
// period would be below minTightenedPeriodSeconds or not above timeoutSeconds, when the policy's maxStepPercent
// does not let the period fall that far in one step, when the window would no longer cover the start of a
// container without a startup probe, or when the failures seen say the window is not safe.
func (r *containerRun) tightenByPeriod(v probes.Values, bound int64) bool {
	s := r.in.Settings
	keep := max(min(defaultFailureThreshold, v.FailureThreshold), s.Liveness.MinFailureThreshold)
	spare := bound - int64(v.TimeoutSeconds)
	if spare/int64(v.PeriodSeconds) >= int64(keep) {
		return false // failureThreshold alone reaches the bound and keeps enough failures
	}
	ft := stepDown(v.FailureThreshold, keep, s.Pacing.MaxStepPercent)
	period := int32(spare / int64(ft))
	if period < minTightenedPeriodSeconds || period <= v.TimeoutSeconds || period >= v.PeriodSeconds ||
		stepDown(v.PeriodSeconds, period, s.Pacing.MaxStepPercent) != period {
		return false
	}
	if r.next.Startup == nil && !r.startCovered(v.InitialDelaySeconds+ft*period) {
		return false
	}
	// The failures seen were counted at the current period. A slow spell that fails ft probes in a row at the
	// new period lasts at least (ft-1) x period seconds, so it failed at least that many current periods'
	// probes in a row (one at the least): the kill rate of such runs bounds the new window's.
	runLength := max(1, (ft-1)*period/v.PeriodSeconds)
	needless := needlessKillsPerWeek(r.c.Signals, v.PeriodSeconds, runLength, 0)
	if needless >= MaxNeedlessKillsPerReplicaWeek {
		return false
	}
	sig := r.c.Signals
	evidence := fmt.Sprintf("the liveness probe takes up to %ds to detect a hang (failureThreshold %d x periodSeconds %ds + timeoutSeconds %ds), above the policy's maxTimeToDetectSeconds of %d, "+
		"and at a period of %ds the bound leaves room for %d failure(s), so one or two slow answers would restart a healthy container; "+
		"in about %.0f probes of ready containers %d failure runs recovered on their own (%d failures), so a window of %d failures %ds apart is expected to restart a healthy container about %.2g times per replica-week (accepted: below %.0f). "+
		"A too-loose probe leaves a hung container in service, a too-tight one restarts healthy ones: periodSeconds %d -> %d and failureThreshold %d -> %d detect a hang within %ds and probe %.1f times as often",
		v.TimeToDetect(), v.FailureThreshold, v.PeriodSeconds, v.TimeoutSeconds, bound, v.PeriodSeconds, spare/int64(v.PeriodSeconds),
		sig.LivenessProbes, sig.NearMissRuns, sig.NearMissFailures, ft, period, needless, MaxNeedlessKillsPerReplicaWeek,
		v.PeriodSeconds, period, v.FailureThreshold, ft, probes.TimeToDetect(ft, period, v.TimeoutSeconds), float64(v.PeriodSeconds)/float64(period))
	// Both fields or neither: one of them frozen by a hand edit or blocked by a revert leaves the other alone.
	made, saved := len(r.changes), *r.next.Liveness
	if !r.setField(probes.Liveness, probes.PeriodSeconds, period, ReasonLivenessTightened, evidence) ||
		(ft != v.FailureThreshold && !r.setField(probes.Liveness, probes.FailureThreshold, ft, ReasonLivenessTightened, evidence)) {
		r.changes = r.changes[:made]
		*r.next.Liveness = saved
		return false
	}
	return true
}
