package integration

import (
	"context"
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
	"github.com/probetuner/probe-tuner/test/builders"
)

// slowStarter is a cache that loads for 45 s under the default liveness probe (3 x 10 s): it crash-loops.
func slowStarter(ns, name string) *appsv1.Deployment {
	return builders.MakeDeployment(name, ns).Label("tier", "cache").Replicas(2).Sim("startup", "45s").
		Container(appContainer().
			Probe(builders.MakeProbe(builders.Liveness).HTTPGet("/healthz", 8080)).
			Probe(builders.MakeProbe(builders.Readiness).HTTPGet("/ready", 8080)).
			Obj()).
		Obj()
}

// tuning is one test's run of the policy "caches" over the slow starter "cache", in a namespace of its own, with
// the manager reading the virtual kubelet's clock.
type tuning struct {
	ns  string
	k   *virtualKubelet
	pol *tuningv1alpha1.ProbePolicy
	d   *appsv1.Deployment
	// stopManager stops the manager (it is stopped anyway when the test ends).
	stopManager func()
}

// startTuning creates the policy in the mode, selecting tier=cache with pacing.minSamples, then the slow starter.
func startTuning(t *testing.T, mode tuningv1alpha1.Mode, minSamples int32) *tuning {
	t.Helper()
	r := &tuning{ns: newNamespace(t), k: newVirtualKubelet(t)}
	r.stopManager = startManager(t, r.k.clock)
	r.pol = builders.MakePolicy("caches", r.ns).Selector("tier", "cache").Mode(mode).MinSamples(minSamples).Obj()
	if err := k8sClient.Create(context.Background(), r.pol); err != nil {
		t.Fatal(err)
	}
	r.d = slowStarter(r.ns, "cache")
	r.k.deploy(r.d)
	return r
}

func getPolicy(t *testing.T, p *tuningv1alpha1.ProbePolicy) *tuningv1alpha1.ProbePolicy {
	t.Helper()
	var got tuningv1alpha1.ProbePolicy
	if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(p), &got); err != nil {
		t.Fatal(err)
	}
	return &got
}

func hasDecision(p *tuningv1alpha1.ProbePolicy, action, reason string) bool {
	for _, d := range p.Status.Decisions {
		if string(d.Action) == action && d.Reason == reason {
			return true
		}
	}
	return false
}

// eventReasons lists the reasons of the Events about an object.
func eventReasons(t *testing.T, ns, name string) []string {
	t.Helper()
	var events corev1.EventList
	if err := k8sClient.List(context.Background(), &events, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events.Items {
		if e.InvolvedObject.Name == name {
			out = append(out, e.Reason)
		}
	}
	return out
}

func TestAutoModeAddsAStartupProbeToACrashLoop(t *testing.T) {
	r := startTuning(t, tuningv1alpha1.ModeAuto, 3)
	ns, k, pol, d, ctx := r.ns, r.k, r.pol, r.d, context.Background()
	k.run(3*time.Minute, 5*time.Second)

	var got appsv1.Deployment
	eventually(t, defaultWait, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(d), &got); err != nil {
			return err
		}
		if got.Generation < 2 || got.Spec.Template.Spec.Containers[0].StartupProbe == nil {
			return fmt.Errorf("generation %d, startup probe %v: no change applied yet", got.Generation, got.Spec.Template.Spec.Containers[0].StartupProbe)
		}
		return nil
	})
	sp := got.Spec.Template.Spec.Containers[0].StartupProbe
	if budget := sp.FailureThreshold * sp.PeriodSeconds; budget < 45 || budget > 600 {
		t.Errorf("startup budget %d x %ds = %ds, want one that covers a 45 s start within the bounds", sp.FailureThreshold, sp.PeriodSeconds, budget)
	}
	if sp.HTTPGet == nil || sp.HTTPGet.Path != "/healthz" {
		t.Errorf("the startup probe does not use the liveness probe's handler: %+v", sp.ProbeHandler)
	}
	if got.Spec.Template.Spec.Containers[0].Image != "example.com/app:1" {
		t.Errorf("image changed to %q", got.Spec.Template.Spec.Containers[0].Image)
	}
	var owner *metav1.ManagedFieldsEntry
	for i, mf := range got.ManagedFields {
		if mf.Manager == "probe-tuner" && mf.Operation == metav1.ManagedFieldsOperationApply {
			owner = &got.ManagedFields[i]
		}
	}
	if owner == nil || !strings.Contains(string(owner.FieldsV1.Raw), `"f:startupProbe"`) || strings.Contains(string(owner.FieldsV1.Raw), `"f:image"`) {
		t.Errorf("managedFields: want probe-tuner to own the startup probe and not the image; got %+v", owner)
	}
	if got.Annotations["probetuner.io/last-change"] == "" || got.Annotations["probetuner.io/previous-probes"] == "" {
		t.Errorf("the last change and the previous probes are not recorded on the Deployment: %v", got.Annotations)
	}

	eventually(t, defaultWait, func() error {
		p := getPolicy(t, pol)
		if !hasDecision(p, "Applied", "StartupKilledBeforeReady") || p.Status.ChangesApplied < 1 {
			return fmt.Errorf("status decisions %+v, changesApplied %d", p.Status.Decisions, p.Status.ChangesApplied)
		}
		return nil
	})
	eventually(t, defaultWait, func() error {
		if r := eventReasons(t, ns, "cache"); !contains(r, "ProbeAdjusted") {
			return fmt.Errorf("events about the Deployment: %v, want ProbeAdjusted", r)
		}
		if r := eventReasons(t, ns, pol.Name); !contains(r, "ProbeAdjusted") {
			return fmt.Errorf("events about the policy: %v, want ProbeAdjusted", r)
		}
		return nil
	})
}

