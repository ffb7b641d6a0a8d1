// Package status computes a ProbePolicy's status from what the reconciler gathered and decided, once per
// reconcile: the per-workload summaries, the bounded decision history and the conditions. It is pure.
package status

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

// MaxDecisions bounds the decision history kept in status.
const MaxDecisions = 20

// Workload states, as shown in status.workloads[].state (see tuningv1alpha1.WorkloadState).
const (
	StateObserving         = tuningv1alpha1.WorkloadObserving
	StateStable            = tuningv1alpha1.WorkloadStable
	StateRecommended       = tuningv1alpha1.WorkloadRecommended
	StateAdjusting         = tuningv1alpha1.WorkloadAdjusting
	StateVerifying         = tuningv1alpha1.WorkloadVerifying
	StatePaused            = tuningv1alpha1.WorkloadPaused
	StateConflict          = tuningv1alpha1.WorkloadConflict
	StateAttentionRequired = tuningv1alpha1.WorkloadAttentionRequired
	StateOff               = tuningv1alpha1.WorkloadOff
)

// Workload is what the reconciler learned and decided about one Deployment.
type Workload struct {
	Name           string
	State          tuningv1alpha1.WorkloadState
	Message        string
	LastChangeTime *time.Time
	Containers     []Container
	Findings       []recommend.Finding
	// ConflictWith names the policy that acts on this workload instead, when it is not this one.
	ConflictWith string
	// NotLookedAt says the workload could not be looked at this time: its previous summary is kept, with Message
	// in place of its message (State and the rest are used only when there is no previous summary).
	NotLookedAt bool
}

// Container is one container's observations and probes.
type Container struct {
	Name        string
	Signals     observe.Signals
	Current     probes.Set
	Recommended *probes.Set
}

// Input is everything the status is computed from.
type Input struct {
	Previous    tuningv1alpha1.ProbePolicyStatus
	Generation  int64
	Mode        tuningv1alpha1.Mode
	SpecError   error
	Workloads   []Workload
	NewDecision []tuningv1alpha1.Decision
	// History is the decision history kept by probe-tuner (its checkpoint), newest first. The status' own
	// decisions are not read: a hand-edited status must not be shown back as probe-tuner's history.
	History []tuningv1alpha1.Decision
	// ChangesApplied is the number of probe changes the policy has written to its workloads, summed from the
	// workloads' own records (tuner.WorkloadState.ChangesApplied): status.changesApplied is set to it, never
	// added to, so neither a hand-edited status nor a record found again after a lost checkpoint changes it.
	ChangesApplied int64
	// Checkpoint is why the policy's tuning state was last not checkpointed; nil when it was.
	Checkpoint *CheckpointFailure
	Now        time.Time
}

// CheckpointFailure is why a policy's tuning state could not be checkpointed.
type CheckpointFailure struct {
	// Reason is a CamelCase reason (CheckpointTooLarge, CheckpointNotWritten); Message says what happened and
	// what it costs.
	Reason, Message string
}

// Compute returns the new status.
func Compute(in Input) tuningv1alpha1.ProbePolicyStatus {
	st := *in.Previous.DeepCopy()
	st.ObservedGeneration = in.Generation
	st.WorkloadCount = int32(len(in.Workloads))
	st.ChangesApplied = int32(min(max(in.ChangesApplied, 0), math.MaxInt32))

	st.Decisions = mergeDecisions(in.NewDecision, in.History)
	if len(st.Decisions) > 0 {
		d := st.Decisions[0]
		if d.Field == string(probes.WholeProbe) {
			st.LastDecision = fmt.Sprintf("%s %s/%s %s probe %s", d.Action, d.Workload, d.Container, d.Probe, d.To)
		} else {
			st.LastDecision = fmt.Sprintf("%s %s/%s %s %s %s->%s", d.Action, d.Workload, d.Container, d.Probe, d.Field, d.From, d.To)
		}
		t := d.Time
		st.LastDecisionTime = &t
	}

	previous := map[string]tuningv1alpha1.WorkloadSummary{}
	for _, w := range in.Previous.Workloads {
		previous[w.Name] = w
	}
	st.Workloads = nil
	for _, w := range in.Workloads {
		s := workloadSummary(w)
		if p, ok := previous[w.Name]; ok && w.NotLookedAt {
			s = *p.DeepCopy()
			s.Message = w.Message
		}
		st.Workloads = append(st.Workloads, s)
	}
	sort.Slice(st.Workloads, func(i, j int) bool { return st.Workloads[i].Name < st.Workloads[j].Name })

	setConditions(&st, in)
	toStoredPrecision(&st)
	return st
}

// toStoredPrecision rounds every time in the status down to the second, which is all the API server keeps of a
// metav1.Time. Decisions and changes are timed by the reconcile's clock to the nanosecond; unrounded, a status
// computed again from the same records never equals the stored one, and every reconcile rewrote it whole.
func toStoredPrecision(st *tuningv1alpha1.ProbePolicyStatus) {
	round := func(t *metav1.Time) {
		if t != nil && !t.IsZero() {
			*t = metav1.NewTime(t.Truncate(time.Second))
		}
	}
	round(st.LastDecisionTime)
	for i := range st.Decisions {
		round(&st.Decisions[i].Time)
	}
	for i := range st.Workloads {
		round(st.Workloads[i].LastChangeTime)
	}
	for i := range st.Conditions {
		round(&st.Conditions[i].LastTransitionTime)
	}
}

