package tuner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

// Facts is what the tuner needs to know about the Deployment now.
type Facts struct {
	Name string
	// Revision is the pod-template-hash of the Deployment's current ReplicaSet.
	Revision string
	// RolloutInProgress says the Deployment has not finished rolling out its current template.
	RolloutInProgress bool
	// Paused says the Deployment carries probetuner.io/paused: "true".
	Paused bool
	// PauseUnknown says probetuner.io/paused holds PauseValue, neither "true" nor "false": the Deployment is held,
	// nothing is written (not even a revert) until it is one of them.
	PauseUnknown bool
	PauseValue   string
	// Containers are the Deployment's containers with their current probes (signals are filled in here).
	Containers []recommend.Container
}

// Kind is what the tuner asks the caller to do.
type Kind string

// Action kinds.
const (
	// Wait: nothing to write to the workload; Reason says why.
	Wait Kind = "Wait"
	// Recommend: record the recommendation (status, Events); do not write the workload.
	Recommend Kind = "Recommend"
	// Apply: write Probes to the workload.
	Apply Kind = "Apply"
	// Revert: write Probes (the values before the last change) to the workload.
	Revert Kind = "Revert"
)

// Action is the tuner's verdict for one reconcile.
type Action struct {
	Kind Kind
	// Reason explains a Wait (or why an Apply was held back to a Recommend).
	Reason string
	// Plan is the current recommendation, whatever the action.
	Plan recommend.Plan
	// Changes are the changes to write (Apply, Revert) or to record (Recommend).
	Changes []probes.Change
	// Record says the changes or findings are new and should be recorded (status decisions and Events).
	Record bool
	// NewFindings says the findings differ from those last reported.
	NewFindings bool
	// ID identifies the decision (Apply, Revert).
	ID string
}

// Decide runs one tuning step for a workload. It updates st (verification results, blocked changes, what was
// recorded) and returns what the caller must do. The caller reports a successful Apply or Revert with Applied.
func Decide(st *WorkloadState, f Facts, s policy.Settings, cfg observe.Config, now time.Time) Action {
	containers := make([]recommend.Container, len(f.Containers))
	for i, c := range f.Containers {
		c.Signals = observe.ContainerSignals(&st.Observation, c.Name, f.Revision, now, cfg)
		containers[i] = c
	}
	plan := recommend.Recommend(recommend.Input{Settings: s, Containers: containers, Blocked: st.Blocked, Frozen: st.Frozen})
	act := Action{Plan: plan}
	if sig := findingsSignature(plan.Findings); sig != st.LastFindings {
		act.NewFindings = true
		st.LastFindings = sig
	}

	in := newHoldInput(st, f, s, plan, containers, now)
	if v, held := firstHold(beforeVerification, in); held {
		return v.apply(act, st)
	}
	if revert, ok := verify(st, f, s, now); ok {
		return revert
	}
	if v, held := firstHold(holds, in); held {
		return v.apply(act, st)
	}
	act.Changes = plan.Changes
	act.Kind, act.Record = Apply, true
	act.ID = decisionID(f.Name, f.Revision, plan.Changes)
	st.LastRecommendation = ""
	return act
}

// newHoldInput gathers what the holds look at.
func newHoldInput(st *WorkloadState, f Facts, s policy.Settings, plan recommend.Plan, containers []recommend.Container, now time.Time) holdInput {
	stalled := rolloutStalledByProbes(plan, containers, s)
	lc := st.LastChange
	// Only the pods of the revision the last change made count: until it shows, the kills are the old budget's.
	regrow := stalled && lc != nil && f.Revision != lc.FromRevision && lc.GrowsStartupBudget()
	return holdInput{settings: s, paused: f.Paused, pauseUnknown: f.PauseUnknown, pauseValue: f.PauseValue, rollingOut: f.RolloutInProgress, last: lc, changes: plan.Changes, now: now,
		stalled: stalled, regrow: regrow, growsStartup: growsStartupBudget(plan.Changes)}
}

// apply turns a verdict into the action: a Wait, or a Recommend recorded unless it was recorded last time.
func (v verdict) apply(act Action, st *WorkloadState) Action {
	if v.kind == Wait {
		if v.nothingRecommended {
			st.LastRecommendation = ""
		}
		return wait(act, v.reason)
	}
	act.Changes = act.Plan.Changes
	sig := changesSignature(act.Changes)
	act.Kind, act.Reason = Recommend, v.reason
	act.Record = sig != st.LastRecommendation
	st.LastRecommendation = sig
	return act
}

// rolloutStalledByProbes reports whether the current revision's own pods are being killed before they finish
// starting and the plan fixes that: such a rollout cannot complete until the probes change, so waiting for it
// would wait forever.
func rolloutStalledByProbes(plan recommend.Plan, containers []recommend.Container, s policy.Settings) bool {
	for _, ch := range plan.Changes {
		if ch.Reason != recommend.ReasonStartupKilled && ch.Reason != recommend.ReasonStartupBelowTarget {
			continue
		}
		for _, c := range containers {
			if c.Name == ch.Container && c.Signals.KillsBeforeReady >= int(s.Pacing.MinSamples) {
				return true
			}
		}
	}
	return false
}

// Applied records that the caller wrote an Apply or Revert action to the workload.
func Applied(st *WorkloadState, act Action, fromRevision string, now time.Time) {
	if act.Kind == Revert {
		if st.LastChange != nil {
			st.LastChange.Reverted = true
		}
		return
	}
	st.LastChange = &ChangeRecord{ID: act.ID, Time: now, FromRevision: fromRevision, Changes: act.Changes, Checked: true}
}

func wait(act Action, reason string) Action {
	act.Kind, act.Reason = Wait, reason
	return act
}

// decisionID is a stable name for a decision: the same workload, revision and changes give the same ID.
func decisionID(workload, revision string, changes []probes.Change) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s/%s/%s", workload, revision, changesSignature(changes))
	return "d-" + hex.EncodeToString(h.Sum(nil))[:12]
}

func changesSignature(changes []probes.Change) string {
	parts := make([]string, len(changes))
	for i, c := range changes {
		parts[i] = fmt.Sprintf("%s/%s/%s:%d>%d", c.Container, c.Probe, c.Field, c.From, c.To)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func findingsSignature(fs []recommend.Finding) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Container + "/" + f.Reason
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
