// Package tuner paces probe changes for one workload: it runs the recommendation on what was observed, and
// decides whether to apply it now, keep it as a recommendation, wait (cooldown, rollout, verification, pause),
// or revert the last change because it did not help. It is pure; the operator and the benchmark harness both
// drive it and carry out its actions.
package tuner

import (
	"fmt"
	"math"
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
	// Seq is the number of the last write to the workload known (apply.LastChange.Seq): a record on the
	// Deployment numbered at most this is not new.
	Seq int64 `json:"seq,omitempty"`
	// ChangesApplied counts the probe changes this policy has written to the workload. It is carried on the
	// Deployment with each write (apply.LastChange.ChangesApplied), so that a lost checkpoint takes it back
	// from there instead of counting the last change again; the policy's status.changesApplied is its sum.
	ChangesApplied int64 `json:"changesApplied,omitempty"`
	// Warned holds, per annotation, a digest of the bad value last reported, so that a value is reported once
	// and not on every look; a good value (or none) clears it.
	Warned map[string]string `json:"warned,omitempty"`

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
	// Checked says the record is known to be true of the Deployment: probe-tuner wrote it, or found it on the
	// Deployment bound to it and holding its values. A record of an earlier release's checkpoint is not, and
	// gives way to a good record on the Deployment even when that one is older.
	Checked bool `json:"checked,omitempty"`
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
	return growsStartupBudget(c.Changes)
}

// growsStartupBudget reports whether changes is not empty and every change in it gives starts more time (see
// ChangeRecord.GrowsStartupBudget).
func growsStartupBudget(changes []probes.Change) bool {
	if len(changes) == 0 {
		return false
	}
	for _, ch := range changes {
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

// Bounds of a restored WorkloadState beyond its observation's (see observe.State.Validate).
const (
	// maxRecordedChanges bounds the changes of one record and the blocked and frozen lists: a Deployment holds
	// at most a few hundred containers of three probes of six fields.
	maxRecordedChanges = 10_000
	// maxEvidence bounds a change's evidence text and the recommendation and findings signatures.
	maxEvidence = 64 << 10
)

// Validate reports the first value of a restored state outside its bounds, naming where it is: its observation's
// (see observe.State.Validate), then its records': a last change dated far past now, changes of unknown probes
// or fields or with values no probe holds, overlong IDs and texts, overlong lists. A state that stepping built
// always passes; a checkpoint whose state fails is not to be used.
func (st *WorkloadState) Validate(now time.Time) error {
	if err := st.Observation.Validate(now); err != nil {
		return fmt.Errorf("observation: %w", err)
	}
	if lc := st.LastChange; lc != nil {
		switch {
		case lc.ID == "" || len(lc.ID) > observe.MaxName:
			return fmt.Errorf("lastChange.id is %d bytes long, want 1..%d", len(lc.ID), observe.MaxName)
		case len(lc.FromRevision) > observe.MaxName:
			return fmt.Errorf("lastChange.fromRevision is %d bytes long, more than %d", len(lc.FromRevision), observe.MaxName)
		case lc.Time.After(now.Add(observe.MaxFutureSkew)):
			return fmt.Errorf("lastChange.time %s is in the future", lc.Time.UTC().Format(time.RFC3339))
		case lc.SettledAt.After(now.Add(observe.MaxFutureSkew)):
			return fmt.Errorf("lastChange.settledAt %s is in the future", lc.SettledAt.UTC().Format(time.RFC3339))
		}
		if err := validChanges("lastChange.changes", lc.Changes); err != nil {
			return err
		}
	}
	if err := validChanges("blocked", st.Blocked); err != nil {
		return err
	}
	if len(st.Frozen) > maxRecordedChanges {
		return fmt.Errorf("frozen holds %d fields, more than %d", len(st.Frozen), maxRecordedChanges)
	}
	for i, f := range st.Frozen {
		if err := validRef(f); err != nil {
			return fmt.Errorf("frozen[%d]: %w", i, err)
		}
	}
	if len(st.LastRecommendation) > maxEvidence || len(st.LastFindings) > maxEvidence {
		return fmt.Errorf("the recommendation or findings signature is longer than %d bytes", maxEvidence)
	}
	return nil
}

// validChanges checks a list of recorded changes.
func validChanges(at string, changes []probes.Change) error {
	if len(changes) > maxRecordedChanges {
		return fmt.Errorf("%s holds %d changes, more than %d", at, len(changes), maxRecordedChanges)
	}
	for i, c := range changes {
		if err := validRef(c.Ref()); err != nil {
			return fmt.Errorf("%s[%d]: %w", at, i, err)
		}
		limit := int32(math.MaxInt32)
		if c.Field == probes.WholeProbe {
			limit = 1
		}
		if c.From < 0 || c.To < 0 || c.From > limit || c.To > limit {
			return fmt.Errorf("%s[%d] changes %s from %d to %d, outside 0..%d", at, i, c.Field, c.From, c.To, limit)
		}
		if len(c.Reason) > observe.MaxName || len(c.Evidence) > maxEvidence {
			return fmt.Errorf("%s[%d]: reason or evidence too long", at, i)
		}
	}
	return nil
}

// validRef checks a field reference: a container name, a known probe and a known field.
func validRef(f probes.FieldRef) error {
	if f.Container == "" || len(f.Container) > observe.MaxName {
		return fmt.Errorf("container name of %d bytes, want 1..%d", len(f.Container), observe.MaxName)
	}
	if !slices.Contains(probes.Kinds, f.Probe) {
		return fmt.Errorf("%q is not a probe", f.Probe)
	}
	if f.Field != probes.WholeProbe && !slices.Contains(probes.Fields, f.Field) {
		return fmt.Errorf("%q is not a probe field", f.Field)
	}
	return nil
}
