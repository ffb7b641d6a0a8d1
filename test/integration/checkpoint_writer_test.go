package integration

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/probetuner/probe-tuner/controllers"
	"github.com/probetuner/probe-tuner/internal/scheme"
)

// TestCheckpointWriterOnTheAPIServer: the writer the manager uses creates and updates a checkpoint ConfigMap
// with server-side apply under probe-tuner's field manager, takes back a key another manager edited, and reports
// the API server's refusals.
func TestCheckpointWriterOnTheAPIServer(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	w := checkpointWriter(t)
	apply := func(data string) error {
		return w.ApplyCheckpoint(ctx, corev1ac.ConfigMap("probetuner-web", ns).WithLabels(map[string]string{"probetuner.io/policy": "web"}).
			WithData(map[string]string{"state": data}))
	}
	read := func() corev1.ConfigMap {
		t.Helper()
		var cm corev1.ConfigMap
		if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "probetuner-web"}, &cm); err != nil {
			t.Fatal(err)
		}
		return cm
	}
	if err := apply(`{"version":2}`); err != nil {
		t.Fatalf("creating the checkpoint: %v", err)
	}
	if cm := read(); cm.Data["state"] != `{"version":2}` || cm.Labels["probetuner.io/policy"] != "web" || !managedBy(cm.ManagedFields, controllers.FieldManager, "") {
		t.Errorf("created: data %v, labels %v, managed fields %+v", cm.Data, cm.Labels, cm.ManagedFields)
	}

	edited := read()
	edited.Data["state"] = "{not json"
	if err := k8sClient.Update(ctx, &edited, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	if err := apply(`{"version":2,"workloads":{}}`); err != nil {
		t.Fatalf("applying over a hand edit: %v", err)
	}
	if got := read().Data["state"]; got != `{"version":2,"workloads":{}}` {
		t.Errorf("after a hand edit and a write: %q, want the write's", got)
	}

	err := w.ApplyCheckpoint(ctx, corev1ac.ConfigMap("probetuner-web", "no-such-namespace").WithData(map[string]string{"state": "{}"}))
	if !apierrors.IsNotFound(err) {
		t.Errorf("writing into a namespace that does not exist: %v, want NotFound", err)
	}
	if err := w.ApplyCheckpoint(ctx, corev1ac.ConfigMap("", ns)); err == nil {
		t.Error("a ConfigMap without a name was written")
	}
}

// checkpointWriter returns the checkpoint writer the manager uses, on the test API server.
func checkpointWriter(t *testing.T) controllers.CheckpointWriter {
	t.Helper()
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := controllers.NewCheckpointWriter(cfg, httpClient, scheme.New())
	if err != nil {
		t.Fatal(err)
	}
	return w
}
