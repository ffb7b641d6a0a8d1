package controllers

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/status"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// reconcileWorkloads is the per-workload phase: one outcome per selected Deployment, in order. A Deployment that
// fails adds its error to the scope and still has an outcome (what its step decided before the failure, or its
// previous summary when it could not be looked at), and the others go on.
func (r *ProbePolicyReconciler) reconcileWorkloads(ctx context.Context, sc *policyScope) {
	sc.changed = r.looks.begin(sc.policy)
	for i := range sc.deployments {
		d := &sc.deployments[i]
		out, err := r.workload(ctx, sc, d)
		if err != nil {
			err = fmt.Errorf("workload %s: %w", d.Name, err)
			sc.errs = append(sc.errs, err)
			if !out.looked {
				out.summary = notLookedAt(d.Name, err)
			}
		}
		sc.outcomes = append(sc.outcomes, out)
		sc.requeue.workload(out)
	}
}

// workload runs the tuning step for one Deployment (or keeps its last outcome when nothing about it is new: see
// workloadLooks), or only summarises it when the policy is off, invalid, or not the one acting on it.
func (r *ProbePolicyReconciler) workload(ctx context.Context, sc *policyScope, d *appsv1.Deployment) (workloadOutcome, error) {
	summary := func(state tuningv1alpha1.WorkloadState, msg string) workloadOutcome {
		r.looks.forget(sc.key, d.Name)
		if ws := sc.states[d.Name]; ws != nil {
			// Not looked at now: its pods are not watched until it is stepped again.
			ws.WatchedSince = time.Time{}
		}
		return workloadOutcome{looked: true, summary: status.Workload{Name: d.Name, State: state, Message: msg}}
	}
	switch acting := sc.acting[d.Name]; {
	case sc.specErr != nil:
		return summary(status.StateObserving, "The policy is invalid: "+sc.specErr.Error()), nil
	case acting != sc.policy.Name:
		out := summary(status.StateConflict, fmt.Sprintf("Also selected by ProbePolicy %s, which is older and alone tunes it", acting))
		out.summary.ConflictWith = acting
		return out, nil
	case sc.settings.Mode == tuningv1alpha1.ModeOff:
		return summary(status.StateOff, "Mode is Off"), nil
	}
	ws := sc.states[d.Name]
	if ws == nil {
		ws = &tuner.WorkloadState{}
		sc.states[d.Name] = ws
	}
	if out, ok := r.looks.reuse(sc.key, d, ws, sc.changed, sc.now); ok {
		return out, nil
	}
	out, err := r.reconcileWorkload(ctx, sc.policy, sc.settings, d, ws, sc.now)
	r.looks.remember(sc.key, d, ws, out, err)
	return out, err
}

// notLookedAt is the summary of a workload whose look failed before its step: the previous summary is kept, with
// the failure as its message.
func notLookedAt(name string, err error) status.Workload {
	return status.Workload{Name: name, State: status.StateObserving, NotLookedAt: true,
		Message: fmt.Sprintf("Could not be looked at, the state shown is the last known one: %v", err)}
}
