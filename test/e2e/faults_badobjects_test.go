//go:build e2e && faults

package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"

	"github.com/probetuner/probe-tuner/test/builders"
)

// healthyDeployment starts in 2 s under comfortable probes: probe-tuner has nothing to change on it.
func healthyDeployment(ns, name, label string) *builders.DeploymentWrapper {
	return tunedDeployment(ns, name, label).Replicas(1).Sim("startup", "2s").
		Container(builders.MakeContainer("web", "example.com/web:1").Port("http", 8080).
			Probe(builders.MakeProbe(builders.Liveness).HTTPGetNamed("/healthz", "http").Period(10)).
			Probe(builders.MakeProbe(builders.Readiness).HTTPGetNamed("/ready", "http").Period(5)).
			Obj())
}

// g. Objects a user broke by hand: probe-tuner's annotations copied from another Deployment or holding garbage,
// probetuner.io/paused with a value it does not know, the policy's status edited, and the checkpoint edited to
// garbage under an operator restart. Each is reported (a Warning Event) or recomputed; nothing is counted twice,
// no Deployment is written that should not be, and the operator does not crash.
func TestFaultBadObjects(t *testing.T) {
	e := newFaultEnv(t, "fault-bad")
	e.create(crashLoopDeployment(e.ns, "loader", "bad", 2))
	held := crashLoopDeployment(e.ns, "held", "bad", 2)
	held.Annotations = map[string]string{"probetuner.io/paused": "yes"}
	e.create(held)
	e.create(healthyDeployment(e.ns, "garbage", "bad").
		Annotation("probetuner.io/last-change", "{not json").
		Annotation("probetuner.io/previous-probes", strings.Repeat("x", 4096)).Obj())
	e.create(healthyDeployment(e.ns, "copy", "bad").Obj())
	e.create(faultPolicy(e.ns, "bad", "bad"))
	op := startOperator(t, "manager-fault-bad")

	t.Log("the crash loop is tuned; the unknown pause value holds its Deployment; the garbage record is rejected")
	eventually(t, 5*time.Minute, func() error {
		if len(appliedIDs(e.policy("bad"), "loader")) == 0 {
			return fmt.Errorf("loader: no Applied decision yet")
		}
		if !e.warned("Deployment", "held", "PausedValueUnknown") {
			return fmt.Errorf("held: no PausedValueUnknown Event")
		}
		if !e.warned("Deployment", "garbage", "LastChangeRejected") {
			return fmt.Errorf("garbage: no LastChangeRejected Event")
		}
		return nil
	})
	loaderGen := e.deploy("loader").Generation
	appliedBefore := appliedIDs(e.policy("bad"), "loader")
	applied := e.policy("bad").Status.ChangesApplied
	if applied < 1 {
		t.Fatalf("changesApplied %d after an Applied decision", applied)
	}

	t.Log("loader's last-change record, copied onto copy, is rejected and never counted")
	kubectl(t, "annotate", "deployment", "copy", "-n", e.ns, "--overwrite",
		"probetuner.io/last-change="+e.deploy("loader").Annotations["probetuner.io/last-change"])
	eventually(t, 2*time.Minute, func() error {
		if !e.warned("Deployment", "copy", "LastChangeRejected") {
			return fmt.Errorf("copy: no LastChangeRejected Event")
		}
		return nil
	})
	// The annotation edit itself advanced copy's generation (a Deployment's annotations are copied to its
	// ReplicaSets); from here on nothing may.
	generations := map[string]int64{}
	for _, name := range []string{"held", "garbage", "copy"} {
		generations[name] = e.deploy(name).Generation
	}

	t.Log("a status edited by hand is recomputed from probe-tuner's own records")
	kubectl(t, "patch", "probepolicy", "bad", "-n", e.ns, "--subresource=status", "--type=merge", "-p",
		`{"status":{"changesApplied":-5,"conditions":[{"type":"Hacked","status":"True","reason":"ByHand","message":"x","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}`)
	eventually(t, 2*time.Minute, func() error {
		p := e.policy("bad")
		if p.Status.ChangesApplied != applied || meta.FindStatusCondition(p.Status.Conditions, "Hacked") != nil {
			return fmt.Errorf("status not recomputed: changesApplied %d (want %d), conditions %v", p.Status.ChangesApplied, applied, conditionTypes(p))
		}
		return nil
	})

	t.Log("the checkpoint edited to garbage under a restart: reported, and nothing counted or written again")
	op.stop()
	kubectl(t, "patch", "configmap", "probe-tuner-bad", "-n", e.ns, "--type=merge", "-p", `{"data":{"state.json":"{not json"}}`)
	op = startOperator(t, "manager-fault-bad-2")
	eventually(t, 2*time.Minute, func() error {
		if !e.warned("ProbePolicy", "bad", "CheckpointUnreadable") {
			return fmt.Errorf("no CheckpointUnreadable Event on the policy")
		}
		return nil
	})
	// Two verification windows of the policy: long enough for a second count or a repeated write to show.
	time.Sleep(2 * time.Minute)

	p := e.policy("bad")
	if p.Status.ChangesApplied != applied {
		t.Errorf("after the checkpoint loss: changesApplied %d, want %d: a write was counted twice or lost", p.Status.ChangesApplied, applied)
	}
	for _, id := range appliedIDs(p, "loader") {
		if !slices.Contains(appliedBefore, id) {
			t.Errorf("after the checkpoint loss: loader has a new write decision %s (before: %v)", id, appliedBefore)
		}
	}
	if g := e.deploy("loader").Generation; g != loaderGen {
		t.Errorf("loader written again after the checkpoint loss: generation %d, was %d", g, loaderGen)
	}
	for _, name := range []string{"held", "garbage", "copy"} {
		if ids := appliedIDs(p, name); len(ids) > 0 {
			t.Errorf("%s: Applied decisions %v, want none", name, ids)
		}
		if d := e.deploy(name); d.Generation != generations[name] || hasProbeTunerWrite(d) {
			t.Errorf("%s was written (generation %d, startup probe %v)", name, d.Generation, d.Spec.Template.Spec.Containers[0].StartupProbe != nil)
		}
	}
	if overrides := e.events("ProbePolicy", "ManualOverrideRespected"); len(overrides) > 0 {
		t.Errorf("%d ManualOverrideRespected Events, but nobody edited a probe: %s", len(overrides), overrides[0].Message)
	}
	checkNoDuplicateDecisions(t, p)
	checkOperatorHealthy(t, op)
}

// warned says whether a Warning Event of this reason is about the named object.
func (e *faultEnv) warned(kind, name, reason string) bool {
	e.t.Helper()
	return slices.ContainsFunc(eventsAbout(e.t, e.c, e.ns, kind, name, reason), func(ev corev1.Event) bool { return ev.Type == "Warning" })
}

// hasProbeTunerWrite says whether the Deployment carries a startup probe, which only probe-tuner adds here.
func hasProbeTunerWrite(d *appsv1.Deployment) bool {
	return d.Spec.Template.Spec.Containers[0].StartupProbe != nil
}

func conditionTypes(p *tuningv1alpha1.ProbePolicy) []string {
	var types []string
	for _, c := range p.Status.Conditions {
		types = append(types, c.Type)
	}
	return types
}