func TestRecommendModeNeverWritesTheDeployment(t *testing.T) {
	r := startTuning(t, tuningv1alpha1.ModeRecommend, 3)
	ns, k, pol, d, ctx := r.ns, r.k, r.pol, r.d, context.Background()
	generation := d.Generation
	k.run(3*time.Minute, 5*time.Second)

	eventually(t, defaultWait, func() error {
		p := getPolicy(t, pol)
		if !hasDecision(p, "Recommended", "StartupKilledBeforeReady") {
			return fmt.Errorf("status decisions %+v", p.Status.Decisions)
		}
		if len(p.Status.Workloads) != 1 || len(p.Status.Workloads[0].Containers) != 1 || p.Status.Workloads[0].Containers[0].Recommended == nil ||
			p.Status.Workloads[0].Containers[0].Recommended.Startup == nil {
			return fmt.Errorf("workloads %+v: want a recommended startup probe", p.Status.Workloads)
		}
		return nil
	})
	var got appsv1.Deployment
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(d), &got); err != nil {
		t.Fatal(err)
	}
	if got.Generation != generation {
		t.Errorf("Recommend mode changed the Deployment: generation %d -> %d", generation, got.Generation)
	}
	for _, mf := range got.ManagedFields {
		if mf.Manager == "probe-tuner" {
			t.Errorf("Recommend mode wrote the Deployment: managedFields entry %+v", mf)
		}
	}
	if r := eventReasons(t, ns, "cache"); !contains(r, "ProbeRecommended") {
		t.Errorf("events about the Deployment: %v, want ProbeRecommended", r)
	}
	p := getPolicy(t, pol)
	if c := meta.FindStatusCondition(p.Status.Conditions, tuningv1alpha1.ConditionReady); c == nil || c.ObservedGeneration != p.Generation {
		t.Errorf("Ready condition %+v, want observedGeneration %d", c, p.Generation)
	}
	obs := p.Status.Workloads[0].Containers[0].Observed
	if obs.LivenessKills < 3 || obs.StartupLowerBound == nil {
		t.Errorf("observed %+v: want liveness kills and a start lower bound", obs)
	}
}

func TestRestartKeepsObservations(t *testing.T) {
	r := startTuning(t, tuningv1alpha1.ModeRecommend, 50) // never enough samples: only observation accumulates
	ns, k, pol, ctx := r.ns, r.k, r.pol, context.Background()
	k.run(2*time.Minute, 5*time.Second)
	var before int32
	eventually(t, defaultWait, func() error {
		p := getPolicy(t, pol)
		if len(p.Status.Workloads) == 0 || len(p.Status.Workloads[0].Containers) == 0 {
			return fmt.Errorf("no workload status yet")
		}
		before = p.Status.Workloads[0].Containers[0].Observed.LivenessKills
		if before < 3 {
			return fmt.Errorf("liveness kills %d", before)
		}
		return nil
	})
	// A checkpoint is written at least every 30 s of (virtual) time; give it one more step to land.
	k.run(35*time.Second, 5*time.Second)
	eventually(t, defaultWait, func() error {
		var cm corev1.ConfigMap
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "probe-tuner-caches"}, &cm)
	})
	r.stopManager()

	startManager(t, k.clock)
	k.run(time.Minute, 5*time.Second)
	eventually(t, defaultWait, func() error {
		p := getPolicy(t, pol)
		after := p.Status.Workloads[0].Containers[0].Observed.LivenessKills
		if after <= before {
			return fmt.Errorf("liveness kills %d after the restart, %d before: observations were lost", after, before)
		}
		return nil
	})
}
