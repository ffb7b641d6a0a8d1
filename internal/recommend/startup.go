package recommend

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// startupRule sizes the startup budget: the time a starting container has before a startup probe (or, without
// one, the liveness probe) kills it.
//
// A start killed before it completed is a censored observation: it only says the start takes longer than it was
// allowed. Completed and killed starts are weighed together: when more of them were killed than the target
// percentile leaves out, that percentile lies above the budget at an unknown value, so the budget grows by a
// full step (a crash loop produces nothing else). Otherwise the percentile is read from the completed starts,
// at the level that accounts for the killed ones above them, and the budget is sized to it times the margin,
// or tightened, with hysteresis, when it is far above what is needed.
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
	completedW, censoredW := weight(sig.Startup), weight(sig.Censored)
	total := completedW + censoredW
	if total < float64(s.Pacing.MinSamples) {
		if total > 0 {
			r.wait("startup: %.0f completed and %.0f killed starts observed recently, %d needed before acting", completedW, censoredW, s.Pacing.MinSamples)
		}
		return
	}
	margin := s.Startup.SafetyMargin
	maxBudget := s.Startup.MaxBudgetSeconds
	lowerBound := sig.StartLowerBound.Seconds()
	q, known := observe.StartQuantile(sig.Startup, sig.Censored, s.Startup.TargetPercentile/100)

	var target, need int32
	var reason, evidence string
	if !known {
		// The target percentile lies beyond every completed start, among the killed ones: its value is
		// unknown. Only starts killed at about the current budget show that this budget is short; kills under
		// an older, shorter budget (or one hang during a start) do not justify another step.
		atBudget := weightAbove(sig.Censored, 0.8*float64(budget))
		if atBudget < float64(s.Pacing.MinSamples) {
			r.wait("startup: %.0f starts killed at about the current budget of %ds, %d needed before growing it", atBudget, budget, s.Pacing.MinSamples)
			return
		}
		// Grow by a full step, at least to the longest killed start times the margin.
		need = max(seconds(lowerBound*margin), 2*budget)
		target = min(stepUp(budget, need, s.Pacing.MaxStepPercent), maxBudget)
		reason = ReasonStartupKilled
		evidence = fmt.Sprintf("%.0f of %.0f recent starts were killed before they completed, too many for the p%g to be among the %.0f that completed; the longest killed start ran %.0fs against a startup budget of %ds",
			censoredW, total, s.Startup.TargetPercentile, completedW, lowerBound, budget)
	} else {
		qs := q.Seconds()
		need = seconds(qs * margin)
		// A measured start can exceed the true one by the period of the probe that saw it complete: the budget
		// is raised only when even the lowest reading of the start, times the margin, exceeds it.
		low := seconds(max(0, qs-sig.StartupResolution.Seconds()) * margin)
		evidence = fmt.Sprintf("p%g of %.0f recent starts is %.1fs (%.0f of them killed before completing, counted as longer than they ran); with a %.2gx margin the start needs %ds; the startup budget is %ds",
			s.Startup.TargetPercentile, total, qs, censoredW, margin, need, budget)
		switch {
		case budget < low:
			target = min(stepUp(budget, need, s.Pacing.MaxStepPercent), maxBudget)
			reason = ReasonStartupBelowTarget
		case st != nil && censoredW < 0.5 && budget > 2*need:
			// Hysteresis: only a budget more than twice the need is tightened, to the need (which includes the
			// margin), so small drifts cause no churn and a hang during start is caught sooner.
			target = stepDown(budget, need, s.Pacing.MaxStepPercent)
			reason = ReasonStartupTooLoose
		default:
			return
		}
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

// weightAbove is the decayed weight of a histogram's samples of at least the given seconds.
func weightAbove(h *observe.Histogram, seconds float64) float64 {
	if h == nil {
		return 0
	}
	return h.WeightAbove(seconds)
}

// weight is a histogram's decayed weight, zero for none.
func weight(h *observe.Histogram) float64 {
	if h == nil {
		return 0
	}
	return h.Weight()
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
