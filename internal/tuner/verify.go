package tuner

import (
	"fmt"
	"time"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// unavailabilitySlack is how much more of its in-service time the new revision may spend not ready before a
// change counts as making availability worse: small samples (a few pods over a few minutes) move the share by
// several points on their own.
const unavailabilitySlack = 0.10

// stalledFactor bounds how long a change waits for its rollout to complete before it is judged anyway, in
// verification windows: a rollout that stalls (its new pods never become ready) is itself the verdict.
const stalledFactor = 3

// verify checks the last change once its verification window has passed since its rollout completed (or, if the
// rollout stalls, since the change). A change that did not lower the probe-caused restart rate it was made for,
// or that made availability worse, is reverted and blocked.
func verify(st *WorkloadState, f Facts, s policy.Settings, now time.Time) (Action, bool) {
	lc := st.LastChange
	if lc == nil || lc.Verified || lc.Reverted {
		return Action{}, false
	}
	if lc.SettledAt.IsZero() && !f.RolloutInProgress && f.Revision != lc.FromRevision {
		lc.SettledAt = now
	}
	window := s.Pacing.VerificationWindow
	settled := !lc.SettledAt.IsZero() && now.Sub(lc.SettledAt) >= window
	// A rollout whose new pods are killed before they start cannot complete: waiting for it to settle would wait
	// on a verification that cannot start, so it is judged once its window has passed since the change.
	stalled := f.RolloutInProgress && newPodsKilledBeforeReady(st, f, s) && now.Sub(lc.Time) >= window
	if !settled && !stalled && now.Sub(lc.Time) < stalledFactor*window {
		return Action{}, false
	}
	if f.Revision == lc.FromRevision {
		// The new revision never rolled out (or was rolled back by someone): nothing to compare.
		lc.Verified = true
		return Action{}, false
	}
	before := observe.Summary(&st.Observation, lc.FromRevision)
	after := observe.Summary(&st.Observation, f.Revision)
	if before.PodHours == 0 {
		// Nothing was observed of the revision before the change: a change adopted from the Deployment by a
		// fresh state (a policy deleted and re-created, a checkpoint lost). Restarts after it cannot be
		// compared with an unknown "before", so the change is kept as it is, never reverted on no evidence.
		lc.Verified = true
		return Action{}, false
	}
	rate := func(r observe.RevisionSummary) float64 { return float64(r.ProbeRestarts) / max(r.PodHours, 1.0/60) }
	var why string
	switch {
	case lc.RestartMotivated() && !lc.GrowsStartupBudget() && after.ProbeRestarts > 0 && rate(after) >= rate(before):
		// Kills at a larger startup budget are progress (the start needs even more), not a failed change:
		// the startup rule grows the budget again, and undoing it would only bring the shorter kills back.
		why = fmt.Sprintf("probe-caused restarts did not fall: %.1f per pod-hour before, %.1f after", rate(before), rate(after))
	case lc.Tightens() && after.ProbeRestarts >= int(s.Pacing.MinSamples) && rate(after) > rate(before):
		why = fmt.Sprintf("probe-caused restarts rose after the probe was tightened: %.1f per pod-hour before, %.1f after", rate(before), rate(after))
	case after.Unavailability > before.Unavailability+unavailabilitySlack && !lc.GrowsStartupBudget():
		// (A longer startup budget cannot make a ready pod less ready; a crash loop's pods were never ready, so
		// its "before" share says nothing.)
		why = fmt.Sprintf("pods were not ready %.0f%% of the time after the change against %.0f%% before", 100*after.Unavailability, 100*before.Unavailability)
	}
	if why == "" {
		lc.Verified = true
		return Action{}, false
	}
	inverse := make([]probes.Change, len(lc.Changes))
	for i, c := range lc.Changes {
		inverse[i] = probes.Change{Container: c.Container, Probe: c.Probe, Field: c.Field, From: c.To, To: c.From,
			Reason: "AdjustmentReverted", Evidence: why}
	}
	st.block(lc.Changes)
	return Action{Kind: Revert, Changes: inverse, Record: true, Reason: why, ID: lc.ID + "-revert"}, true
}

// newPodsKilledBeforeReady reports whether the current revision's pods of some container were killed by a probe
// before they completed their start, at least minSamples times.
func newPodsKilledBeforeReady(st *WorkloadState, f Facts, s policy.Settings) bool {
	rev := st.Observation.Revision(f.Revision)
	if rev == nil {
		return false
	}
	for _, rc := range rev.Containers {
		if rc.KillsBeforeReady >= int(s.Pacing.MinSamples) {
			return true
		}
	}
	return false
}

// verificationEnd is when the change's verification window closes as far as is known now: the window after the
// rollout settled, or after the change while it has not.
func verificationEnd(lc *ChangeRecord, s policy.Settings) time.Time {
	if !lc.SettledAt.IsZero() {
		return lc.SettledAt.Add(s.Pacing.VerificationWindow)
	}
	return lc.Time.Add(s.Pacing.VerificationWindow)
}
