package integration

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/controllers"
	"github.com/probetuner/probe-tuner/internal/scheme"
)

// TestStatusWriterOnTheAPIServer: the writer the manager uses writes the status subresource only, under
// probe-tuner's field manager, and a write computed from an older copy is refused as a Conflict.
func TestStatusWriterOnTheAPIServer(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	if err := k8sClient.Create(ctx, policyFromYAML(t, ns, "written", "selector: {matchLabels: {app: web}}")); err != nil {
		t.Fatal(err)
	}
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := controllers.NewStatusWriter(cfg, httpClient, scheme.New())
	if err != nil {
		t.Fatal(err)
	}
	var pol tuningv1alpha1.ProbePolicy
	if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "written"}, &pol); err != nil {
		t.Fatal(err)
	}
	stale := pol.DeepCopy()
	pol.Status.WorkloadCount = 3
	pol.Status.Conditions = []metav1.Condition{{Type: tuningv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Observing",
		Message: "Observing 3 workloads", LastTransitionTime: metav1.Now()}}
	pol.Spec.Selector = metav1.LabelSelector{MatchLabels: map[string]string{"app": "other"}} // not written: status only
	if err := w.WriteStatus(ctx, &pol); err != nil {
		t.Fatalf("writing the status: %v", err)
	}
	var got tuningv1alpha1.ProbePolicy
	if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "written"}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.WorkloadCount != 3 || len(got.Status.Conditions) != 1 || got.Status.Conditions[0].Message != "Observing 3 workloads" {
		t.Errorf("status read back: %+v", got.Status)
	}
	if got.Spec.Selector.MatchLabels["app"] != "web" {
		t.Errorf("the spec changed through the status subresource: %v", got.Spec.Selector)
	}
	if !managedBy(got.ManagedFields, controllers.FieldManager, "status") {
		t.Errorf("no status entry of field manager %q in %+v", controllers.FieldManager, got.ManagedFields)
	}
	stale.Status.WorkloadCount = 7
	if err := w.WriteStatus(ctx, stale); !apierrors.IsConflict(err) {
		t.Errorf("writing from a copy older than the last write: %v, want a Conflict", err)
	}
	var missing tuningv1alpha1.ProbePolicy
	missing.Namespace, missing.Name = ns, "missing"
	if err := w.WriteStatus(ctx, &missing); !apierrors.IsNotFound(err) {
		t.Errorf("writing the status of a policy that does not exist: %v, want NotFound", err)
	}
}

// managedBy says whether a managed-fields entry of manager covers the subresource.
func managedBy(entries []metav1.ManagedFieldsEntry, manager, subresource string) bool {
	for _, e := range entries {
		if e.Manager == manager && e.Subresource == subresource {
			return true
		}
	}
	return false
}
