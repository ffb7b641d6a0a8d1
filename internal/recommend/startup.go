package recommend

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// startupRule sizes the startup budget: the time a starting container has before a startup probe (or, without
// one, the liveness probe) kills it.
//
// A start killed before it completed is a censored observation: it only says the start takes longer than it was
// allowed. A crash loop produces nothing else, so from censored evidence the budget grows in bounded steps until
// starts complete; from completed starts it is sized to the target percentile times the safety margin, and
// tightened, with hysteresis, when it is far above what is needed.
func (r *containerRun) startupRule() {
	s := r.in.Settings
	sig := r.c.Signals
	st, live := r.next.Startup, r.next.Liveness
	if (st == nil && live == nil) || r.blockAll {
		return // nothing kills a slow start, or the workload's restarts have another cause
	}
	var budget int32
	if st != nil {
		budget = probes.Of(st).Budget()
	} else {
		budget = probes.Of(live).Budget()
	}
	minSamples := int(s.Pacing.MinSamples)
	margin := s.Startup.SafetyMargin
	maxBudget := s.Startup.MaxBudgetSeconds
	lowerBound := sig.StartLowerBound.Seconds()
	completed := 0
	if sig.Startup != nil {
		completed = sig.Startup.Count
	}

	var target, need int32
	var reason, evidence string
	switch {
	case sig.CensoredStarts >= minSamples:
		// The true start time is unknown beyond the lower bound: grow by a full step, at least to the bound
		// times the margin.
		need = max(seconds(lowerBound*margin), 2*budget)
		target = min(stepUp(budget, need, s.Pacing.MaxStepPercent), maxBudget)
		reason = ReasonStartupKilled
		evidence = fmt.Sprintf("%d starts were killed before they completed (the longest ran %.0fs) against a startup budget of %ds; %d completed starts observed",
			sig.CensoredStarts, lowerBound, budget, completed)
	case completed >= minSamples:
		q := sig.Startup.Quantile(s.Startup.TargetPercentile / 100).Seconds()
		need = seconds(q * margin)
		if sig.CensoredStarts > 0 {
			need = max(need, seconds(lowerBound*margin))
		}
		evidence = fmt.Sprintf("p%g of %d completed starts is %.1fs; with a %.2gx margin the start needs %ds; the startup budget is %ds",
			s.Startup.TargetPercentile, completed, q, margin, need, budget)
		// With no killed start, a measured start may exceed the true one by the period of the probe that saw
		// it complete; a budget within that resolution of the need is not raised.
		var resolution int32
		if sig.CensoredStarts == 0 {
			resolution = seconds(sig.StartupResolution.Seconds())
		}
		switch {
		case budget+resolution < need:
			target = min(stepUp(budget, need, s.Pacing.MaxStepPercent), maxBudget)
			reason = ReasonStartupBelowTarget
		case st != nil && sig.CensoredStarts == 0 && budget > 3*need:
			// Hysteresis: only a budget more than three times the need is tightened, to twice the need, so
			// that a hang during start is still caught and small drifts cause no churn.
			target = stepDown(budget, 2*need, s.Pacing.MaxStepPercent)
			reason = ReasonStartupTooLoose
		default:
			return
		}
	default:
		if sig.CensoredStarts > 0 || completed > 0 {
			r.wait("startup: %d completed and %d killed starts observed, %d needed before acting", completed, sig.CensoredStarts, minSamples)
		}
		return
	}
	if need > maxBudget {
		r.find(Warning, ReasonNeedsMoreThanBound, fmt.Sprintf("container %s needs a startup budget of about %ds, above the policy's maxBudgetSeconds of %ds: "+
			"probe-tuner stops at the bound; raise startup.maxBudgetSeconds or make the start faster", r.c.Name, need, maxBudget))
	}
	growing := reason != ReasonStartupTooLoose
	if (growing && target <= budget) || (!growing && target >= budget) {
		return // the bound leaves no room to move in the direction the evidence points
	}
	if r.setBudget(budget, target, reason, evidence) {
		r.gateLiveness()
	}
}

// setBudget makes the startup budget target: by resizing the startup probe, adding one with the liveness
// probe's handler, or, when adding is not allowed, by delaying the liveness probe. It reports whether a startup
// probe was added or resized.
func (r *containerRun) setBudget(budget, target int32, reason, evidence string) bool {
	s := r.in.Settings
	maxBudget := s.Startup.MaxBudgetSeconds
	switch st, live := r.next.Startup, r.next.Liveness; {
	case st != nil:
		v := probes.Of(st)
		ft := max(1, ceilDiv(target-v.InitialDelaySeconds, v.PeriodSeconds))
		for ft > 1 && v.InitialDelaySeconds+ft*v.PeriodSeconds > maxBudget {
			ft--
		}
		if got := v.InitialDelaySeconds + ft*v.PeriodSeconds; got > maxBudget || got < stepDown(budget, 0, s.Pacing.MaxStepPercent)-v.PeriodSeconds {
			r.find(Info, "StartupOutsideBounds", fmt.Sprintf("container %s: the startup probe's budget of %ds cannot be brought within the policy's bounds (maxBudgetSeconds %d) in one step of at most %d%%: "+
				"probe-tuner leaves it as it is; change it by hand", r.c.Name, budget, maxBudget, s.Pacing.MaxStepPercent))
			return false
		}
		return r.setField(probes.Startup, "failureThreshold", ft, reason, fmt.Sprintf("%s; startup budget %ds -> %ds", evidence, v.Budget(), v.InitialDelaySeconds+ft*v.PeriodSeconds))
	case s.Startup.AddWhenMissing:
		lv := probes.Of(live)
		period := min(s.Startup.PeriodSeconds, max(1, target))
		ft := max(1, ceilDiv(target, period))
		for ft > 1 && ft*period > maxBudget {
			ft--
		}
		added := &corev1.Probe{
			ProbeHandler:     *live.ProbeHandler.DeepCopy(),
			PeriodSeconds:    period,
			TimeoutSeconds:   lv.TimeoutSeconds,
			SuccessThreshold: 1,
			FailureThreshold: ft,
		}
		if !r.change(probes.Startup, FieldProbe, 0, 1, reason, fmt.Sprintf("%s; adds a startup probe of %d x %ds = %ds with the liveness probe's handler", evidence, ft, period, ft*period)) {
			return false
		}
		r.next.Startup = added
		return true
	default:
		v := probes.Of(live)
		delay := max(0, target-v.FailureThreshold*v.PeriodSeconds)
		r.setField(probes.Liveness, "initialDelaySeconds", delay, reason, fmt.Sprintf("%s; liveness initialDelaySeconds %d -> %d (adding startup probes is disabled by the policy)", evidence, v.InitialDelaySeconds, delay))
		return false
	}
}

// gateLiveness drops the liveness probe's initial delay once a startup probe gates it: the delay then only
// postpones the detection of a hang.
func (r *containerRun) gateLiveness() {
	if r.next.Startup == nil || r.next.Liveness == nil || r.next.Liveness.InitialDelaySeconds == 0 {
		return
	}
	r.setField(probes.Liveness, "initialDelaySeconds", 0, ReasonLivenessGated,
		fmt.Sprintf("a startup probe gates the liveness probe, so its initialDelaySeconds of %d only delays the detection of a hang", r.next.Liveness.InitialDelaySeconds))
}
