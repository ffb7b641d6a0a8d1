package controllers

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/policy"
)

// +kubebuilder:rbac:groups=tuning.probetuner.io,resources=probepolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=tuning.probetuner.io,resources=probepolicies/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=apps,resources=replicasets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// ProbePolicyReconciler keeps each ProbePolicy's status in step with the Deployments it selects.
type ProbePolicyReconciler struct {
	client.Client
	Clock clock.PassiveClock
}

// Reconcile gathers the policy and its Deployments, computes the status once and patches it once.
func (r *ProbePolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pol := &tuningv1alpha1.ProbePolicy{}
	if err := r.Get(ctx, req.NamespacedName, pol); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}

	settings, settingsErr := policy.Resolve(pol.Spec)
	var deployments []appsv1.Deployment
	if settingsErr == nil {
		selected, err := r.selectedDeployments(ctx, pol)
		if err != nil {
			return ctrl.Result{}, err
		}
		deployments = selected
	}

	status := pol.Status.DeepCopy()
	status.ObservedGeneration = pol.Generation
	status.WorkloadCount = int32(len(deployments))
	meta.SetStatusCondition(&status.Conditions, readyCondition(pol.Generation, settings.Mode, settingsErr))

	if equality.Semantic.DeepEqual(*status, pol.Status) {
		return ctrl.Result{}, nil
	}
	patch := client.MergeFrom(pol.DeepCopy())
	pol.Status = *status
	if err := r.Status().Patch(ctx, pol, patch); err != nil {
		return ctrl.Result{}, fmt.Errorf("patching the status of ProbePolicy %s: %w", req.NamespacedName, err)
	}
	return ctrl.Result{}, nil
}

// selectedDeployments lists the Deployments in the policy's namespace that its selector matches.
func (r *ProbePolicyReconciler) selectedDeployments(ctx context.Context, pol *tuningv1alpha1.ProbePolicy) ([]appsv1.Deployment, error) {
	selector, err := metav1.LabelSelectorAsSelector(&pol.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("reading the selector of ProbePolicy %s/%s: %w", pol.Namespace, pol.Name, err)
	}
	var list appsv1.DeploymentList
	if err := r.List(ctx, &list, client.InNamespace(pol.Namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return nil, fmt.Errorf("listing the Deployments of ProbePolicy %s/%s: %w", pol.Namespace, pol.Name, err)
	}
	return list.Items, nil
}

// readyCondition says whether the policy is in force.
func readyCondition(generation int64, mode tuningv1alpha1.Mode, settingsErr error) metav1.Condition {
	c := metav1.Condition{Type: tuningv1alpha1.ConditionReady, ObservedGeneration: generation}
	switch {
	case settingsErr != nil:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, "InvalidSpec", settingsErr.Error()
	case mode == tuningv1alpha1.ModeOff:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, "Off", "Mode is Off: the selected workloads are listed but neither observed nor changed"
	default:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, "Observing", fmt.Sprintf("Observing the selected workloads in %s mode", mode)
	}
	return c
}

// SetupWithManager watches ProbePolicies and the Deployments they may select.
func (r *ProbePolicyReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&tuningv1alpha1.ProbePolicy{}).
		Watches(&appsv1.Deployment{}, handler.EnqueueRequestsFromMapFunc(r.policiesSelecting)).
		WithOptions(opts).
		Named("probepolicy").
		Complete(r)
}

// policiesSelecting maps a Deployment to the policies in its namespace whose selector matches its labels.
func (r *ProbePolicyReconciler) policiesSelecting(ctx context.Context, obj client.Object) []reconcile.Request {
	var policies tuningv1alpha1.ProbePolicyList
	if err := r.List(ctx, &policies, client.InNamespace(obj.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing ProbePolicies for a Deployment event", "namespace", obj.GetNamespace())
		return nil
	}
	var requests []reconcile.Request
	for i := range policies.Items {
		p := &policies.Items[i]
		selector, err := metav1.LabelSelectorAsSelector(&p.Spec.Selector)
		if err != nil || selector.Empty() {
			continue
		}
		if selector.Matches(labels.Set(obj.GetLabels())) || p.Status.WorkloadCount > 0 {
			requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
		}
	}
	return requests
}
