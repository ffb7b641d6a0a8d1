package recommend

import (
	"fmt"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// livenessRule raises the liveness probe's tolerance when it kills containers that had been ready on transient
// failures, within the policy's bounds on failureThreshold and on the time to detect a hung container.
//
// A kill is transient evidence when failureThreshold is 1 (any single blip kills) or when more failures were
// reported than the kills explain (some failure runs recovered on their own). Kills that each followed exactly
// failureThreshold failures look like real hangs and are left alone.
func (r *containerRun) livenessRule() {
	live := r.next.Liveness
	if live == nil || r.blockLiveness || r.blockAll {
		return
	}
	s := r.in.Settings
	sig := r.c.Signals
	kills := sig.Restarts[observe.CauseLiveness]
	killsAfterReady := min(kills, sig.KillsAfterReady)
	if killsAfterReady < int(s.Pacing.MinSamples) {
		if killsAfterReady > 0 {
			r.wait("liveness: %d kills of ready containers observed, %d needed before acting", killsAfterReady, s.Pacing.MinSamples)
		}
		return
	}
	v := probes.Of(live)
	transient := v.FailureThreshold == 1 || sig.LivenessFailures > killsAfterReady*int(v.FailureThreshold)
	if !transient {
		r.find(Info, "LivenessKillsLookLikeHangs", fmt.Sprintf("container %s: each of %d liveness kills followed %d consecutive failures with none recovering; "+
			"that is what a hang looks like, so the liveness probe is left as it is", r.c.Name, killsAfterReady, v.FailureThreshold))
		return
	}
	evidence := fmt.Sprintf("%d liveness kills of ready containers (%.1f per in-service hour) after %d reported liveness failures, %.0f%% of them timeouts; failureThreshold %d x periodSeconds %ds, timeoutSeconds %ds",
		killsAfterReady, sig.LivenessKillsPerHour, sig.LivenessFailures, 100*sig.LivenessTimeoutShare, v.FailureThreshold, v.PeriodSeconds, v.TimeoutSeconds)

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
	if ft*v.PeriodSeconds+timeout > bounds.MaxTimeToDetectSeconds {
		timeout = v.TimeoutSeconds // keep the bound: prefer the threshold over the timeout
	}
	if ft == v.FailureThreshold && timeout == v.TimeoutSeconds {
		r.find(Info, "LivenessAtBounds", fmt.Sprintf("container %s: liveness kills look transient (%s), but failureThreshold and timeoutSeconds are at the policy's bounds "+
			"(maxFailureThreshold %d, maxTimeToDetectSeconds %d, maxTimeoutSeconds %d)", r.c.Name, evidence, bounds.MaxFailureThreshold, bounds.MaxTimeToDetectSeconds, bounds.MaxTimeoutSeconds))
		return
	}
	if ft*v.PeriodSeconds+timeout > bounds.MaxTimeToDetectSeconds {
		return // the current probe already exceeds the bound; probe-tuner does not make it worse
	}
	r.setField(probes.Liveness, "timeoutSeconds", timeout, ReasonLivenessTransient, evidence)
	r.setField(probes.Liveness, "failureThreshold", ft, ReasonLivenessTransient, evidence)
}
