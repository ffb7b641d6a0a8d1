package controllers

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/failpoint"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// write carries out the write a step decided: it reads the Deployment afresh (a hand edit since the cache saw it
// must win over the change), lets tuner.PrepareWrite run the step's checks on it, server-side applies the request,
// and reports success to the step with tuner.Written. retry says the write lost a race with another writer:
// nothing was written, and the workload should be looked at again soon.
func (r *ProbePolicyReconciler) write(ctx context.Context, log logr.Logger, pol *tuningv1alpha1.ProbePolicy, d *appsv1.Deployment,
	ws *tuner.WorkloadState, step *tuner.Outcome) (retry bool, err error) {
	fresh := &appsv1.Deployment{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(d), fresh); err != nil {
		return false, fmt.Errorf("reading Deployment %s/%s before writing it: %w", d.Namespace, d.Name, err)
	}
	req, err := tuner.PrepareWrite(ws, step, fresh, pol.Name)
	if err != nil || req == nil {
		return false, err
	}
	obj, _, err := apply.Build(*req)
	if err != nil {
		return false, fmt.Errorf("building the change of Deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	// The precondition on the version just read makes the write happen at most once per decision: had anyone
	// written the Deployment since (another replica, a person), the API server refuses and the next reconcile
	// decides again on what is there then.
	obj.SetResourceVersion(fresh.ResourceVersion)
	err = r.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(FieldManager), client.ForceOwnership)
	if apierrors.IsConflict(err) {
		log.Info("Deployment changed since it was read; nothing written, looking again soon", "decision", step.Action.ID, "error", err.Error())
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("applying decision %s to Deployment %s/%s: %w", step.Action.ID, d.Namespace, d.Name, err)
	}
	failpoint.Kill(failpoint.AfterDeploymentWrite)
	tuner.Written(ws, step)
	return false, nil
}
