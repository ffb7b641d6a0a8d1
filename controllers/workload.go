package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/recommend"
	"github.com/probetuner/probe-tuner/internal/status"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// workloadOutcome is what one workload contributed to the policy's reconcile.
type workloadOutcome struct {
	summary   status.Workload
	decisions []tuningv1alpha1.Decision
	applied   int
	// changed says the tuning state changed in a way worth checkpointing at once.
	changed bool
	// retry says a write lost a race and the workload should be looked at again soon.
	retry bool
	// recheckAt, when set, is when observation wants another look (see observe.State.RecheckAt).
	recheckAt time.Time
}

// reconcileWorkload runs one tuning step for a Deployment: gather its pods and the kubelet's Events, observe,
// respect hand edits, decide, write what was decided, and summarise.
func (r *ProbePolicyReconciler) reconcileWorkload(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, s policy.Settings,
	d *appsv1.Deployment, ws *tuner.WorkloadState, now time.Time) (workloadOutcome, error) {
	out := workloadOutcome{summary: status.Workload{Name: d.Name}}
	pods, err := r.Pods.PodsOf(d.Namespace, d.Name)
	if err != nil {
		return out, err
	}
	events, err := r.Pods.EventsOf(d.Namespace, pods)
	if err != nil {
		return out, err
	}
	revision, rolling, err := r.currentRevision(ctx, d)
	if err != nil {
		return out, err
	}

	before := snapshotCounts(&ws.Observation)
	observe.Update(&ws.Observation, observe.Input{Pods: pods, Events: events, Revision: revision, Now: now}, r.ObserveConfig)
	r.recordObservationMetrics(d, &ws.Observation, before)

	owned, err := apply.ReadOwned(d)
	if err != nil {
		return out, err
	}
	if overrides := newOverrides(ws, apply.Overrides(owned, d)); len(overrides) > 0 {
		ws.Frozen = append(ws.Frozen, overrides...)
		out.decisions = append(out.decisions, r.recordOverrides(pol, d, overrides, now)...)
		out.changed = true
	}
	owned.Release(ws.Frozen)
	if adopted := adoptLastChange(ws, d); adopted != nil {
		// The write happened (the operator died before counting it): it counts now, once, like its decisions.
		out.decisions = append(out.decisions, decisions(d.Name, adopted.ID, adopted.Action, adopted.Changes, adopted.Time)...)
		out.applied += len(adopted.Changes)
		out.changed = true
	}

	facts := tuner.Facts{Name: d.Name, Revision: revision, RolloutInProgress: rolling,
		Paused: d.Annotations[apply.AnnotationPaused] == "true", Containers: containersOf(d)}
	act := tuner.Decide(ws, facts, s, r.ObserveConfig, now)

	switch {
	case act.Kind == tuner.Apply || act.Kind == tuner.Revert:
		// Read the Deployment afresh: a hand edit since the cache saw it must win over this change.
		fresh, freshOwned, overrides, err := r.freshDeployment(ctx, d, ws)
		if err != nil {
			return out, err
		}
		if len(overrides) > 0 {
			ws.Frozen = append(ws.Frozen, overrides...)
			out.decisions = append(out.decisions, r.recordOverrides(pol, d, overrides, now)...)
			out.changed = true
			break // decide again on the next reconcile, without the fields just released
		}
		if adopted := adoptLastChange(ws, fresh); adopted != nil {
			// Someone else (a second replica without leader election) made a change the cache has not shown
			// yet: it counts as made, and this decision is dropped rather than stacked on it.
			out.decisions = append(out.decisions, decisions(d.Name, adopted.ID, adopted.Action, adopted.Changes, adopted.Time)...)
			out.changed = true
			break
		}
		written, err := r.write(ctx, pol, fresh, freshOwned, act, revision, now)
		if apierrors.IsConflict(err) {
			out.retry = true // the Deployment changed since the fresh read; nothing was written
			break
		}
		if err != nil {
			return out, err
		}
		tuner.Applied(ws, act, revision, now)
		out.decisions = append(out.decisions, written...)
		out.applied += len(act.Changes)
		out.changed = true
	case act.Kind == tuner.Recommend && act.Record:
		out.decisions = append(out.decisions, r.recordRecommendation(pol, d, act, now)...)
		out.changed = true
	}
	if act.NewFindings {
		r.recordFindings(pol, d, act.Plan.Findings)
		out.changed = true
	}
	r.recordProbeMetrics(d, act.Plan)
	out.summary = summarise(d, ws, act, facts, r.ObserveConfig, now)
	out.recheckAt = ws.Observation.RecheckAt
	return out, nil
}

