package controllers

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/metrics"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/podstore"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/status"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// +kubebuilder:rbac:groups=tuning.probetuner.io,resources=probepolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=tuning.probetuner.io,resources=probepolicies/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=apps,resources=replicasets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;create;patch

// resyncInterval is how often a policy with workloads is looked at even when nothing changes: time alone
// makes pods stuck, cooldowns end and verification windows close.
const resyncInterval = 15 * time.Second

// ProbePolicyReconciler observes the workloads each ProbePolicy selects and tunes their probes.
type ProbePolicyReconciler struct {
	client.Client
	// APIReader reads past the cache, for a fresh look at a Deployment right before writing it.
	APIReader client.Reader
	// Pods holds the Deployments' pods and the kubelet's Events about them, as compact records.
	Pods          *podstore.Store
	Clock         clock.PassiveClock
	Recorder      recorder.EventRecorder
	Checkpoints   *Checkpoints
	ObserveConfig observe.Config

	selectors selectorCache
}

// Reconcile gathers the policy and its Deployments, runs one tuning step per Deployment, then computes the
// status once and patches it once.
func (r *ProbePolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pol := &tuningv1alpha1.ProbePolicy{}
	if err := r.Get(ctx, req.NamespacedName, pol); err != nil {
		if client.IgnoreNotFound(err) == nil {
			// A deleted policy's workloads are left as they are; only what probe-tuner kept about them goes.
			for _, name := range r.Checkpoints.Forget(req.NamespacedName) {
				forgetWorkloadMetrics(req.Namespace, name)
			}
			metrics.SelectedWorkloads.DeletePartialMatch(map[string]string{"namespace": req.Namespace, "policy": req.Name})
			r.selectors.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if pol.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	now := r.Clock.Now()
	settings, specErr := policy.Resolve(pol.Spec)

	deployments, err := r.selectedDeployments(ctx, pol)
	if err != nil {
		return ctrl.Result{}, err
	}
	acting, err := r.actingPolicies(ctx, pol.Namespace, deployments)
	if err != nil {
		return ctrl.Result{}, err
	}
	states, err := r.Checkpoints.Load(ctx, pol)
	if err != nil {
		return ctrl.Result{}, err
	}

	in := status.Input{Previous: pol.Status, Generation: pol.Generation, Mode: settings.Mode, SpecError: specErr, Now: now}
	selected := map[string]bool{}
	changed := false
	next := requeueAfter{now: now, after: resyncInterval}
	for i := range deployments {
		d := &deployments[i]
		selected[d.Name] = true
		w, err := r.workload(ctx, pol, settings, specErr, d, states, acting[d.Name], now)
		if err != nil {
			return ctrl.Result{}, err
		}
		in.Workloads = append(in.Workloads, w.summary)
		in.NewDecision = append(in.NewDecision, w.decisions...)
		in.Applied += w.applied
		changed = changed || w.changed
		next.workload(w)
	}
	r.forgetUnselected(pol, states, selected)
	metrics.SelectedWorkloads.WithLabelValues(pol.Namespace, pol.Name, string(settings.Mode)).Set(float64(len(deployments)))

	in.NewDecision, in.Applied = r.Checkpoints.AddPending(req.NamespacedName, in.NewDecision, in.Applied)
	if err := r.patchStatus(ctx, pol, status.Compute(in)); err != nil {
		if apierrors.IsConflict(err) {
			// The cached policy is older than the status written last; try again on a fresh copy. The
			// decisions stay queued.
			return ctrl.Result{Requeue: true}, nil
		}
		return ctrl.Result{}, err
	}
	r.Checkpoints.ClearPending(req.NamespacedName)
	if err := r.Checkpoints.Save(ctx, pol, now, changed); err != nil {
		return ctrl.Result{}, err
	}
	if len(deployments) == 0 || settings.Mode == tuningv1alpha1.ModeOff {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{RequeueAfter: next.after}, nil
}

// retryAfterLostRace is how soon a workload whose write lost a race with another writer is looked at again.
const retryAfterLostRace = time.Second

// requeueAfter picks when the policy is looked at again: at the resync interval, or sooner when a workload has
// something that time alone settles, or lost a race.
type requeueAfter struct {
	now   time.Time
	after time.Duration
}

func (q *requeueAfter) workload(w workloadOutcome) {
	if w.retry {
		q.after = min(q.after, retryAfterLostRace)
	}
	if !w.recheckAt.IsZero() {
		// A little past the moment, so that the look then finds the matter settled.
		q.after = min(q.after, max(w.recheckAt.Sub(q.now), 0)+100*time.Millisecond)
	}
}

// workload runs the tuning step for one Deployment, or only summarises it when the policy is off, invalid, or
// not the one acting on it.
func (r *ProbePolicyReconciler) workload(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, s policy.Settings, specErr error,
	d *appsv1.Deployment, states map[string]*tuner.WorkloadState, actingPolicy string, now time.Time) (workloadOutcome, error) {
	switch {
	case specErr != nil:
		return workloadOutcome{summary: status.Workload{Name: d.Name, State: status.StateObserving, Message: "The policy is invalid: " + specErr.Error()}}, nil
	case actingPolicy != pol.Name:
		return workloadOutcome{summary: status.Workload{Name: d.Name, State: status.StateConflict, ConflictWith: actingPolicy,
			Message: fmt.Sprintf("Also selected by ProbePolicy %s, which is older and alone tunes it", actingPolicy)}}, nil
	case s.Mode == tuningv1alpha1.ModeOff:
		return workloadOutcome{summary: status.Workload{Name: d.Name, State: status.StateOff, Message: "Mode is Off"}}, nil
	}
	ws := states[d.Name]
	if ws == nil {
		ws = &tuner.WorkloadState{}
		states[d.Name] = ws
	}
	out, err := r.reconcileWorkload(ctx, pol, s, d, ws, now)
	if err != nil {
		return out, fmt.Errorf("workload %s: %w", d.Name, err)
	}
	return out, nil
}

// forgetUnselected stops tracking workloads the policy no longer selects; they are left as they are.
func (r *ProbePolicyReconciler) forgetUnselected(pol *tuningv1alpha1.ProbePolicy, states map[string]*tuner.WorkloadState, selected map[string]bool) {
	for name := range states {
		if !selected[name] {
			forgetWorkloadMetrics(pol.Namespace, name)
		}
	}
	r.Checkpoints.Prune(client.ObjectKeyFromObject(pol), selected)
}

// patchStatus writes the status when it changed, with a merge patch guarded by the object's resourceVersion.
func (r *ProbePolicyReconciler) patchStatus(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, st tuningv1alpha1.ProbePolicyStatus) error {
	if equality.Semantic.DeepEqual(st, pol.Status) {
		return nil
	}
	patch := client.MergeFromWithOptions(pol.DeepCopy(), client.MergeFromWithOptimisticLock{})
	pol.Status = st
	if err := r.Status().Patch(ctx, pol, patch); err != nil {
		return fmt.Errorf("patching the status of ProbePolicy %s/%s: %w", pol.Namespace, pol.Name, err)
	}
	return nil
}
