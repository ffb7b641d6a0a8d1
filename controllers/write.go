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
	"github.com/probetuner/probe-tuner/internal/status"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// write carries out the write a step decided: it reads the Deployment afresh (a hand edit since the cache saw it
// must win over the change), lets tuner.PrepareWrite run the step's checks on it, server-side applies the request,
// and reports success to the step with tuner.Written. It returns what became of the write: done, lost a race
// with another writer (nothing written; the workload is looked at again soon), given way to a hand edit or to
// another writer's change found on the fresh read, or failed (with its error).
func (r *ProbePolicyReconciler) write(ctx context.Context, log logr.Logger, pol *tuningv1alpha1.ProbePolicy, d *appsv1.Deployment,
	ws *tuner.WorkloadState, step *tuner.Outcome) status.Write {
	failed := func(err error) status.Write { return status.Write{Result: status.WriteFailed, Err: err} }
	fresh := &appsv1.Deployment{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(d), fresh); err != nil {
		return failed(fmt.Errorf("reading Deployment %s/%s before writing it: %w", d.Namespace, d.Name, err))
	}
	found := len(step.Records)
	req, err := tuner.PrepareWrite(ws, step, fresh, pol.Name)
	if err != nil {
		return failed(err)
	}
	if req == nil {
		return status.Write{Result: droppedFor(step.Records[found:])}
	}
	obj, _, err := apply.Build(*req)
	if err != nil {
		return failed(fmt.Errorf("building the change of Deployment %s/%s: %w", d.Namespace, d.Name, err))
	}
	// The precondition on the version just read makes the write happen at most once per decision: had anyone
	// written the Deployment since (another replica, a person), the API server refuses and the next reconcile
	// decides again on what is there then.
	obj.SetResourceVersion(fresh.ResourceVersion)
	err = r.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(FieldManager), client.ForceOwnership)
	if apierrors.IsConflict(err) {
		log.Info("Deployment changed since it was read; nothing written, looking again soon", "decision", step.Action.ID, "error", err.Error())
		return status.Write{Result: status.WriteLostRace}
	}
	if err != nil {
		return failed(fmt.Errorf("applying decision %s to Deployment %s/%s: %w", step.Action.ID, d.Namespace, d.Name, err))
	}
	failpoint.Kill(failpoint.AfterDeploymentWrite)
	tuner.Written(ws, step)
	return status.Write{Result: status.WriteDone}
}

// droppedFor says why PrepareWrite dropped a write, from the records the fresh read added: another writer's
// change adopted, or else a hand edit respected.
func droppedFor(found []tuner.Record) status.WriteResult {
	for _, rec := range found {
		if rec.Kind == tuner.RecordAdopted {
			return status.WriteAdopted
		}
	}
	return status.WriteOverridden
}