// mergeDecisions puts the new decisions first, newest first (decisions queued across reconciles arrive oldest
// first), drops repeats, and keeps at most MaxDecisions.
func mergeDecisions(newer, older []tuningv1alpha1.Decision) []tuningv1alpha1.Decision {
	fresh := append([]tuningv1alpha1.Decision{}, newer...)
	sort.SliceStable(fresh, func(i, j int) bool { return fresh[j].Time.Before(&fresh[i].Time) })
	seen := map[string]bool{}
	var out []tuningv1alpha1.Decision
	for _, d := range append(fresh, older...) {
		key := fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s", d.Time.UTC().Format(time.RFC3339), d.Workload, d.Container, d.Probe, d.Field, d.From, d.To, d.Action)
		if d.ID != "" {
			// A decision with an ID is one write, whoever records it and whenever.
			key = fmt.Sprintf("%s|%s|%s|%s|%s|%s", d.ID, d.Workload, d.Container, d.Probe, d.Field, d.Action)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, d)
		if len(out) == MaxDecisions {
			break
		}
	}
	return out
}

func workloadSummary(w Workload) tuningv1alpha1.WorkloadSummary {
	s := tuningv1alpha1.WorkloadSummary{Name: w.Name, State: w.State, Message: w.Message}
	if w.LastChangeTime != nil {
		t := metav1.NewTime(*w.LastChangeTime)
		s.LastChangeTime = &t
	}
	for _, c := range w.Containers {
		cs := tuningv1alpha1.ContainerSummary{Name: c.Name, Observed: observed(c.Signals), Current: probeSet(c.Current)}
		if c.Recommended != nil {
			rec := probeSet(*c.Recommended)
			cs.Recommended = &rec
		}
		s.Containers = append(s.Containers, cs)
	}
	return s
}

func observed(sig observe.Signals) tuningv1alpha1.ObservedSignals {
	o := tuningv1alpha1.ObservedSignals{
		LivenessKills: int32(sig.TotalRestarts[observe.CauseLiveness]),
		StartupKills:  int32(sig.TotalRestarts[observe.CauseStartup]),
		OOMKills:      int32(sig.TotalRestarts[observe.CauseOOM]),
		Crashes:       int32(sig.TotalRestarts[observe.CauseError]),
	}
	if sig.RecentRestarts != nil {
		o.RestartsLastHour = &tuningv1alpha1.RestartCounts{
			Liveness:  int32(sig.RecentRestarts[observe.CauseLiveness]),
			Startup:   int32(sig.RecentRestarts[observe.CauseStartup]),
			OOM:       int32(sig.RecentRestarts[observe.CauseOOM]),
			Error:     int32(sig.RecentRestarts[observe.CauseError]),
			Completed: int32(sig.RecentRestarts[observe.CauseCompleted]),
		}
	}
	if sig.Startup != nil && sig.Startup.Count > 0 {
		o.StartupSamples = int32(sig.Startup.Count)
		o.StartupP50 = &metav1.Duration{Duration: sig.Startup.Quantile(0.5).Round(100 * time.Millisecond)}
		o.StartupP99 = &metav1.Duration{Duration: sig.Startup.Quantile(0.99).Round(100 * time.Millisecond)}
	}
	if sig.StartLowerBound > 0 && sig.CensoredStarts > 0 {
		o.StartupLowerBound = &metav1.Duration{Duration: sig.StartLowerBound.Round(time.Second)}
	}
	if sig.InServiceHours > 0 {
		o.ReadyTransitionsPerHour = twoSignificant(sig.TransitionsPerHour)
	}
	for _, p := range sig.NotReady {
		if !p.EverReady {
			o.StuckPods++
		}
	}
	return o
}

func probeSet(p probes.Set) tuningv1alpha1.ProbeSet {
	var out tuningv1alpha1.ProbeSet
	if p.Startup != nil {
		out.Startup = probes.Of(p.Startup).ToAPI()
	}
	if p.Liveness != nil {
		out.Liveness = probes.Of(p.Liveness).ToAPI()
	}
	if p.Readiness != nil {
		out.Readiness = probes.Of(p.Readiness).ToAPI()
	}
	return out
}

