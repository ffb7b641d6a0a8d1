package tuner

import (
	"fmt"
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
