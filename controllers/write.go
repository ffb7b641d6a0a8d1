package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/failpoint"
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

// write applies an Apply or Revert action to the Deployment with server-side apply, unless the Deployment
// already carries this decision (the operator died after writing it), and records it.
func (r *ProbePolicyReconciler) write(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, d *appsv1.Deployment,
	owned apply.Owned, act tuner.Action, revision string, now time.Time) ([]tuningv1alpha1.Decision, error) {
	if !alreadyApplied(d, act.ID) {
		current := map[string]recommend.ProbeSet{}
		for _, c := range d.Spec.Template.Spec.Containers {
			current[c.Name] = recommend.ProbeSet{Startup: c.StartupProbe, Liveness: c.LivenessProbe, Readiness: c.ReadinessProbe}
		}
		req := apply.Request{Deployment: d, Owned: owned, Changes: act.Changes, Desired: tuner.Desired(current, act),
			LastChange: apply.LastChange{ID: act.ID, Time: now, Policy: pol.Name, Action: string(act.Kind),
				Summary: summaries(act.Changes), FromRevision: revision, Changes: act.Changes}}
		obj, _, err := apply.Build(req)
		if err != nil {
			return nil, fmt.Errorf("building the change of Deployment %s/%s: %w", d.Namespace, d.Name, err)
		}
		// The precondition on the version just read makes the write happen at most once per decision: had anyone
		// written the Deployment since (another replica, a person), the API server refuses and the next reconcile
		// decides again on what is there then.
		obj.SetResourceVersion(d.ResourceVersion)
		if err := r.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return nil, fmt.Errorf("applying decision %s to Deployment %s/%s: %w", act.ID, d.Namespace, d.Name, err)
		}
		failpoint.Kill(failpoint.AfterDeploymentWrite)
	}

	reason, action, eventType := EventProbeAdjusted, "Applied", corev1.EventTypeNormal
	if act.Kind == tuner.Revert {
		reason, action, eventType = EventAdjustmentReverted, "Reverted", corev1.EventTypeWarning
	}
	note := fmt.Sprintf("%s: %s", strings.Join(summaries(act.Changes), "; "), act.Changes[0].Evidence)
	r.Recorder.Eventf(pol, d, eventType, reason, "Tune", "Deployment %s: %s", d.Name, truncate(note))
	r.Recorder.Eventf(d, pol, eventType, reason, "Tune", "ProbePolicy %s: %s", pol.Name, truncate(note))
	r.countAdjustments(d, act.Changes, strings.ToLower(action))
	if act.Kind == tuner.Revert {
		r.countRevert(d)
	}
	return decisions(d.Name, act.ID, action, act.Changes, now), nil
}

// alreadyApplied reports whether the Deployment's last-change annotation names this decision.
func alreadyApplied(d *appsv1.Deployment, id string) bool {
	var lc apply.LastChange
	raw := d.Annotations[apply.AnnotationLastChange]
	return raw != "" && json.Unmarshal([]byte(raw), &lc) == nil && lc.ID == id
}

// recordRecommendation records a recommendation that is not applied.
func (r *ProbePolicyReconciler) recordRecommendation(pol *tuningv1alpha1.ProbePolicy, d *appsv1.Deployment, act tuner.Action, now time.Time) []tuningv1alpha1.Decision {
	note := fmt.Sprintf("%s (not applied: %s): %s", strings.Join(summaries(act.Changes), "; "), act.Reason, act.Changes[0].Evidence)
	r.Recorder.Eventf(pol, d, corev1.EventTypeNormal, EventProbeRecommended, "Recommend", "Deployment %s: %s", d.Name, truncate(note))
	r.Recorder.Eventf(d, pol, corev1.EventTypeNormal, EventProbeRecommended, "Recommend", "ProbePolicy %s: %s", pol.Name, truncate(note))
	r.countAdjustments(d, act.Changes, "recommended")
	return decisions(d.Name, "", "Recommended", act.Changes, now)
}

// recordOverrides records fields a person changed by hand after probe-tuner set them.
func (r *ProbePolicyReconciler) recordOverrides(pol *tuningv1alpha1.ProbePolicy, d *appsv1.Deployment, refs []recommend.FieldRef, now time.Time) []tuningv1alpha1.Decision {
	var out []tuningv1alpha1.Decision
	for _, f := range refs {
		msg := fmt.Sprintf("%s %s probe %s of container %s was changed by someone else after probe-tuner set it; probe-tuner leaves it to them from now on",
			d.Name, f.Probe, f.Field, f.Container)
		r.Recorder.Eventf(pol, d, corev1.EventTypeNormal, EventManualOverride, "Respect", "%s", msg)
		r.Recorder.Eventf(d, pol, corev1.EventTypeNormal, EventManualOverride, "Respect", "%s", msg)
		out = append(out, tuningv1alpha1.Decision{Time: metav1.NewTime(now), Workload: d.Name, Container: f.Container, Probe: string(f.Probe),
			Field: f.Field, Action: "Skipped", Reason: "ManualOverride", Evidence: msg})
	}
	return out
}

// recordFindings emits a Warning Event for each warning finding, on the policy and on the Deployment.
func (r *ProbePolicyReconciler) recordFindings(pol *tuningv1alpha1.ProbePolicy, d *appsv1.Deployment, findings []recommend.Finding) {
	for _, f := range findings {
		if f.Severity != recommend.Warning {
			continue
		}
		r.Recorder.Eventf(pol, d, corev1.EventTypeWarning, f.Reason, "Observe", "Deployment %s: %s", d.Name, truncate(f.Message))
		r.Recorder.Eventf(d, pol, corev1.EventTypeWarning, f.Reason, "Observe", "%s", truncate(f.Message))
	}
}

// decisions turns changes into status decision records.
func decisions(workload, id, action string, changes []recommend.Change, now time.Time) []tuningv1alpha1.Decision {
	out := make([]tuningv1alpha1.Decision, 0, len(changes))
	for _, c := range changes {
		d := tuningv1alpha1.Decision{ID: id, Time: metav1.NewTime(now), Workload: workload, Container: c.Container, Probe: string(c.Probe),
			Field: c.Field, Action: action, Reason: c.Reason, Evidence: c.Evidence}
		d.From, d.To = values(c)
		out = append(out, d)
	}
	return out
}

// values renders a change's from and to for status: a whole probe reads as absent/added/removed.
func values(c recommend.Change) (string, string) {
	if c.Field == recommend.FieldProbe {
		if c.To == 0 {
			return "present", "removed"
		}
		return "", "added"
	}
	return fmt.Sprint(c.From), fmt.Sprint(c.To)
}

// summaries renders changes as "app startup probe added", "app liveness failureThreshold 3 -> 6".
func summaries(changes []recommend.Change) []string {
	out := make([]string, len(changes))
	for i, c := range changes {
		if c.Field == recommend.FieldProbe {
			_, to := values(c)
			out[i] = fmt.Sprintf("%s %s probe %s", c.Container, c.Probe, to)
			continue
		}
		out[i] = fmt.Sprintf("%s %s %s %d -> %d", c.Container, c.Probe, c.Field, c.From, c.To)
	}
	return out
}

// truncate keeps an Event note within the API's 1 KiB limit.
func truncate(s string) string {
	const limit = 1000
	if len(s) <= limit {
		return s
	}
	return s[:limit-3] + "..."
}
