// Package tuner paces probe changes for one workload: it runs the recommendation on what was observed, and
// decides whether to apply it now, keep it as a recommendation, wait (cooldown, rollout, verification, pause),
// or revert the last change because it did not help. It is pure; the operator and the benchmark harness both
// drive it and carry out its actions.
package tuner

import (
	"slices"
	"time"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

// WorkloadState is everything probe-tuner keeps about one workload between reconciles. It is plain data,
// checkpointed as JSON so that a restart loses nothing.
type WorkloadState struct {
	// Observation is what was observed of the workload's pods.
	Observation observe.State `json:"observation"`
	// LastChange is the last change applied to the workload.
	LastChange *ChangeRecord `json:"lastChange,omitempty"`
	// Blocked lists changes that were reverted; they are not tried again.
	Blocked []probes.Change `json:"blocked,omitempty"`
	// Frozen lists fields a person changed by hand after probe-tuner had set them; they are left alone.
	Frozen []probes.FieldRef `json:"frozen,omitempty"`
	// LastRecommendation is the signature of the last recommendation recorded, so that an unchanged
	// recommendation is not recorded again on every reconcile.
	LastRecommendation string `json:"lastRecommendation,omitempty"`
	// LastFindings is the signature of the findings last reported, for the same reason.
	LastFindings string `json:"lastFindings,omitempty"`

	// WatchedSince is when the caller began looking at the workload without a break (every change to its pods
	// since led to a look), zero when it did not; it goes with each look as observe.Input.WatchedSince. It is
	// the caller's and not checkpointed: a restarted operator has not watched what happened while it was away.
	WatchedSince time.Time `json:"-"`
}

// block adds changes to Blocked, each once: a revert decided again because its write lost a race or failed
// blocks nothing new, and the checkpoint does not grow with each retry.
func (st *WorkloadState) block(changes []probes.Change) {
	for _, c := range changes {
		if !slices.ContainsFunc(st.Blocked, c.Same) {
			st.Blocked = append(st.Blocked, c)
		}
	}
}

// ChangeRecord is one change written to a workload.
type ChangeRecord struct {
	// ID identifies the decision; it is also written on the Deployment, so a decision is recorded and applied
	// once even if the operator dies between the two.
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	// FromRevision is the pod-template-hash before the change; verification compares it with the new one.
	FromRevision string `json:"fromRevision,omitempty"`
	// Changes are the fields changed.
	Changes []probes.Change `json:"changes"`
	// SettledAt is when the change's rollout was first seen complete; the verification window runs from then.
	SettledAt time.Time `json:"settledAt,omitempty"`
	// Verified says the change was checked after its verification window and kept.
	Verified bool `json:"verified,omitempty"`
	// Reverted says the change was undone.
	Reverted bool `json:"reverted,omitempty"`
}

// RestartMotivated reports whether the change was made to stop restarts (rather than flapping).
func (c *ChangeRecord) RestartMotivated() bool {
	for _, ch := range c.Changes {
		switch ch.Reason {
		case recommend.ReasonStartupKilled, recommend.ReasonLivenessTransient, recommend.ReasonStartupBelowTarget:
			return true
		}
	}
	return false
}

// GrowsStartupBudget reports whether every field the change touched gave starts more time: an added startup
// probe, a larger startup failureThreshold, or a longer liveness initial delay, all made because starts were
// killed or fell short.
func (c *ChangeRecord) GrowsStartupBudget() bool {
	if len(c.Changes) == 0 {
		return false
	}
	for _, ch := range c.Changes {
		switch {
		case ch.Reason == recommend.ReasonLivenessGated:
			// Dropping the liveness delay behind an added startup probe rides along with the growth.
		case (ch.Reason == recommend.ReasonStartupKilled || ch.Reason == recommend.ReasonStartupBelowTarget) && ch.To > ch.From:
		default:
			return false
		}
	}
	return true
}

// Tightens reports whether the change made a probe less tolerant: a shorter startup budget or a shorter liveness
// window. Such a change fails if it restarts more containers than before.
func (c *ChangeRecord) Tightens() bool {
	for _, ch := range c.Changes {
		if ch.Reason == recommend.ReasonStartupTooLoose || ch.Reason == recommend.ReasonLivenessTightened {
			return true
		}
	}
	return false
}
