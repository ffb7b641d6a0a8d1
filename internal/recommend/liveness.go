package recommend

import (
	"fmt"
	"math"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// livenessRule raises the liveness probe's tolerance when it kills containers that had been ready on transient
// failures, within the policy's bounds on failureThreshold and on the time to detect a hung container.
//
// Whether kills are transient is judged from the failure runs that recovered on their own (near misses): they
// give the chance p that one probe fails by accident. Runs of failureThreshold such accidents then happen about
// probes x p^failureThreshold times. Kills that this explains are needless; many more kills than it explains are
// real hangs, which the probe is right to end. With failureThreshold 1 any single blip kills, so every kill
// counts as transient.
func (r *containerRun) livenessRule() {
	live := r.next.Liveness
	if live == nil {
		return
	}
	s := r.in.Settings
	sig := r.c.Signals
	kills := min(sig.Restarts[observe.CauseLiveness], sig.KillsAfterReady)
	if kills < int(s.Pacing.MinSamples) {
		if kills > 0 {
			r.wait("liveness: %d kills of ready containers observed, %d needed before acting", kills, s.Pacing.MinSamples)
		}
		return
	}
	v := probes.Of(live)
	chance := 0.0
	if sig.LivenessProbes > 0 {
		chance = float64(sig.NearMissFailures) / sig.LivenessProbes
	}
	byChance := sig.LivenessProbes * math.Pow(chance, float64(v.FailureThreshold))
	transient := v.FailureThreshold == 1 || float64(kills) <= 3*byChance+1
	if !transient {
		r.find(Info, "LivenessKillsLookLikeHangs", fmt.Sprintf("container %s: %d liveness kills of ready containers, but the failures that recovered on their own (%d in %.0f probes) "+
			"make a run of %d failures by chance unlikely (about %.2f expected): the kills look like real hangs, so the liveness probe is left as it is",
			r.c.Name, kills, sig.NearMissFailures, sig.LivenessProbes, v.FailureThreshold, byChance))
		return
	}
	evidence := fmt.Sprintf("%d liveness kills of ready containers (%.1f per in-service hour); %d failure runs recovered on their own (%d failures in about %.0f probes, %.2f%% each), so runs of %d failures happen by chance about %.1f times; %.0f%% of failures were timeouts; failureThreshold %d x periodSeconds %ds, timeoutSeconds %ds",
		kills, sig.LivenessKillsPerHour, sig.NearMissRuns, sig.NearMissFailures, sig.LivenessProbes, 100*chance, v.FailureThreshold, byChance,
		100*sig.LivenessTimeoutShare, v.FailureThreshold, v.PeriodSeconds, v.TimeoutSeconds)

	bounds := s.Liveness
	timeout := v.TimeoutSeconds
	if sig.LivenessTimeoutShare >= 0.5 && timeout < min(bounds.MaxTimeoutSeconds, v.PeriodSeconds) {
		timeout = min(stepUp(timeout, bounds.MaxTimeoutSeconds, s.Pacing.MaxStepPercent), v.PeriodSeconds)
	}
	// The largest failureThreshold the time-to-detect bound allows with the new timeout.
	ftByDetect := (bounds.MaxTimeToDetectSeconds - timeout) / v.PeriodSeconds
	maxFT := min(bounds.MaxFailureThreshold, ftByDetect)
	want := min(maxFT, max(3, 2*v.FailureThreshold))
	ft := stepUp(v.FailureThreshold, want, s.Pacing.MaxStepPercent)
	if ft < bounds.MinFailureThreshold {
		if bounds.MinFailureThreshold <= maxFT {
			ft = bounds.MinFailureThreshold
		} else {
			ft = v.FailureThreshold // the minimum and the time-to-detect bound cannot both hold: leave it
		}
	}
	if probes.TimeToDetect(ft, v.PeriodSeconds, timeout) > int64(bounds.MaxTimeToDetectSeconds) {
		timeout = v.TimeoutSeconds // keep the bound: prefer the threshold over the timeout
	}
	if ft == v.FailureThreshold && timeout == v.TimeoutSeconds {
		r.find(Info, "LivenessAtBounds", fmt.Sprintf("container %s: liveness kills look transient (%s), but failureThreshold and timeoutSeconds are at the policy's bounds "+
			"(maxFailureThreshold %d, maxTimeToDetectSeconds %d, maxTimeoutSeconds %d)", r.c.Name, evidence, bounds.MaxFailureThreshold, bounds.MaxTimeToDetectSeconds, bounds.MaxTimeoutSeconds))
		return
	}
	if probes.TimeToDetect(ft, v.PeriodSeconds, timeout) > int64(bounds.MaxTimeToDetectSeconds) {
		return // the current probe already exceeds the bound; probe-tuner does not make it worse
	}
	r.setField(probes.Liveness, probes.TimeoutSeconds, timeout, ReasonLivenessTransient, evidence)
	r.setField(probes.Liveness, probes.FailureThreshold, ft, ReasonLivenessTransient, evidence)
}

// slowHangDetection reports a liveness probe that takes longer to detect a hung container than the policy's
// maxTimeToDetectSeconds and that tightenLiveness could not bring within it: advice, since a shorter window
// without evidence could restart containers on failures that would have recovered.
func (r *containerRun) slowHangDetection() {
	if r.next.Liveness == nil {
		return
	}
	v := probes.Of(r.next.Liveness) // as it will be: a probe just tightened into the bound is not reported
	bound := r.in.Settings.Liveness.MaxTimeToDetectSeconds
	detect := probes.TimeToDetect(v.FailureThreshold, v.PeriodSeconds, v.TimeoutSeconds)
	if detect <= int64(bound) {
		return
	}
	why := r.tightenBlocked
	if why == "" {
		why = "probe-tuner does not tighten liveness without evidence: it tightens once ready containers have been watched long enough, with no start being killed, to show a window within the bound is safe"
	}
	r.find(Info, ReasonSlowHangDetection, fmt.Sprintf("container %s: its liveness probe takes up to %s to detect a hang (failureThreshold %d x periodSeconds %ds + timeoutSeconds %ds), "+
		"above the policy's maxTimeToDetectSeconds of %ds. %s; lower failureThreshold or periodSeconds by hand if hangs matter more",
		r.c.Name, asDuration(detect), v.FailureThreshold, v.PeriodSeconds, v.TimeoutSeconds, bound, why))
}
