package controllers

import (
	"context"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// selectedDeployments lists the Deployments in the policy's namespace that its selector matches, by name.
func (r *ProbePolicyReconciler) selectedDeployments(ctx context.Context, pol *tuningv1alpha1.ProbePolicy) ([]appsv1.Deployment, error) {
	selector, err := r.selectors.of(pol)
	if err != nil {
		return nil, fmt.Errorf("reading the selector of ProbePolicy %s/%s: %w", pol.Namespace, pol.Name, err)
	}
	var list appsv1.DeploymentList
	if err := r.List(ctx, &list, client.InNamespace(pol.Namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return nil, fmt.Errorf("listing the Deployments of ProbePolicy %s/%s: %w", pol.Namespace, pol.Name, err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items, nil
}

// actingPolicies returns, for each of the given Deployments, the policy that acts on it: of all the policies in
// the namespace selecting it, the oldest (by creation, then name). The others report a conflict and stay out.
func (r *ProbePolicyReconciler) actingPolicies(ctx context.Context, ns string, deployments []appsv1.Deployment) (map[string]string, error) {
	var policies tuningv1alpha1.ProbePolicyList
	// Read-only: the cached objects themselves, not copies. The slice is sorted, not its elements changed.
	if err := r.List(ctx, &policies, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing the ProbePolicies of namespace %s: %w", ns, err)
	}
	sort.Slice(policies.Items, func(i, j int) bool {
		a, b := policies.Items[i], policies.Items[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
	// Selectors parsed once per policy, not once per policy and Deployment.
	type candidate struct {
		name     string
		selector labels.Selector
	}
	var candidates []candidate
	for i := range policies.Items {
		p := &policies.Items[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		if selector, err := r.selectors.of(p); err == nil {
			candidates = append(candidates, candidate{p.Name, selector})
		}
	}
	acting := map[string]string{}
	for _, d := range deployments {
		for _, c := range candidates {
			if c.selector.Matches(labels.Set(d.Labels)) {
				acting[d.Name] = c.name
				break
			}
		}
	}
	return acting, nil
}

// currentRevision returns the pod-template-hash of the Deployment's current ReplicaSet, and whether the
// Deployment is still rolling out.
func (r *ProbePolicyReconciler) currentRevision(ctx context.Context, d *appsv1.Deployment) (string, bool, error) {
	var sets appsv1.ReplicaSetList
	if err := r.List(ctx, &sets, client.InNamespace(d.Namespace), client.MatchingFields{indexRSDeployment: d.Name}); err != nil {
		return "", false, fmt.Errorf("listing the ReplicaSets of Deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	want := d.Annotations[revisionAnnotation]
	hash := ""
	for _, rs := range sets.Items {
		if rs.Annotations[revisionAnnotation] == want {
			hash = rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		}
	}
	return hash, rollingOut(d), nil
}

// rollingOut reports whether the Deployment has not finished rolling out its current template.
func rollingOut(d *appsv1.Deployment) bool {
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	s := d.Status
	return s.ObservedGeneration < d.Generation || s.UpdatedReplicas < replicas || s.Replicas > s.UpdatedReplicas
}
