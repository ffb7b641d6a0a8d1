package controllers

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// TestDeploymentUpdateMatters: a Deployment's status following its pods' readiness is not worth a reconcile;
// every change to what a step reads is.
func TestDeploymentUpdateMatters(t *testing.T) {
	base := func() *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "cache", UID: "u1", Generation: 2, ResourceVersion: "10",
				Labels: map[string]string{"app": "cache", "tier": "db"}, Annotations: map[string]string{revisionAnnotation: "2"}},
			Spec:   appsv1.DeploymentSpec{Replicas: ptr.To[int32](3)},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3},
		}
	}
	for _, tc := range []struct {
		name   string
		change func(d *appsv1.Deployment)
		want   bool
	}{
		{name: "a resync, nothing changed", change: func(*appsv1.Deployment) {}},
		{name: "a pod became unready", change: func(d *appsv1.Deployment) {
			d.ResourceVersion, d.Status.ReadyReplicas, d.Status.AvailableReplicas, d.Status.UnavailableReplicas = "11", 2, 2, 1
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse}}
		}},
		{name: "the labels are the same, in another map", change: func(d *appsv1.Deployment) {
			d.Labels = map[string]string{"tier": "db", "app": "cache"}
		}},
		{name: "the spec changed", want: true, change: func(d *appsv1.Deployment) { d.Generation = 3 }},
		{name: "a label changed", want: true, change: func(d *appsv1.Deployment) { d.Labels["tier"] = "cache" }},
		{name: "a label's value moved to another key", want: true, change: func(d *appsv1.Deployment) {
			d.Labels = map[string]string{"app": "db", "tier": "cache"}
		}},
		{name: "a key moved from the labels to the annotations", want: true, change: func(d *appsv1.Deployment) {
			delete(d.Labels, "tier")
			d.Annotations["tier"] = "db"
		}},
		{name: "an annotation was added", want: true, change: func(d *appsv1.Deployment) { d.Annotations["probetuner.io/paused"] = "true" }},
		{name: "the revision moved", want: true, change: func(d *appsv1.Deployment) { d.Annotations[revisionAnnotation] = "3" }},
		{name: "a rollout started", want: true, change: func(d *appsv1.Deployment) { d.Status.Replicas, d.Status.UpdatedReplicas = 4, 1 }},
		{name: "the controller has not seen the spec yet", want: true, change: func(d *appsv1.Deployment) { d.Status.ObservedGeneration = 1 }},
		{name: "it is being deleted", want: true, change: func(d *appsv1.Deployment) { d.DeletionTimestamp = &metav1.Time{} }},
		{name: "another Deployment of the same name", want: true, change: func(d *appsv1.Deployment) { d.UID = "u2" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, cur := base(), base()
			tc.change(cur)
			if got := deploymentUpdateMatters(old, cur); got != tc.want {
				t.Errorf("matters: %v, want %v", got, tc.want)
			}
		})
	}
	if !deploymentUpdateMatters(&corev1.Pod{}, &corev1.Pod{}) {
		t.Error("an object that is not a Deployment should matter")
	}
}
