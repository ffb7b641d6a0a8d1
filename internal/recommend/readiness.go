package recommend

import (
	"fmt"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// readinessRule calms a readiness probe that flaps: Ready and NotReady more often per in-service hour than the
// policy tolerates. Timeouts raise timeoutSeconds; any transient failure raises failureThreshold; at the bound,
// successThreshold adds hysteresis.
func (r *containerRun) readinessRule() {
	rd := r.next.Readiness
	if rd == nil {
		return
	}
	s := r.in.Settings
	sig := r.c.Signals
	tolerance := float64(s.Readiness.FlappingTolerancePerHour)
	if sig.TransitionsPerHour <= tolerance {
		return
	}
	if sig.Transitions < int(s.Pacing.MinSamples) {
		r.wait("readiness: %d Ready/NotReady transitions observed, %d needed before acting", sig.Transitions, s.Pacing.MinSamples)
		return
	}
	v := probes.Of(rd)
	evidence := fmt.Sprintf("%d Ready/NotReady transitions in %.2f in-service hours (%.1f per hour, tolerance %.0f); %d readiness failures, %.0f%% of them timeouts; timeoutSeconds %d, failureThreshold %d, successThreshold %d",
		sig.Transitions, sig.InServiceHours, sig.TransitionsPerHour, tolerance, sig.ReadinessFailures, 100*sig.ReadinessTimeoutShare, v.TimeoutSeconds, v.FailureThreshold, v.SuccessThreshold)
	bounds := s.Readiness
	step := s.Pacing.MaxStepPercent
	atBounds := true
	if sig.ReadinessTimeoutShare >= 0.5 && v.TimeoutSeconds < min(bounds.MaxTimeoutSeconds, v.PeriodSeconds) {
		atBounds = false
		timeout := min(stepUp(v.TimeoutSeconds, bounds.MaxTimeoutSeconds, step), v.PeriodSeconds)
		r.setField(probes.Readiness, probes.TimeoutSeconds, timeout, ReasonReadinessFlapping, evidence)
	}
	if v.FailureThreshold < bounds.MaxFailureThreshold {
		atBounds = false
		ft := max(stepUp(v.FailureThreshold, bounds.MaxFailureThreshold, step), bounds.MinFailureThreshold)
		r.setField(probes.Readiness, probes.FailureThreshold, ft, ReasonReadinessFlapping, evidence)
	} else if v.SuccessThreshold < bounds.MaxSuccessThreshold {
		atBounds = false
		r.setField(probes.Readiness, probes.SuccessThreshold, stepUp(v.SuccessThreshold, bounds.MaxSuccessThreshold, step), ReasonReadinessFlapping, evidence)
	}
	if atBounds {
		r.find(Info, "ReadinessAtBounds", fmt.Sprintf("container %s flaps (%s) but its readiness probe is at the policy's bounds; the endpoint itself is too slow or unreliable", r.c.Name, evidence))
	}
}
