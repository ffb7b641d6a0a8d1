package tuner

import (
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

// WorkloadLook is one look at one workload: what its pods did and what its Deployment says now.
type WorkloadLook struct {
	// Observe holds the pods (terminating ones included), the kubelet Events about them, the pod-template-hash
	// of the current revision and the time of the look.
	Observe observe.Input
	// Deployment is the Deployment as read. Its containers' probes, the fields probe-tuner owns on it
	// (apply.AnnotationManaged), its last change (apply.AnnotationLastChange) and its pause
	// (apply.AnnotationPaused) are read from it; it is not changed.
	Deployment *appsv1.Deployment
	// RolloutInProgress says the Deployment has not finished rolling out its current template.
	RolloutInProgress bool
	// Policy names the policy looking: a record on the Deployment counts towards its changes only when it names it.
	Policy string
}

// Outcome is what one look at a workload decided.
type Outcome struct {
	// Action is the tuner's verdict and Facts what it was decided on; the workload's summary reads both.
	Action Action
	Facts  Facts
	// Records are what to record, in order: hand edits found, an adopted change, a recommendation, and the write
	// once Written reports it.
	Records []Record
	// Write says a write of the action (an Apply or a Revert) is pending: read the Deployment afresh, pass it to
	// PrepareWrite, send the request it returns, and report success with Written.
	Write bool
	// Changed says the state changed in a way worth checkpointing at once.
	Changed bool
	// RecheckAt, when set, is when observation wants another look (see observe.State.RecheckAt).
	RecheckAt time.Time
	// NextLook is when the workload must be looked at again if nothing about it changes before (see NextLook);
	// Written moves it earlier for the change it records.
	NextLook time.Time
	// Rejected are probe-tuner's annotations on the Deployment that the look refused to use (a last-change or
	// previous-probes record that is not this Deployment's, an unknown pause value), for the caller to report.
	Rejected []Rejection

	// at is the time of the look: the write and its records carry it.
	at time.Time
	// policy names the policy looking, and pending is the record PrepareWrite built, which Written takes.
	policy  string
	pending *apply.LastChange
	// pacing is the policy's pacing, for the moments of a change Written records.
	pacing policy.PacingSettings
}

// StepWorkload folds one look at a workload into its state and decides: it observes, respects the hand edits of
// fields probe-tuner owns, adopts a change an earlier run wrote but did not record, and runs Decide. It is the
// whole of the operator's decision for the look; the operator and the benchmark both run it and only do the I/O
// around it. The error is an owned-fields annotation that cannot be read: nothing can be written safely then.
func StepWorkload(st *WorkloadState, look WorkloadLook, s policy.Settings, cfg observe.Config) (Outcome, error) {
	observe.Update(&st.Observation, look.Observe, cfg)
	d, now := look.Deployment, look.Observe.Now
	out := Outcome{at: now, policy: look.Policy, pacing: s.Pacing}
	check, err := checkDeployment(st, d, now, look.Policy)
	if err != nil {
		return out, err
	}
	// The write happened before (the operator died before recording it): its decisions are recorded now, once.
	out.fold(d.Name, check)

	out.Facts = Facts{Name: d.Name, Revision: look.Observe.Revision, RolloutInProgress: look.RolloutInProgress,
		Paused: check.pause.paused, PauseUnknown: check.pause.unknown, PauseValue: check.pause.value, Containers: containersOf(d)}
	act := Decide(st, out.Facts, s, cfg, now)
	out.Action = act
	switch {
	case act.Kind == Apply && st.LastChange != nil && st.LastChange.ID == act.ID:
		// The last change decided again before its revision showed (the Deployment controller has not created the
		// new ReplicaSet yet, so the revision and the changes, hence the ID, are the same): it was written and
		// recorded once, and is neither written nor recorded again.
	case act.Kind == Apply || act.Kind == Revert:
		out.Write = true
	case act.Kind == Recommend && act.Record:
		rec := changeRecord(RecordRecommended, d.Name, "", Recommend.DecisionAction(), act.Changes, now)
		rec.Reason = act.Reason
		out.Records = append(out.Records, rec)
		out.Changed = true
	}
	if act.NewFindings {
		out.Changed = true
	}
	out.RecheckAt = st.Observation.RecheckAt
	out.NextLook = NextLook(st, look, out.Facts, s, cfg)
	return out, nil
}

// PrepareWrite runs the look's checks again on a fresh read of the Deployment, right before writing it, so that a
// hand edit or another writer's change made since the look wins over the look's decision. It returns the
// server-side apply request to send (see apply.Build), or nil when no write is pending or the write is dropped:
// what the fresh read showed is then in out's records, and the next look decides again.
func PrepareWrite(st *WorkloadState, out *Outcome, fresh *appsv1.Deployment, policyName string) (*apply.Request, error) {
	if !out.Write {
		return nil, nil
	}
	check, err := checkDeployment(st, fresh, out.at, policyName)
	if err != nil {
		return nil, err
	}
	out.fold(out.Facts.Name, check)
	if len(check.overrides) > 0 || check.adopted != nil {
		// Decide again on the next look, without the fields just released and not stacked on the other change.
		out.Write = false
		return nil, nil
	}
	act := out.Action
	// The record is bound to this Deployment and numbered after the last write known, with this policy's count
	// of changes so far: found again after a lost checkpoint, it gives the count back instead of adding to it.
	last := apply.LastChange{ID: act.ID, Time: out.at, Policy: policyName, Action: string(act.Kind),
		Deployment: fresh.Name, UID: fresh.UID, Generation: fresh.Generation, Seq: st.Seq + 1,
		ChangesApplied: st.ChangesApplied + int64(len(act.Changes)),
		Summary:        Summaries(act.Changes), FromRevision: out.Facts.Revision, Changes: act.Changes}
	out.pending = &last
	return &apply.Request{Deployment: fresh, Owned: check.owned, Changes: act.Changes, Desired: Desired(probesOf(fresh), act), LastChange: last}, nil
}

// Written reports that the request PrepareWrite returned was written: the state records the change (Applied),
// and out gains the write's record.
func Written(st *WorkloadState, out *Outcome) {
	act := out.Action
	Applied(st, act, out.Facts.Revision, out.at)
	if p := out.pending; p != nil {
		st.Seq, st.ChangesApplied = p.Seq, p.ChangesApplied
	} else {
		st.Seq, st.ChangesApplied = st.Seq+1, st.ChangesApplied+int64(len(act.Changes))
	}
	out.pending = nil
	kind := RecordApplied
	if act.Kind == Revert {
		kind = RecordReverted
	}
	out.Records = append(out.Records, changeRecord(kind, out.Facts.Name, act.ID, act.Kind.DecisionAction(), act.Changes, out.at))
	out.Changed = true
	out.Write = false
	if !out.NextLook.IsZero() {
		d := dueAfter{now: out.at, at: out.NextLook}
		d.change(st.LastChange, out.pacing)
		out.NextLook = d.at
	}
}

// Decisions returns the status decisions of all the records, in order.
func (o *Outcome) Decisions() []tuningv1alpha1.Decision {
	var out []tuningv1alpha1.Decision
	for _, r := range o.Records {
		out = append(out, r.Decisions...)
	}
	return out
}

// fold adds what a check of the Deployment found to the outcome.
func (o *Outcome) fold(workload string, c deploymentCheck) {
	if len(c.overrides) > 0 {
		o.Records = append(o.Records, overrideRecord(workload, c.overrides, o.at))
		o.Changed = true
	}
	if lc := c.adopted; lc != nil {
		o.Records = append(o.Records, changeRecord(RecordAdopted, workload, lc.ID, adoptedKind(lc).DecisionAction(), lc.Changes, lc.Time))
		o.Changed = true
	}
	for _, r := range c.rejected {
		// The fresh read before a write usually shows the problem the look saw: it is reported once.
		if !slices.ContainsFunc(o.Rejected, func(e Rejection) bool { return e.Annotation == r.Annotation && e.Message == r.Message }) {
			o.Rejected = append(o.Rejected, r)
		}
		if r.New {
			o.Changed = true // the checkpoint remembers what was reported
		}
	}
}

// containersOf returns the Deployment's containers with their current probes, as Facts want them: the app
// containers and the native sidecars (probes.Tunable), never a plain init container.
func containersOf(d *appsv1.Deployment) []recommend.Container {
	cs := probes.Tunable(&d.Spec.Template.Spec)
	out := make([]recommend.Container, 0, len(cs))
	for _, c := range cs {
		out = append(out, recommend.Container{Name: c.Name, Startup: c.StartupProbe, Liveness: c.LivenessProbe, Readiness: c.ReadinessProbe})
	}
	return out
}

// probesOf returns the Deployment's probes per container, native sidecars included.
func probesOf(d *appsv1.Deployment) map[string]probes.Set {
	out := map[string]probes.Set{}
	for _, c := range probes.Tunable(&d.Spec.Template.Spec) {
		out[c.Name] = probes.Set{Startup: c.StartupProbe, Liveness: c.LivenessProbe, Readiness: c.ReadinessProbe}
	}
	return out
}
