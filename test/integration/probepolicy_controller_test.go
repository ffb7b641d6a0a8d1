package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/controllers"
	"github.com/probetuner/probe-tuner/internal/scheme"
	"github.com/probetuner/probe-tuner/test/builders"
)

// startManager runs probe-tuner's controllers against the test API server, configured as cmd/manager does,
// until the returned stop function is called or the test ends.
func startManager(t *testing.T, clk clock.PassiveClock) (stop func()) {
	t.Helper()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme.New(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  controllers.CacheOptions(),
		Client:                 client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.ConfigMap{}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := controllers.SetupWithManager(mgr, controllers.Options{MaxConcurrentReconciles: 2, SkipNameValidation: true, Clock: clk}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager stopped with an error: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// appContainer is the container "app" of the tests' Deployments, with no probes.
func appContainer() *builders.ContainerWrapper {
	return builders.MakeContainer("app", "example.com/app:1")
}

// teamDeployment is a Deployment of one container "app", labelled team=<team>.
func teamDeployment(ns, name, team string) *appsv1.Deployment {
	return builders.MakeDeployment(name, ns).Label("team", team).Container(appContainer().Obj()).Obj()
}

// TestPolicyStatusTracksSelectedDeployments checks that the status counts the selected Deployments, follows
// new ones, and carries a Ready condition for the current generation.
func TestPolicyStatusTracksSelectedDeployments(t *testing.T) {
	startManager(t, clock.RealClock{})
	ctx := context.Background()
	ns := newNamespace(t)
	for _, d := range []*appsv1.Deployment{
		teamDeployment(ns, "web-a", "web"),
		teamDeployment(ns, "web-b", "web"),
		teamDeployment(ns, "batch", "batch"),
	} {
		if err := k8sClient.Create(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	pol := builders.MakePolicy("web", ns).Selector("team", "web").Mode(tuningv1alpha1.ModeRecommend).Obj()
	if err := k8sClient.Create(ctx, pol); err != nil {
		t.Fatal(err)
	}
	waitForStatus := func(wantCount int32) {
		t.Helper()
		eventually(t, defaultWait, func() error {
			var got tuningv1alpha1.ProbePolicy
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(pol), &got); err != nil {
				return err
			}
			ready := meta.FindStatusCondition(got.Status.Conditions, tuningv1alpha1.ConditionReady)
			switch {
			case got.Status.WorkloadCount != wantCount:
				return fmt.Errorf("workloadCount = %d, want %d", got.Status.WorkloadCount, wantCount)
			case got.Status.ObservedGeneration != got.Generation:
				return fmt.Errorf("observedGeneration = %d, want %d", got.Status.ObservedGeneration, got.Generation)
			case ready == nil || ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != got.Generation:
				return fmt.Errorf("Ready condition = %+v", ready)
			}
			return nil
		})
	}
	waitForStatus(2)

	if err := k8sClient.Create(ctx, teamDeployment(ns, "web-c", "web")); err != nil {
		t.Fatal(err)
	}
	waitForStatus(3)

	// The status is written whole by probe-tuner alone, so its lists are atomic: the API server tracks them as
	// one field each, and the managed fields do not grow with the workloads (keyed lists listed every field of
	// every entry, as large as the status itself and sent with each watch event).
	var got tuningv1alpha1.ProbePolicy
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(pol), &got); err != nil {
		t.Fatal(err)
	}
	for _, mf := range got.ManagedFields {
		if mf.Subresource == "status" && mf.FieldsV1 != nil && strings.Contains(string(mf.FieldsV1.Raw), "web-a") {
			t.Errorf("the status's managed fields (%s) name a workload: %s", mf.Manager, mf.FieldsV1.Raw)
		}
	}
}
