package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/controllers"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// The checkpoint of a policy whose state outgrows one ConfigMap, against the real API server: the shards are
// valid ConfigMaps the policy owns, a restarted store reads every workload back, and a state that fits again is
// one version 2 checkpoint.
func TestCheckpointShardsOnTheAPIServer(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	pol := &tuningv1alpha1.ProbePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "wide"},
		Spec: tuningv1alpha1.ProbePolicySpec{Selector: metav1.LabelSelector{MatchLabels: map[string]string{"tier": "wide"}}}}
	if err := k8sClient.Create(ctx, pol); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	const limit = 4 << 10
	store := &controllers.StateStore{Reader: k8sClient, Writer: checkpointWriter(t), MaxBytes: limit}
	states, err := store.Load(ctx, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		states[fmt.Sprintf("workload-%03d", i)] = &tuner.WorkloadState{LastFindings: fmt.Sprintf("app-%03d/StuckNotReady", i)}
	}
	if err := store.Save(ctx, pol, now, true); err != nil {
		t.Fatal(err)
	}
	var cms corev1.ConfigMapList
	if err := k8sClient.List(ctx, &cms, client.InNamespace(ns), client.MatchingLabels{"probetuner.io/policy": "wide"}); err != nil {
		t.Fatal(err)
	}
	if len(cms.Items) < 3 {
		t.Fatalf("%d checkpoint ConfigMaps for 300 workloads in %d-byte parts, want several", len(cms.Items), limit)
	}
	for _, cm := range cms.Items {
		if len(cm.OwnerReferences) != 1 || cm.OwnerReferences[0].UID != pol.UID {
			t.Errorf("%s: owners %+v, want the policy", cm.Name, cm.OwnerReferences)
		}
	}
	restarted := &controllers.StateStore{Reader: k8sClient, Writer: checkpointWriter(t), MaxBytes: limit}
	back, err := restarted.Load(ctx, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 300 || back["workload-299"] == nil || back["workload-299"].LastFindings != "app-299/StuckNotReady" {
		t.Fatalf("read back %d workloads, want the 300 written", len(back))
	}
	for name := range back {
		if name != "workload-000" {
			delete(back, name)
		}
	}
	if err := restarted.Save(ctx, pol, now, true); err != nil {
		t.Fatal(err)
	}
	var primary corev1.ConfigMap
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "probe-tuner-wide"}, &primary); err != nil {
		t.Fatal(err)
	}
	if raw := primary.Data["state.json"]; !strings.HasPrefix(raw, `{"version":2,`) || !strings.Contains(raw, "workload-000") {
		t.Errorf("checkpoint after the shrink %.60s..., want version 2 with the one workload", raw)
	}
	again, err := (&controllers.StateStore{Reader: k8sClient, Writer: checkpointWriter(t), MaxBytes: limit}).Load(ctx, pol, now)
	if err != nil || len(again) != 1 {
		t.Errorf("after the shrink a restart reads %d workloads (error %v), want 1", len(again), err)
	}
}