// freshDeployment reads the Deployment from the API server and returns it with the fields probe-tuner owns on it
// (frozen ones released) and the hand edits not known before.
func (r *ProbePolicyReconciler) freshDeployment(ctx context.Context, d *appsv1.Deployment, ws *tuner.WorkloadState) (*appsv1.Deployment, apply.Owned, []recommend.FieldRef, error) {
	fresh := &appsv1.Deployment{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(d), fresh); err != nil {
		return nil, nil, nil, fmt.Errorf("reading Deployment %s/%s before writing it: %w", d.Namespace, d.Name, err)
	}
	owned, err := apply.ReadOwned(fresh)
	if err != nil {
		return nil, nil, nil, err
	}
	overrides := newOverrides(ws, apply.Overrides(owned, fresh))
	owned.Release(ws.Frozen)
	return fresh, owned, overrides, nil
}

// newOverrides keeps the overrides not already known.
func newOverrides(ws *tuner.WorkloadState, found []recommend.FieldRef) []recommend.FieldRef {
	known := map[recommend.FieldRef]bool{}
	for _, f := range ws.Frozen {
		known[f] = true
	}
	var out []recommend.FieldRef
	for _, f := range found {
		if !known[f] {
			out = append(out, f)
		}
	}
	return out
}

// adoptLastChange takes the last change recorded on the Deployment when the state does not know it: the
// operator died after writing the Deployment and before checkpointing. The change then counts for cooldown and
// verification, is not applied again, and is returned so that its decisions are recorded once.
func adoptLastChange(ws *tuner.WorkloadState, d *appsv1.Deployment) *apply.LastChange {
	raw := d.Annotations[apply.AnnotationLastChange]
	if raw == "" {
		return nil
	}
	var lc apply.LastChange
	if json.Unmarshal([]byte(raw), &lc) != nil || lc.ID == "" {
		return nil
	}
	if ws.LastChange != nil && (ws.LastChange.ID == lc.ID || ws.LastChange.Time.After(lc.Time)) {
		return nil
	}
	reverted := lc.Action == string(tuner.Revert)
	ws.LastChange = &tuner.ChangeRecord{ID: lc.ID, Time: lc.Time, FromRevision: lc.FromRevision, Changes: lc.Changes, Reverted: reverted, Verified: reverted}
	if lc.Action == string(tuner.Apply) {
		lc.Action = "Applied"
	} else {
		lc.Action = "Reverted"
	}
	return &lc
}

// summarise describes the workload for the status.
func summarise(d *appsv1.Deployment, ws *tuner.WorkloadState, act tuner.Action, f tuner.Facts, cfg observe.Config, now time.Time) status.Workload {
	w := status.Workload{Name: d.Name, Findings: act.Plan.Findings}
	if ws.LastChange != nil {
		t := ws.LastChange.Time
		w.LastChangeTime = &t
	}
	for _, c := range f.Containers {
		sc := status.Container{Name: c.Name, Signals: observe.ContainerSignals(&ws.Observation, c.Name, f.Revision, now, cfg),
			Current: recommend.ProbeSet{Startup: c.Startup, Liveness: c.Liveness, Readiness: c.Readiness}}
		if rec, ok := act.Plan.Probes[c.Name]; ok && act.Kind != tuner.Apply {
			sc.Recommended = &rec
		}
		w.Containers = append(w.Containers, sc)
	}
	w.State, w.Message = status.WorkloadState(act, f.Paused, ws)
	return w
}

// snapshotCounts records the totals the metrics are increased from.
type counts struct {
	restarts    map[string]map[observe.Cause]int
	starts      map[string]int
	transitions map[string]int
}

func snapshotCounts(s *observe.State) counts {
	c := counts{restarts: map[string]map[observe.Cause]int{}, starts: map[string]int{}, transitions: map[string]int{}}
	for name, cs := range s.Containers {
		c.restarts[name] = map[observe.Cause]int{}
		for cause, n := range cs.Restarts {
			c.restarts[name][cause] = n
		}
		c.starts[name] = cs.Startup.Count
		c.transitions[name] = cs.ReadyTransitions
	}
	return c
}
