package controllers

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// selectedDeployments returns the Deployments in the policy's namespace that its selector matches, by name, as
// the cache holds them: the index names them, so that no selector is matched here.
func (r *ProbePolicyReconciler) selectedDeployments(ctx context.Context, pol *tuningv1alpha1.ProbePolicy) ([]appsv1.Deployment, error) {
	names, err := r.index.selected(pol.Namespace, pol.Name)
	if err != nil {
		return nil, fmt.Errorf("reading the selector of ProbePolicy %s/%s: %w", pol.Namespace, pol.Name, err)
	}
	// Read in place: a Deployment is large, and a copy of each for the list would double what is allocated.
	out := make([]appsv1.Deployment, len(names))
	n := 0
	for _, name := range names {
		if err := r.Get(ctx, types.NamespacedName{Namespace: pol.Namespace, Name: name}, &out[n]); err != nil {
			if apierrors.IsNotFound(err) {
				out[n] = appsv1.Deployment{}
				continue // deleted since the index saw it: its delete event follows
			}
			return nil, fmt.Errorf("reading Deployment %s/%s of ProbePolicy %s: %w", pol.Namespace, name, pol.Name, err)
		}
		n++
	}
	return out[:n], nil
}

// actingPolicies returns, for each of the given Deployments, the policy that acts on it: of all the policies in
// the namespace selecting it, the oldest (by creation, then name) not being deleted. The others report a
// conflict and stay out.
func (r *ProbePolicyReconciler) actingPolicies(ns string, deployments []appsv1.Deployment) map[string]string {
	acting := make(map[string]string, len(deployments))
	for _, d := range deployments {
		if name := r.index.acting(ns, d.Name); name != "" {
			acting[d.Name] = name
		}
	}
	return acting
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
