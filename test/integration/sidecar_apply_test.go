package integration

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/probetuner/probe-tuner/controllers"
	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/test/builders"
)

// TestNativeSidecarProbesAreAppliedUnderInitContainers sends what apply.Build makes of a change to a native
// sidecar's probe to a real API server, as the operator does: the sidecar's entry of the init containers (a list
// keyed by name) gets the field, everything else stays as its owners set it, and a later apply that changes
// another container keeps the sidecar's field.
func TestNativeSidecarProbesAreAppliedUnderInitContainers(t *testing.T) {
	ns, ctx := newNamespace(t), context.Background()
	liveness := func(path string) *builders.ProbeWrapper {
		return builders.MakeProbe(builders.Liveness).HTTPGet(path, 15021)
	}
	d := builders.MakeDeployment("mesh", ns).Label("tier", "mesh").
		InitContainer(builders.MakeContainer("setup", "example.com/setup:1").Obj()).
		InitContainer(builders.MakeContainer("proxy", "example.com/proxy:1").Sidecar().Probe(liveness("/healthz/ready")).Obj()).
		Container(appContainer().Probe(liveness("/healthz")).Obj()).
		Obj()
	if err := k8sClient.Create(ctx, d); err != nil {
		t.Fatal(err)
	}

	write := func(owned apply.Owned, ch probes.Change) apply.Owned {
		t.Helper()
		fresh := &appsv1.Deployment{}
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(d), fresh); err != nil {
			t.Fatal(err)
		}
		c, _ := probes.FindTunable(&fresh.Spec.Template.Spec, ch.Container)
		desired := c.LivenessProbe.DeepCopy()
		desired.FailureThreshold = ch.To
		obj, after, err := apply.Build(apply.Request{Deployment: fresh, Owned: owned, Changes: []probes.Change{ch},
			Desired: map[string]probes.Set{ch.Container: {Liveness: desired}}, LastChange: apply.LastChange{ID: "d-" + ch.Container}})
		if err != nil {
			t.Fatal(err)
		}
		obj.SetResourceVersion(fresh.ResourceVersion)
		if err := k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(controllers.FieldManager), client.ForceOwnership); err != nil {
			t.Fatalf("applying %v: %v", obj.Object, err)
		}
		return after
	}
	owned := write(apply.Owned{}, probes.Change{Container: "proxy", Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 6})
	write(owned, probes.Change{Container: "app", Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 5})

	got := &appsv1.Deployment{}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(d), got); err != nil {
		t.Fatal(err)
	}
	spec := got.Spec.Template.Spec
	if len(spec.InitContainers) != 2 || spec.InitContainers[0].Name != "setup" || spec.InitContainers[0].LivenessProbe != nil {
		t.Fatalf("init containers %+v, want setup untouched and without probes", spec.InitContainers)
	}
	proxy := spec.InitContainers[1]
	if lp := proxy.LivenessProbe; lp == nil || lp.FailureThreshold != 6 || lp.PeriodSeconds != 10 || lp.HTTPGet.Path != "/healthz/ready" || proxy.Image != "example.com/proxy:1" {
		t.Errorf("proxy %+v, want its liveness failureThreshold 6 and the rest as it was", proxy)
	}
	if lp := spec.Containers[0].LivenessProbe; lp == nil || lp.FailureThreshold != 5 {
		t.Errorf("app liveness %+v, want failureThreshold 5", lp)
	}
	found := false
	for _, mf := range got.ManagedFields {
		if mf.Manager != controllers.FieldManager || mf.FieldsV1 == nil {
			continue
		}
		found = true
		fields := string(mf.FieldsV1.Raw)
		if !strings.Contains(fields, `"k:{\"name\":\"proxy\"}":{".":{},"f:livenessProbe":{"f:failureThreshold":{}}`) || strings.Contains(fields, "setup") ||
			strings.Contains(fields, "f:image") {
			t.Errorf("probe-tuner owns %s; want the two failureThresholds and its annotations only", fields)
		}
	}
	if !found {
		t.Errorf("no managed fields of %s on the Deployment: %+v", controllers.FieldManager, got.ManagedFields)
	}
}
