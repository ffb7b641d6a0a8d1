package recommend

import (
	"fmt"
	"math"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// MaxNeedlessKillsPerReplicaWeek is the needless-kill rate a tightened liveness probe may be expected to cause:
// a restart of a healthy container, on failures that would have recovered, once per replica-week. A tighter
// setting is taken only when the observed failure runs put its expected needless kills below this rate.
const MaxNeedlessKillsPerReplicaWeek = 1.0

// week is a week in seconds.
const week = 7 * 24 * 3600.0

// defaultFailureThreshold is the API's default failureThreshold, the floor of a tightened liveness probe.
const defaultFailureThreshold = 3

// tightenLiveness brings a liveness probe that takes longer to detect a hang than the policy's
// maxTimeToDetectSeconds within the bound, when the evidence shows that is safe.
//
// The costs are asymmetric both ways: a probe too loose leaves a hung container in service for minutes, a probe
// too tight restarts healthy containers on failures that would have recovered. The failure runs observed so far
// (near misses: runs that recovered on their own) estimate both how often a run starts and how long it lasts:
// a run starts with probability r per probe, and goes on after each failure with probability c (Laplace's rule
// over the continuations and ends seen). A window of k failures then kills needlessly about
// probes-per-week x r x c^(k-1) times per replica-week. The bound is the policy's instruction: the loosest
// failureThreshold within it is taken unless the runs actually seen put its estimate at or above
// MaxNeedlessKillsPerReplicaWeek (then the probe is reported). Tighter windows are taken only when r at an upper
// bound (three runs more than seen) keeps them below the rate, so a short watch cannot make a tight window look
// safe.
func (r *containerRun) tightenLiveness() {
	live := r.next.Liveness
	if live == nil || r.touched(probes.Liveness) {
		return
	}
	s := r.in.Settings
	sig := r.c.Signals
	v := probes.Of(live)
	bound := int64(s.Liveness.MaxTimeToDetectSeconds)
	if probes.TimeToDetect(v.FailureThreshold, v.PeriodSeconds, v.TimeoutSeconds) <= bound {
		return
	}
	if sig.Restarts[observe.CauseStartup] > 0 || sig.KillsBeforeReady > 0 {
		return // starts are being killed: the startup budget comes first
	}
	if sig.LivenessProbes*float64(v.PeriodSeconds) < s.Pacing.VerificationWindow.Seconds() {
		return // ready containers watched for less than one verification window
	}
	if r.tightenByPeriod(v, bound) {
		return
	}
	// The largest failureThreshold within the bound at the current period and timeout.
	loosest := int32(min((bound-int64(v.TimeoutSeconds))/int64(v.PeriodSeconds), int64(v.FailureThreshold)-1))
	loosest = stepDown(v.FailureThreshold, max(loosest, s.Liveness.MinFailureThreshold, 1), s.Pacing.MaxStepPercent)
	if loosest >= v.FailureThreshold || probes.TimeToDetect(loosest, v.PeriodSeconds, v.TimeoutSeconds) > bound {
		return // the bound cannot be met at this period and timeout in one step; reported below
	}
	if r.next.Startup == nil && !r.startCovered(v.InitialDelaySeconds+loosest*v.PeriodSeconds) {
		return // without a startup probe the liveness window is also the startup budget
	}
	// The tightest window whose expected needless kills stay below the accepted rate, but never below the
	// Kubernetes default of 3 failures (a single slow answer must not restart a container) or the policy's
	// minimum, and never looser than the bound allows. Without a startup probe it must still cover the start.
	floor := max(min(defaultFailureThreshold, loosest), s.Liveness.MinFailureThreshold)
	ft := loosest
	for k := floor; k < loosest; k++ {
		if r.next.Startup == nil && !r.startCovered(v.InitialDelaySeconds+k*v.PeriodSeconds) {
			continue
		}
		if needlessKillsPerWeek(sig, v.PeriodSeconds, k, unseenRuns) < MaxNeedlessKillsPerReplicaWeek {
			ft = k
			break
		}
	}
	// The bound itself is the policy's instruction: it is honoured unless the failures actually seen say a
	// window at the bound would restart healthy containers more often than the accepted rate.
	extra := float64(unseenRuns)
	if ft == loosest {
		extra = 0
	}
	needless := needlessKillsPerWeek(sig, v.PeriodSeconds, ft, extra)
	if needless >= MaxNeedlessKillsPerReplicaWeek {
		r.tightenBlocked = fmt.Sprintf("a failureThreshold of %d would bring it within the bound, but the failures observed so far (%d runs that recovered, %d failures, in about %.0f probes) put its needless kills at %.2g per replica-week, not below the %.0f probe-tuner accepts",
			ft, sig.NearMissRuns, sig.NearMissFailures, sig.LivenessProbes, needless, MaxNeedlessKillsPerReplicaWeek)
		return
	}
	evidence := fmt.Sprintf("the liveness probe takes up to %ds to detect a hang (failureThreshold %d x periodSeconds %ds + timeoutSeconds %ds), above the policy's maxTimeToDetectSeconds of %d; "+
		"in about %.0f probes of ready containers %d failure runs recovered on their own (%d failures), so a window of %d failures is expected to restart a healthy container about %.2g times per replica-week (accepted: below %.0f). "+
		"A too-loose probe leaves a hung container in service, a too-tight one restarts healthy ones: failureThreshold %d -> %d detects a hang within %ds",
		v.TimeToDetect(), v.FailureThreshold, v.PeriodSeconds, v.TimeoutSeconds, bound, sig.LivenessProbes, sig.NearMissRuns, sig.NearMissFailures,
		ft, needless, MaxNeedlessKillsPerReplicaWeek, v.FailureThreshold, ft, probes.TimeToDetect(ft, v.PeriodSeconds, v.TimeoutSeconds))
	r.setField(probes.Liveness, probes.FailureThreshold, ft, ReasonLivenessTightened, evidence)
}

// unseenRuns is how many failure runs more than were seen the estimate assumes when it goes tighter than the
// policy's bound: about the 95% upper bound of a rate with no event seen, so a short watch cannot make a tight
// window look safe.
const unseenRuns = 3.0

// needlessKillsPerWeek estimates how often per replica-week a liveness window of k failures at the given period
// would kill a healthy container, from the observed failure runs of ready containers, with extraRuns runs
// assumed beyond those seen.
func needlessKillsPerWeek(sig observe.Signals, period, k int32, extraRuns float64) float64 {
	runs, failures := float64(sig.NearMissRuns), float64(max(sig.NearMissFailures, sig.NearMissRuns))
	// Every failure after the first of a run continued it; every run ended once.
	continuation := (failures - runs + 1) / (failures + 2)
	startRate := min((runs+extraRuns)/max(sig.LivenessProbes, 1), 1)
	probesPerWeek := week / float64(max(period, 1))
	return probesPerWeek * startRate * math.Pow(continuation, float64(k-1))
}

// startCovered reports whether a liveness window of budget seconds still covers the container's start with the
// policy's margin, as known from completed starts.
func (r *containerRun) startCovered(budget int32) bool {
	sig := r.c.Signals
	q, known := observe.StartQuantile(sig.Startup, sig.Censored, r.in.Settings.Startup.TargetPercentile/100)
	// The count, not the decayed weight: a few starts long ago still measured the start.
	if !known || sig.Startup == nil || sig.Startup.Count < int(r.in.Settings.Pacing.MinSamples) {
		return false
	}
	return float64(budget) >= q.Seconds()*r.in.Settings.Startup.SafetyMargin
}

// touched reports whether a rule already changed probe k of this container.
func (r *containerRun) touched(k probes.Kind) bool {
	for _, ch := range r.changes {
		if ch.Probe == k {
			return true
		}
	}
	return false
}