func setConditions(st *tuningv1alpha1.ProbePolicyStatus, in Input) {
	gen := in.Generation
	// The transition time is the reconcile's clock, used only when a condition's status changes.
	since := metav1.NewTime(in.Now)
	st.Conditions = ownConditions(st.Conditions)
	ready := metav1.Condition{Type: tuningv1alpha1.ConditionReady, ObservedGeneration: gen, Status: metav1.ConditionTrue, LastTransitionTime: since}
	switch {
	case in.SpecError != nil:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, "InvalidSpec", in.SpecError.Error()
	case in.Mode == tuningv1alpha1.ModeOff:
		ready.Reason, ready.Message = "Off", fmt.Sprintf("Mode is Off: %d selected workloads are listed but neither observed nor changed", len(in.Workloads))
	case len(in.Workloads) == 0:
		ready.Reason, ready.Message = "NoWorkloads", "The selector matches no Deployment in this namespace"
	case in.Checkpoint != nil:
		ready.Status, ready.Reason = metav1.ConditionFalse, in.Checkpoint.Reason
		ready.Message = fmt.Sprintf("Observing %d workloads in %s mode, but the tuning state is not checkpointed (see condition %s)",
			len(in.Workloads), in.Mode, tuningv1alpha1.ConditionCheckpointWritten)
	default:
		ready.Reason, ready.Message = "Observing", fmt.Sprintf("Observing %d workloads in %s mode", len(in.Workloads), in.Mode)
	}
	meta.SetStatusCondition(&st.Conditions, ready)

	conflict := metav1.Condition{Type: tuningv1alpha1.ConditionConflict, ObservedGeneration: gen, Status: metav1.ConditionFalse, Reason: "NoConflict", LastTransitionTime: since,
		Message: "No selected workload is selected by another policy"}
	var conflicts []string
	for _, w := range in.Workloads {
		if w.ConflictWith != "" {
			conflicts = append(conflicts, fmt.Sprintf("%s (tuned by %s)", w.Name, w.ConflictWith))
		}
	}
	if len(conflicts) > 0 {
		conflict.Status, conflict.Reason = metav1.ConditionTrue, "SelectedByAnotherPolicy"
		conflict.Message = limitMessage("These workloads are also selected by an older policy, which alone tunes them: " + strings.Join(conflicts, ", ") +
			". Narrow one of the selectors so that each workload has exactly one policy")
	}
	meta.SetStatusCondition(&st.Conditions, conflict)

	attention := metav1.Condition{Type: tuningv1alpha1.ConditionAttentionRequired, ObservedGeneration: gen, Status: metav1.ConditionFalse, Reason: "NothingToReport", LastTransitionTime: since,
		Message: "No workload shows a pattern that needs a person"}
	var issues []string
	reasons := map[string]bool{}
	for _, w := range in.Workloads {
		for _, f := range w.Findings {
			if f.Severity == recommend.Warning {
				issues = append(issues, fmt.Sprintf("%s: %s", w.Name, f.Message))
				reasons[f.Reason] = true
			}
		}
	}
	if len(issues) > 0 {
		names := make([]string, 0, len(reasons))
		for r := range reasons {
			names = append(names, r)
		}
		sort.Strings(names)
		attention.Status, attention.Reason = metav1.ConditionTrue, strings.Join(names, "And")
		attention.Message = limitMessage(strings.Join(issues, " | "))
	}
	meta.SetStatusCondition(&st.Conditions, attention)

	written := metav1.Condition{Type: tuningv1alpha1.ConditionCheckpointWritten, ObservedGeneration: gen, Status: metav1.ConditionTrue, Reason: "Written",
		LastTransitionTime: since, Message: "The tuning state is checkpointed in the policy's ConfigMap"}
	if in.Checkpoint != nil {
		written.Status, written.Reason, written.Message = metav1.ConditionFalse, in.Checkpoint.Reason, limitMessage(in.Checkpoint.Message)
	}
	meta.SetStatusCondition(&st.Conditions, written)
}

// conditionTypes are the conditions probe-tuner sets; it owns the status, so no other is kept.
var conditionTypes = []string{tuningv1alpha1.ConditionReady, tuningv1alpha1.ConditionConflict, tuningv1alpha1.ConditionAttentionRequired,
	tuningv1alpha1.ConditionCheckpointWritten}

// ownConditions keeps the first condition of each type probe-tuner sets, for its transition time, and drops any
// other (added by hand, or a repeat).
func ownConditions(in []metav1.Condition) []metav1.Condition {
	var out []metav1.Condition
	for _, c := range in {
		if slices.Contains(conditionTypes, c.Type) && meta.FindStatusCondition(out, c.Type) == nil {
			out = append(out, c)
		}
	}
	return out
}

// maxConditionMessage keeps a condition message under the API's limit of 32768 bytes.
const maxConditionMessage = 32000

// limitMessage cuts a message to maxConditionMessage bytes, on a UTF-8 boundary, marking the cut.
func limitMessage(m string) string {
	if len(m) <= maxConditionMessage {
		return m
	}
	cut := maxConditionMessage - len(" ...")
	for cut > 0 && !utf8.RuneStart(m[cut]) {
		cut--
	}
	return m[:cut] + " ..."
}

// twoSignificant formats a rate to two significant digits ("0.53", "5.3", "53", "530"): what a reader needs,
// and coarse enough that a drifting rate does not rewrite the status on every look.
func twoSignificant(v float64) string {
	if v <= 0 {
		return "0"
	}
	digits := 1 - int(math.Floor(math.Log10(v)))
	if digits <= 0 {
		scale := math.Pow(10, float64(-digits))
		return strconv.FormatFloat(math.Round(v/scale)*scale, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', digits, 64)
}
