package tuner

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// RecordKind says what a look decided about a workload, so that the caller reports each kind its own way (Events,
// metrics, log lines).
type RecordKind string

// Record kinds.
const (
	// RecordOverride: fields a person changed by hand after probe-tuner set them; they are left to them.
	RecordOverride RecordKind = "ManualOverride"
	// RecordAdopted: a change found on the Deployment that the state did not know (the operator died before
	// checkpointing it, or another replica made it); it counts as made.
	RecordAdopted RecordKind = "Adopted"
	// RecordRecommended: a change recommended and not written (mode, pause, rollout, cooldown).
	RecordRecommended RecordKind = "Recommended"
	// RecordApplied and RecordReverted: a change or its revert written to the Deployment.
	RecordApplied  RecordKind = "Applied"
	RecordReverted RecordKind = "Reverted"
)

// Record is one thing a look decided, with its status decisions (one per field).
type Record struct {
	Kind      RecordKind
	Decisions []tuningv1alpha1.Decision
	// Changes are the changes behind a Recommended, Applied, Reverted or Adopted record.
	Changes []probes.Change
	// Overrides are the fields of an Override record.
	Overrides []probes.FieldRef
	// Reason says why a Recommended record was not applied.
	Reason string
	// Action is what the decisions of a Recommended, Applied, Reverted or Adopted record show.
	Action tuningv1alpha1.DecisionAction
}

// DecisionAction is the action the decisions of a step of this kind show: Apply is Applied, Revert is Reverted,
// Recommend is Recommended (Wait decides nothing and shows ""). It is the one translation of the tuner's verbs into
// the status's words; the metrics label them in lower case from it (metrics.ActionLabel).
func (k Kind) DecisionAction() tuningv1alpha1.DecisionAction {
	switch k {
	case Apply:
		return tuningv1alpha1.DecisionApplied
	case Revert:
		return tuningv1alpha1.DecisionReverted
	case Recommend:
		return tuningv1alpha1.DecisionRecommended
	}
	return ""
}

// changeRecord is the record of changes applied, reverted or recommended.
func changeRecord(kind RecordKind, workload, id string, action tuningv1alpha1.DecisionAction, changes []probes.Change, at time.Time) Record {
	return Record{Kind: kind, Action: action, Changes: changes, Decisions: decisions(workload, id, action, changes, at)}
}

// overrideRecord is the record of hand edits found.
func overrideRecord(workload string, refs []probes.FieldRef, at time.Time) Record {
	rec := Record{Kind: RecordOverride, Overrides: refs, Action: tuningv1alpha1.DecisionSkipped}
	for _, f := range refs {
		what := fmt.Sprintf("%s probe %s", f.Probe, f.Field)
		if f.Field == probes.WholeProbe {
			what = fmt.Sprintf("%s probe", f.Probe) // the whole probe probe-tuner added: no field name to repeat "probe"
		}
		msg := fmt.Sprintf("%s %s of container %s was changed by someone else after probe-tuner set it; probe-tuner leaves it to them from now on",
			workload, what, f.Container)
		rec.Decisions = append(rec.Decisions, tuningv1alpha1.Decision{Time: metav1.NewTime(at), Workload: workload, Container: f.Container,
			Probe: tuningv1alpha1.ProbeKind(f.Probe), Field: string(f.Field), Action: tuningv1alpha1.DecisionSkipped, Reason: string(RecordOverride), Evidence: msg})
	}
	return rec
}

// decisions turns changes into status decision records.
func decisions(workload, id string, action tuningv1alpha1.DecisionAction, changes []probes.Change, at time.Time) []tuningv1alpha1.Decision {
	out := make([]tuningv1alpha1.Decision, 0, len(changes))
	for _, c := range changes {
		d := tuningv1alpha1.Decision{ID: id, Time: metav1.NewTime(at), Workload: workload, Container: c.Container, Probe: tuningv1alpha1.ProbeKind(c.Probe),
			Field: string(c.Field), Action: action, Reason: c.Reason, Evidence: c.Evidence}
		d.From, d.To = values(c)
		out = append(out, d)
	}
	return out
}

// values renders a change's from and to for status: a whole probe reads as absent/added/removed.
func values(c probes.Change) (string, string) {
	if c.Field == probes.WholeProbe {
		if c.To == 0 {
			return "present", "removed"
		}
		return "", "added"
	}
	return fmt.Sprint(c.From), fmt.Sprint(c.To)
}

// Summaries renders changes as "app startup probe added", "app liveness failureThreshold 3 -> 6": the
// last-change annotation and the Events say what changed this way.
func Summaries(changes []probes.Change) []string {
	out := make([]string, len(changes))
	for i, c := range changes {
		if c.Field == probes.WholeProbe {
			_, to := values(c)
			out[i] = fmt.Sprintf("%s %s probe %s", c.Container, c.Probe, to)
			continue
		}
		out[i] = fmt.Sprintf("%s %s %s %d -> %d", c.Container, c.Probe, c.Field, c.From, c.To)
	}
	return out
}

// notTold says how many changes a line leaves out: "; and 2 more changes (...)" after others, "50 changes (...)"
// when none is told.
func notTold(n int, afterOthers bool) string {
	if n == 0 {
		return ""
	}
	noun := "changes"
	if n == 1 {
		noun = "change"
	}
	if !afterOthers {
		return fmt.Sprintf("%d %s (the operator's log has one line per change)", n, noun)
	}
	return fmt.Sprintf("; and %d more %s (the operator's log has one line per change)", n, noun)
}

// ChangeLine renders changes as one line of at most limit bytes, for an Event note. Changes that differ only in
// their container are told once, with the containers named ("app, cache liveness failureThreshold 3 -> 6";
// "c00, c01, c02 and 47 more containers startup probe added"): a rollout of a Deployment of 50 containers is one
// readable line, not 50 summaries cut off mid-word. What does not fit is counted at the end, never cut.
func ChangeLine(changes []probes.Change, limit int) string {
	type group struct {
		what       string
		containers []string
	}
	var groups []*group
	byWhat := map[string]*group{}
	for _, c := range changes {
		what := fmt.Sprintf("%s %s %d -> %d", c.Probe, c.Field, c.From, c.To)
		if c.Field == probes.WholeProbe {
			_, to := values(c)
			what = fmt.Sprintf("%s probe %s", c.Probe, to)
		}
		g := byWhat[what]
		if g == nil {
			g = &group{what: what}
			byWhat[what] = g
			groups = append(groups, g)
		}
		g.containers = append(g.containers, c.Container)
	}
	const namedContainers = 3
	changesIn := func(gs []*group) int {
		n := 0
		for _, g := range gs {
			n += len(g.containers)
		}
		return n
	}
	var b strings.Builder
	for i, g := range groups {
		names := strings.Join(g.containers, ", ")
		if n := len(g.containers); n > namedContainers {
			names = fmt.Sprintf("%s and %d more containers", strings.Join(g.containers[:namedContainers], ", "), n-namedContainers)
		}
		part := names + " " + g.what
		if i > 0 {
			part = "; " + part
		}
		// Room must be left to say how many changes would follow this part and not fit.
		if b.Len()+len(part)+len(notTold(changesIn(groups[i+1:]), true)) > limit {
			b.WriteString(notTold(changesIn(groups[i:]), i > 0))
			break
		}
		b.WriteString(part)
	}
	return b.String()
}
