package controllers

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/probetuner/probe-tuner/internal/metrics"

	api "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// seriesOf gathers the registry and returns, per metric family, the series whose labels include all of want.
func seriesOf(t *testing.T, want map[string]string) map[string]int {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			match := true
			for k, v := range want {
				match = match && have[k] == v
			}
			if match {
				out[f.GetName()]++
			}
		}
	}
	return out
}

// seedWorkloadSeries gives the workload a series in each per-workload metric, as observation would.
func seedWorkloadSeries(namespace, workload string) {
	metrics.Restarts.WithLabelValues(namespace, workload, "app", "liveness").Inc()
	metrics.ReadyTransitions.WithLabelValues(namespace, workload, "app").Inc()
	metrics.StartupDuration.WithLabelValues(namespace, workload, "app").Observe(12)
	metrics.Reverts.WithLabelValues(namespace, workload).Inc()
}

var perWorkloadFamilies = []string{"probetuner_container_restarts_total", "probetuner_readiness_transitions_total", "probetuner_startup_duration_seconds",
	"probetuner_adjustments_total", "probetuner_reverts_total", "probetuner_probe_setting"}

// reconciledWorld is the fake world with its policy reconciled once.
func reconciledWorld(t *testing.T) (*fakeWorld, *ProbePolicyReconciler, client.Client) {
	t.Helper()
	w := makeFakeWorld(t)
	var n calls
	r, c := w.reconciler(t, countingFuncs(&n, nil, nil))
	mustReconcile(t, r)
	return w, r, c
}

// mustReconcile reconciles the fake world's policy once and fails the test on an error.
func mustReconcile(t *testing.T, r *ProbePolicyReconciler) {
	t.Helper()
	if _, err := reconcileOnce(t, r); err != nil {
		t.Fatal(err)
	}
}

func TestMetricSeriesGoWithTheirWorkloadAndPolicy(t *testing.T) {
	cache := map[string]string{"namespace": "shop", "workload": "cache"}
	policySeries := map[string]string{"namespace": "shop", "policy": "caches"}
	ctx := context.Background()

	t.Run("a workload no longer selected", func(t *testing.T) {
		w, r, c := reconciledWorld(t)
		seedWorkloadSeries("shop", "cache")
		for _, f := range perWorkloadFamilies {
			if seriesOf(t, cache)[f] == 0 {
				t.Fatalf("no %s series for the tuned workload: the test would prove nothing", f)
			}
		}
		var d appsv1.Deployment
		if err := c.Get(ctx, client.ObjectKeyFromObject(w.deployment), &d); err != nil {
			t.Fatal(err)
		}
		d.Labels = map[string]string{"tier": "web"}
		if err := c.Update(ctx, &d); err != nil {
			t.Fatal(err)
		}
		mustReconcile(t, r)
		if left := seriesOf(t, cache); len(left) != 0 {
			t.Errorf("series of the workload no longer selected: %v", left)
		}
	})

	t.Run("a mode change", func(t *testing.T) {
		w, r, c := reconciledWorld(t)
		var p api.ProbePolicy
		if err := c.Get(ctx, client.ObjectKeyFromObject(w.policy), &p); err != nil {
			t.Fatal(err)
		}
		p.Spec.Mode = api.ModeRecommend
		if err := c.Update(ctx, &p); err != nil {
			t.Fatal(err)
		}
		mustReconcile(t, r)
		if got := seriesOf(t, policySeries)["probetuner_selected_workloads"]; got != 1 {
			t.Errorf("%d selected_workloads series for the policy, want 1", got)
		}
		if got := seriesOf(t, map[string]string{"namespace": "shop", "policy": "caches", "mode": "Auto"}); len(got) != 0 {
			t.Errorf("the series of the mode before is left: %v", got)
		}
	})

	t.Run("a policy deleted", func(t *testing.T) {
		w, r, c := reconciledWorld(t)
		seedWorkloadSeries("shop", "cache")
		if err := c.Delete(ctx, w.policy); err != nil {
			t.Fatal(err)
		}
		mustReconcile(t, r)
		if left := seriesOf(t, cache); len(left) != 0 {
			t.Errorf("series of the deleted policy's workload: %v", left)
		}
		if left := seriesOf(t, policySeries); len(left) != 0 {
			t.Errorf("series of the deleted policy: %v", left)
		}
	})
}
