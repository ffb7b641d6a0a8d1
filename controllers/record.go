package controllers

import (
	"unicode/utf8"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/metrics"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// Event reasons probe-tuner records.
const (
	EventProbeAdjusted      = "ProbeAdjusted"
	EventProbeRecommended   = "ProbeRecommended"
	EventAdjustmentReverted = "AdjustmentReverted"
	EventManualOverride     = "ManualOverrideRespected"
)

// recordMessages are the log messages of each kind of record.
var recordMessages = map[tuner.RecordKind]string{
	tuner.RecordOverride:    "Manual override respected",
	tuner.RecordAdopted:     "Change adopted from the Deployment",
	tuner.RecordRecommended: "Probe change recommended",
	tuner.RecordApplied:     "Probe change applied",
	tuner.RecordReverted:    "Probe change reverted",
}

// record reports what a step decided: Events on the policy and the Deployment, the adjustment metrics, and one
// log line per decision and per new finding. The status decisions are the caller's.
func (r *ProbePolicyReconciler) record(log logr.Logger, pol *tuningv1alpha1.ProbePolicy, d *appsv1.Deployment, step *tuner.Outcome) {
	for _, rec := range step.Records {
		switch rec.Kind {
		case tuner.RecordOverride:
			for _, dec := range rec.Decisions {
				r.Recorder.Eventf(pol, d, corev1.EventTypeNormal, EventManualOverride, "Respect", "%s", dec.Evidence)
				r.Recorder.Eventf(d, pol, corev1.EventTypeNormal, EventManualOverride, "Respect", "%s", dec.Evidence)
			}
		case tuner.RecordRecommended:
			note := changeNote(rec.Changes, " (not applied: "+rec.Reason+")")
			r.Recorder.Eventf(pol, d, corev1.EventTypeNormal, EventProbeRecommended, "Recommend", "%s", truncate("Deployment "+d.Name+": "+note))
			r.Recorder.Eventf(d, pol, corev1.EventTypeNormal, EventProbeRecommended, "Recommend", "%s", truncate("ProbePolicy "+pol.Name+": "+note))
			r.countAdjustments(d, rec.Changes, metrics.ActionLabel(rec.Action))
		case tuner.RecordApplied, tuner.RecordReverted:
			reason, eventType := EventProbeAdjusted, corev1.EventTypeNormal
			if rec.Kind == tuner.RecordReverted {
				reason, eventType = EventAdjustmentReverted, corev1.EventTypeWarning
				r.countRevert(d)
			}
			note := changeNote(rec.Changes, "")
			r.Recorder.Eventf(pol, d, eventType, reason, "Tune", "%s", truncate("Deployment "+d.Name+": "+note))
			r.Recorder.Eventf(d, pol, eventType, reason, "Tune", "%s", truncate("ProbePolicy "+pol.Name+": "+note))
			r.countAdjustments(d, rec.Changes, metrics.ActionLabel(rec.Action))
		}
		// An adopted change had its Events and metrics from whoever wrote it: it gets its decisions and log lines.
		logRecord(log, rec)
	}
	if step.Action.NewFindings {
		r.recordFindings(pol, d, step.Action.Plan.Findings)
		for _, f := range step.Action.Plan.Findings {
			log.Info("Finding", "container", f.Container, "severity", string(f.Severity), "reason", f.Reason, "message", f.Message)
		}
	}
}

// logRecord writes one line per decision of the record.
func logRecord(log logr.Logger, rec tuner.Record) {
	for _, dec := range rec.Decisions {
		kv := []any{"decision", dec.ID, "action", string(dec.Action), "container", dec.Container, "probe", string(dec.Probe), "field", dec.Field,
			"from", dec.From, "to", dec.To, "reason", dec.Reason, "evidence", dec.Evidence}
		if rec.Kind == tuner.RecordRecommended {
			kv = append(kv, "notAppliedBecause", rec.Reason)
		}
		log.Info(recordMessages[rec.Kind], kv...)
	}
}

// recordFindings emits a Warning Event for each warning finding, on the policy and on the Deployment.
func (r *ProbePolicyReconciler) recordFindings(pol *tuningv1alpha1.ProbePolicy, d *appsv1.Deployment, findings []recommend.Finding) {
	for _, f := range findings {
		if f.Severity != recommend.Warning {
			continue
		}
		r.Recorder.Eventf(pol, d, corev1.EventTypeWarning, f.Reason, "Observe", "%s", truncate("Deployment "+d.Name+": "+f.Message))
		r.Recorder.Eventf(d, pol, corev1.EventTypeWarning, f.Reason, "Observe", "%s", truncate(f.Message))
	}
}

// evidenceOf is the evidence an Event shows for changes: the first change's, which the others share.
func evidenceOf(changes []probes.Change) string {
	if len(changes) == 0 {
		return ""
	}
	return changes[0].Evidence
}

// eventNoteLimit is the API's limit on an Event's note (1 KiB), less a margin.
const eventNoteLimit = 1000

// truncate keeps a whole Event message within eventNoteLimit, cutting at a rune boundary.
func truncate(s string) string {
	if len(s) <= eventNoteLimit {
		return s
	}
	cut := eventNoteLimit - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// changeNote is the body of an Event about changes: what changed (tuner.ChangeLine), the reason it was not
// applied if it was not, and the evidence. The line of changes gets the room the evidence leaves (a name prefix
// of up to a Kubernetes name's length is allowed for), so that the evidence, what a reader most needs, is not
// cut away by a long list of containers.
func changeNote(changes []probes.Change, notApplied string) string {
	const namePrefix = len("ProbePolicy : ") + 253
	const minLine = 200
	tail := notApplied + ": " + evidenceOf(changes)
	return tuner.ChangeLine(changes, max(eventNoteLimit-namePrefix-len(tail), minLine)) + tail
}

// recordRejections reports the annotations a look refused to use: a Warning Event on the Deployment and on the
// policy and a log line for a value not reported before; a value reported before is logged at a higher verbosity
// only, so that a bad annotation left in place does not repeat its Event on every reconcile.
func (r *ProbePolicyReconciler) recordRejections(log logr.Logger, pol *tuningv1alpha1.ProbePolicy, d *appsv1.Deployment, rejected []tuner.Rejection) {
	for _, rej := range rejected {
		if !rej.New {
			log.V(1).Info("Annotation still rejected", "annotation", rej.Annotation, "reason", rej.Reason)
			continue
		}
		log.Info("Annotation rejected", "annotation", rej.Annotation, "reason", rej.Reason, "message", rej.Message)
		r.Recorder.Eventf(d, pol, corev1.EventTypeWarning, rej.Reason, "CheckAnnotation", "%s", truncate(rej.Message))
		r.Recorder.Eventf(pol, d, corev1.EventTypeWarning, rej.Reason, "CheckAnnotation", "%s", truncate("Deployment "+d.Name+": "+rej.Message))
	}
}
