//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/test/testutil"
)

// TestDemoStory runs the demo's workloads (config/demo) with the operator as a separate process and asserts the
// story the demo tells.
func TestDemoStory(t *testing.T) {
	c := newClient(t)
	installCRD(t)
	op := startOperator(t, "manager-demo")
	kubectl(t, "apply", "-f", "config/demo/")

	deploy := func(name string) *appsv1.Deployment { t.Helper(); return get[appsv1.Deployment](t, c, "demo", name) }
	policy := func(name string) *tuningv1alpha1.ProbePolicy {
		t.Helper()
		return get[tuningv1alpha1.ProbePolicy](t, c, "demo", name)
	}
	policyEvents := func(reason string) []corev1.Event {
		t.Helper()
		return eventsAbout(t, c, "demo", "ProbePolicy", "", reason)
	}

	t.Run("the crash loop stops and the pods become Ready", func(t *testing.T) {
		// Generous: the natural course (two killed starts, then a rollout of two 40 s starts) takes about 2.5 min.
		eventually(t, 6*time.Minute, func() error {
			d := deploy("cache-loader")
			switch {
			case d.Spec.Template.Spec.Containers[0].StartupProbe == nil:
				return fmt.Errorf("no startup probe yet")
			case d.Status.ReadyReplicas != 2 || d.Status.UpdatedReplicas != 2 || d.Status.Replicas != 2:
				return fmt.Errorf("ready %d, updated %d, replicas %d", d.Status.ReadyReplicas, d.Status.UpdatedReplicas, d.Status.Replicas)
			}
			return nil
		})
		// Once Ready, the pods carrying the added startup probe stay up: none restarts over a full former liveness
		// window and more. Pods that leave (the old revision, or a later refinement's rollout) are not judged.
		watched := watchPods(t, c, "cache-loader", 40*time.Second, func(prev, cur *corev1.Pod) error {
			if cur.Spec.Containers[0].StartupProbe == nil {
				return nil
			}
			if r := cur.Status.ContainerStatuses; len(r) > 0 && r[0].RestartCount > 0 {
				return fmt.Errorf("pod %s restarted %d times although it has the startup probe", cur.Name, r[0].RestartCount)
			}
			return nil
		})
		if watched == 0 {
			t.Error("no cache-loader pod was watched over the window")
		}
		d := deploy("cache-loader")
		if d.Annotations["probetuner.io/last-change"] == "" || !strings.Contains(d.Annotations["probetuner.io/last-change"], "startup probe added") {
			t.Errorf("last-change annotation = %q", d.Annotations["probetuner.io/last-change"])
		}
	})

	t.Run("the flapping calms", func(t *testing.T) {
		eventually(t, 3*time.Minute, func() error {
			d := deploy("flaky-api")
			if rp := d.Spec.Template.Spec.Containers[0].ReadinessProbe; rp.TimeoutSeconds <= 1 {
				return fmt.Errorf("readiness timeout still %d", rp.TimeoutSeconds)
			}
			if d.Status.UpdatedReplicas != 2 || d.Status.Replicas != 2 || d.Status.ReadyReplicas != 2 {
				return fmt.Errorf("rolling out: updated %d, replicas %d, ready %d", d.Status.UpdatedReplicas, d.Status.Replicas, d.Status.ReadyReplicas)
			}
			return nil
		})
		// The new pods do not flap: a pod's Ready condition, once True, stays True over 30 s of 2 s probes.
		watched := watchPods(t, c, "flaky-api", 30*time.Second, func(prev, cur *corev1.Pod) error {
			was, now := testutil.PodReadyCondition(prev), testutil.PodReadyCondition(cur)
			if was != nil && was.Status == corev1.ConditionTrue && (now == nil || now.Status != corev1.ConditionTrue || !now.LastTransitionTime.Equal(&was.LastTransitionTime)) {
				return fmt.Errorf("pod %s: Ready changed after the fix (True since %s, now %v)", cur.Name, was.LastTransitionTime.UTC().Format(time.RFC3339), now)
			}
			return nil
		})
		if watched == 0 {
			t.Error("no flaky-api pod was watched over the window")
		}
	})

	t.Run("stuck and correlated workloads get warnings and no blind change", func(t *testing.T) {
		eventually(t, 4*time.Minute, func() error {
			if len(policyEvents("StuckNotReady")) == 0 {
				return fmt.Errorf("no StuckNotReady event yet")
			}
			if len(policyEvents("CorrelatedLivenessFailures")) == 0 {
				return fmt.Errorf("no CorrelatedLivenessFailures event yet")
			}
			return nil
		})
		for _, name := range []string{"stuck-cache", "orders"} {
			if g := deploy(name).Generation; g != 1 {
				t.Errorf("%s was changed (generation %d) although its problem is not one tuning can fix", name, g)
			}
		}
		p := policy("demo-auto")
		cond := meta.FindStatusCondition(p.Status.Conditions, tuningv1alpha1.ConditionAttentionRequired)
		if cond == nil || cond.Status != metav1.ConditionTrue || !strings.Contains(cond.Reason, "StuckNotReady") || !strings.Contains(cond.Reason, "CorrelatedLivenessFailures") {
			t.Errorf("AttentionRequired condition = %+v", cond)
		}
	})

	t.Run("the healthy service is left alone", func(t *testing.T) {
		if g := deploy("healthy-web").Generation; g != 1 {
			t.Errorf("healthy-web generation = %d, want 1", g)
		}
	})

	t.Run("Recommend mode writes no workload", func(t *testing.T) {
		eventually(t, 2*time.Minute, func() error {
			for _, d := range policy("demo-recommend").Status.Decisions {
				if d.Workload == "report-builder" && d.Action == "Recommended" {
					return nil
				}
			}
			return fmt.Errorf("no recommendation for report-builder yet")
		})
		d := deploy("report-builder")
		if d.Generation != 1 || d.Annotations["probetuner.io/last-change"] != "" {
			t.Errorf("report-builder was written in Recommend mode: generation %d, annotations %v", d.Generation, d.Annotations)
		}
		for _, mf := range d.ManagedFields {
			if mf.Manager == "probe-tuner" {
				t.Errorf("report-builder has a probe-tuner managedFields entry: %+v", mf)
			}
		}
	})

	t.Run("decisions appear in status and events", func(t *testing.T) {
		p := policy("demo-auto")
		want := map[string]string{"cache-loader": "StartupKilledBeforeReady", "flaky-api": "ReadinessFlapping"}
		for workload, reason := range want {
			found := false
			for _, d := range p.Status.Decisions {
				found = found || (d.Workload == workload && d.Action == "Applied" && d.Reason == reason && d.Evidence != "")
			}
			if !found {
				t.Errorf("no Applied %s decision for %s in status: %+v", reason, workload, p.Status.Decisions)
			}
		}
		if p.Status.ChangesApplied < 3 || p.Status.WorkloadCount != 5 {
			t.Errorf("changesApplied %d, workloadCount %d", p.Status.ChangesApplied, p.Status.WorkloadCount)
		}
		if len(policyEvents("ProbeAdjusted")) < 2 || len(policyEvents("ProbeRecommended")) < 1 {
			t.Errorf("events: %d ProbeAdjusted, %d ProbeRecommended", len(policyEvents("ProbeAdjusted")), len(policyEvents("ProbeRecommended")))
		}
		describe := kubectl(t, "describe", "probepolicy", "-n", "demo", "demo-auto")
		for _, want := range []string{"StartupKilledBeforeReady", "ProbeAdjusted", "CorrelatedLivenessFailures", "Workload Count:"} {
			if !strings.Contains(describe, want) {
				t.Errorf("kubectl describe lacks %q", want)
			}
		}
	})

	t.Run("the metrics endpoint reports what happened", func(t *testing.T) {
		m := op.metrics(t)
		checks := []struct {
			metric string
			labels []string
			min    float64
		}{
			{"probetuner_adjustments_total", []string{`workload="cache-loader"`, `action="applied"`, `direction="added"`}, 1},
			{"probetuner_adjustments_total", []string{`workload="flaky-api"`, `action="applied"`, `field="timeoutSeconds"`}, 1},
			{"probetuner_adjustments_total", []string{`workload="report-builder"`, `action="recommended"`}, 1},
			{"probetuner_container_restarts_total", []string{`workload="cache-loader"`, `cause="liveness"`}, 2},
			{"probetuner_container_restarts_total", []string{`workload="orders"`, `cause="liveness"`}, 3},
			{"probetuner_readiness_transitions_total", []string{`workload="flaky-api"`}, 2},
			{"probetuner_selected_workloads", []string{`policy="demo-auto"`}, 5},
			{"probetuner_findings", []string{`workload="orders"`, `reason="CorrelatedLivenessFailures"`}, 1},
			{"probetuner_probe_setting", []string{`workload="cache-loader"`, `probe="startup"`, `field="failureThreshold"`, `source="current"`}, 1},
			{"probetuner_startup_duration_seconds_count", []string{`workload="healthy-web"`}, 2},
		}
		for _, c := range checks {
			v, ok := metricValue(m, c.metric, c.labels...)
			if !ok || v < c.min {
				t.Errorf("%s%v = %v (found %v), want at least %v", c.metric, c.labels, v, ok, c.min)
			}
		}
		if strings.Contains(m, `pod="`) && strings.Contains(m, "probetuner_") {
			for _, line := range strings.Split(m, "\n") {
				if strings.HasPrefix(line, "probetuner_") && strings.Contains(line, `pod="`) {
					t.Errorf("a probe-tuner metric has a pod label: %s", line)
				}
			}
		}
	})
}

// watchPods samples an app's pods every 2 s for the given time and calls check on each pod seen twice in a row
// (prev and cur), skipping pods being deleted. It reports each distinct failure once and returns how many pods were
// seen at least twice.
func watchPods(t *testing.T, c client.Client, app string, d time.Duration, check func(prev, cur *corev1.Pod) error) int {
	t.Helper()
	return followPods(t, d, func() []corev1.Pod {
		var pods corev1.PodList
		if err := c.List(background, &pods, client.InNamespace("demo"), client.MatchingLabels{"app": app}); err != nil {
			t.Fatal(err)
		}
		return pods.Items
	}, check)
}
