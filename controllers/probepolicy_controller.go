package controllers

import (
	"context"

	kerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/podstore"
)

// +kubebuilder:rbac:groups=tuning.probetuner.io,resources=probepolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=tuning.probetuner.io,resources=probepolicies/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=apps,resources=replicasets,verbs=list
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;create;patch

// ProbePolicyReconciler observes the workloads each ProbePolicy selects and tunes their probes.
type ProbePolicyReconciler struct {
	client.Client
	// APIReader reads past the cache, for a fresh look at a Deployment right before writing it.
	APIReader client.Reader
	// Pods holds the Deployments' pods and the kubelet's Events about them, as compact records.
	Pods *podstore.Store
	// Clock is the time source.
	Clock clock.PassiveClock
	// Recorder records Events on policies and Deployments.
	Recorder recorder.EventRecorder
	// States keeps each policy's workload states and checkpoints them.
	States *StateStore
	// ObserveConfig tunes observation.
	ObserveConfig observe.Config
	// StatusWriter writes the policies' status; the client when nil.
	StatusWriter StatusWriter

	// pending holds the decisions not yet in a policy's status.
	pending pendingQueue
	// index maps Deployments to the policies selecting them.
	index policyIndex
	// statusPatched is when each policy's status was last patched.
	statusPatched statusPatches
	// looks keeps each workload's last step, and which workloads changed since.
	looks workloadLooks
}

// Reconcile gathers the policy and its Deployments into a scope, then runs the phases on it: one tuning step per
// Deployment (each one's outcome and error kept apart, so that one bad Deployment never loses another's
// decisions), forgetting the workloads no longer selected, the status computed once from the outcomes and
// patched once, and the checkpoint. The errors of all the workloads come back together; the shortest requeue
// any phase asked for wins.
func (r *ProbePolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pol := &tuningv1alpha1.ProbePolicy{}
	if err := r.Get(ctx, req.NamespacedName, pol); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.policyGone(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if pol.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	sc, err := r.newScope(ctx, pol)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.reconcileWorkloads(ctx, sc)
	r.forgetUnselected(sc)
	if err := r.reconcileStatus(ctx, sc); err != nil {
		return ctrl.Result{}, kerrors.NewAggregate(append(sc.errs, err))
	}
	if err := r.reconcileCheckpoint(ctx, sc); err != nil {
		sc.errs = append(sc.errs, err)
	}
	if err := kerrors.NewAggregate(sc.errs); err != nil {
		return ctrl.Result{}, err
	}
	return sc.requeue.result(), nil
}
