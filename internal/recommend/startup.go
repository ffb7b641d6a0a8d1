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
// The costs are asymmetric. A budget that is too long costs almost nothing: a startup probe passes as soon as the
// application serves, so only a start that hangs waits longer to be restarted. A budget that is too short costs
// a crash loop. So the budget grows as far as the evidence asks in one change, and shrinks only with hysteresis
// and a margin for what a few samples cannot show.
//
// A start killed before it completed is a censored observation: it only says the start takes longer than it was
// allowed. Completed and killed starts are weighed together (Kaplan-Meier). When more of them were killed than
// the target percentile leaves out, that percentile lies above the budget at an unknown value: nothing observed
// bounds it, so the budget goes to the policy's maxBudgetSeconds at once, which ends the crash loop in one
// rollout whenever the start fits the policy at all; the starts that then complete give the percentile, and a
// later look tightens to it. Otherwise the percentile is read from the completed starts and the budget is sized
// to it times the margin, or tightened when it is far above what is needed.
func (r *containerRun) startupRule() {
	s := r.in.Settings
	sig := r.c.Signals
	st, live := r.next.Startup, r.next.Liveness
	if st == nil && live == nil {
		return // nothing kills a slow start
	}
	killer := live
	if st != nil {
		killer = st // it gates the liveness probe: only the startup probe kills a start
	}
	killerValues := probes.Of(killer)
	budget, killedFrom := killerValues.Budget(), atBudgetFrom(killerValues)
	killedAtBudget := weightAbove(sig.Censored, killedFrom)
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
		// an older, shorter budget (or one hang during a start) do not justify another change.
		if killedAtBudget < float64(s.Pacing.MinSamples) {
			r.wait("startup: %.0f starts killed at about the current budget of %ds (after %.0fs or more), %d needed before growing it",
				killedAtBudget, budget, killedFrom, s.Pacing.MinSamples)
			return
		}
		need = max(seconds(lowerBound*margin), budget+1)
		target = maxBudget
		reason = ReasonStartupKilled
		evidence = fmt.Sprintf("%.0f of %.0f recent starts were killed before they completed, too many for the p%g to be among the %.0f that completed; the longest killed start ran %.0fs against a startup budget of %ds, so the start needs more than that by an unknown amount. "+
			"A too-long startup budget costs little (the probe passes as soon as the application serves; only a start that hangs waits longer to be restarted), a too-short one costs a crash loop, so the budget goes to the policy's maxBudgetSeconds of %ds at once and is tightened once completed starts show the p%g",
			censoredW, total, s.Startup.TargetPercentile, completedW, lowerBound, budget, maxBudget, s.Startup.TargetPercentile)
	} else {
		qs := q.Seconds()
		need = seconds(qs * margin)
		// A measured start can exceed the true one by the period of the probe that saw it complete: the budget
		// is raised only when even the lowest reading of the start, times the margin, exceeds it.
		low := seconds(max(0, qs-sig.StartupResolution.Seconds()) * margin)
		evidence = fmt.Sprintf("p%g of %.0f recent starts is %.1fs (%.0f of them killed before completing, counted as longer than they ran); with a %.2gx margin the start needs %ds; the startup budget is %ds",
			s.Startup.TargetPercentile, total, qs, censoredW, margin, need, budget)
		switch {
		case budget < low && killedAtBudget >= 0.5:
			// Only once a start was actually killed at about this budget: the percentile alone says one may be
			// some day, and every change rolls every pod, which costs more than a rare kill. Then growing is
			// cheap and a short budget kills starts: straight to what the evidence needs, with room for twice
			// the longest start seen (the floor tightening keeps too), so that a start that keeps growing, or a
			// tail the samples have not shown yet, does not cost another rollout soon.
			target = min(max(need, seconds(2*sig.Startup.Max)), maxBudget)
			reason = ReasonStartupBelowTarget
			evidence += fmt.Sprintf("; a too-short budget kills starts while a longer one costs little, so it grows in one change to %ds, at least twice the longest start seen (%.1fs)", target, sig.Startup.Max)
		case st != nil && censoredW < 0.5 && budget > 2*looseNeed(need, sig.Startup, margin) && budget > s.Liveness.MaxTimeToDetectSeconds && !startsInProgress(sig):
			// Tightening costs a rollout of every pod, and gains only a faster restart of a start that hangs: it
			// is worth it only when such a hang would go unnoticed longer than the policy lets any hang
			// (maxTimeToDetectSeconds). Hysteresis: only a budget more than twice the need is tightened, so
			// small drifts cause no churn; the need here is also sized from the longest start the samples
			// suggest, since a few of them rarely include the slowest. It is tightened to the need, but never
			// below twice the longest start seen: a budget cut too far would cost a crash loop. Not while a
			// start is in progress: the starts that completed first are the quick ones, and the slow ones still
			// running would be missing from the estimate.
			longest := seconds(2 * sig.Startup.Max)
			target = stepDown(budget, max(need, longest), s.Pacing.MaxStepPercent)
			reason = ReasonStartupTooLoose
			evidence += fmt.Sprintf("; %.0f starts suggest a longest start of %.1fs (the longest seen plus the gap so few samples leave), and the budget is more than twice what that needs with the margin, so a start that hangs waits %ds to be restarted, longer than the policy's maxTimeToDetectSeconds of %ds: tightened to %ds, which keeps twice the longest start seen (%.1fs) since a too-short budget costs a crash loop",
				completedW, sig.Startup.UpperEstimate(), budget, s.Liveness.MaxTimeToDetectSeconds, target, sig.Startup.Max)
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

// atBudgetFrom is the shortest killed start that counts as killed at about the probe's current budget rather
// than under an older, shorter one: 80% of the budget, or, when the probe's period is long against its budget,
// the soonest the probe can act (a kill lands anywhere from there to the budget, by where the container's start
// falls in the probe's ticker), less a second for timestamps read to the second.
func atBudgetFrom(v probes.Values) float64 {
	return min(0.8*float64(v.Budget()), max(0, float64(v.EarliestAction()-1)))
}

// looseNeed is the startup budget below which a budget is never called too loose: the need from the target
// percentile, or the margin times the longest start the samples suggest, when that is more. A percentile read
// from a handful of starts is their longest, and the slowest start is usually not among them; tightening
// gains little (a hung start restarted sooner) while cutting too far costs a crash loop.
func looseNeed(need int32, completed *observe.Histogram, margin float64) int32 {
	if completed == nil {
		return need
	}
	return max(need, seconds(completed.UpperEstimate()*margin))
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
		return r.setField(probes.Startup, probes.FailureThreshold, ft, reason, fmt.Sprintf("%s; startup budget %ds -> %ds", evidence, v.Budget(), v.InitialDelaySeconds+ft*v.PeriodSeconds))
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
		if !r.change(probes.Startup, probes.WholeProbe, 0, 1, reason, fmt.Sprintf("%s; adds a startup probe of %d x %ds = %ds with the liveness probe's handler", evidence, ft, period, ft*period)) {
			return false
		}
		r.next.Startup = added
		return true
	default:
		v := probes.Of(live)
		delay := max(0, target-v.FailureThreshold*v.PeriodSeconds)
		r.setField(probes.Liveness, probes.InitialDelaySeconds, delay, reason, fmt.Sprintf("%s; liveness initialDelaySeconds %d -> %d (adding startup probes is disabled by the policy)", evidence, v.InitialDelaySeconds, delay))
		return false
	}
}

// gateLiveness drops the liveness probe's initial delay once a startup probe gates it: the delay then only
// postpones the detection of a hang.
func (r *containerRun) gateLiveness() {
	if r.next.Startup == nil || r.next.Liveness == nil || r.next.Liveness.InitialDelaySeconds == 0 {
		return
	}
	r.setField(probes.Liveness, probes.InitialDelaySeconds, 0, ReasonLivenessGated,
		fmt.Sprintf("a startup probe gates the liveness probe, so its initialDelaySeconds of %d only delays the detection of a hang", r.next.Liveness.InitialDelaySeconds))
}

// startsInProgress reports whether a pod of the container is running and has not been ready since it started:
// its start is not over, and the completed starts alone would understate how long starts take.
func startsInProgress(sig observe.Signals) bool {
	for _, p := range sig.NotReady {
		if !p.EverReady {
			return true
		}
	}
	return false
}
