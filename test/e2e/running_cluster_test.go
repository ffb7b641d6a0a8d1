//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/test/builders"
	"github.com/probetuner/probe-tuner/test/testutil"
)

// TestInstalledIntoARunningCluster: probe-tuner started against Deployments whose pods have run for a while
// (one of them replaced mid-way) must take no start sample from how long a container has been running, and
// nothing must be recommended or written for pods that were simply already running. Before the fix the first
// look measured each started container to now: 3 pods started ~2 minutes earlier behind a 60 s startup budget
// read as starts of ~2 minutes and the budget was raised.
func TestInstalledIntoARunningCluster(t *testing.T) {
	ns := testutil.NamespaceName(t)
	c := newClient(t)
	installCRD(t, ns)

	const (
		gated, ready = "warm-gated", "warm-ready"
		warmedFor    = 90 * time.Second // how long the pods run before probe-tuner starts
		watchFor     = 75 * time.Second // how long probe-tuner then looks: five resyncs
	)
	// A startup probe of 12 x 5 s = 60 s in front of an 8 s start, and a readiness probe in front of a 6 s start.
	create(t, c,
		tunedDeployment(ns, gated, "warm").Replicas(3).Sim("startup", "8s").
			Container(builders.MakeContainer("app", "warm/app:1").Port("http", 8080).
				Probe(builders.MakeProbe(builders.Startup).HTTPGet("/healthz", 8080).Period(5).FailureThreshold(12),
					builders.MakeProbe(builders.Liveness).HTTPGet("/healthz", 8080)).Obj()).Obj(),
		tunedDeployment(ns, ready, "warm").Replicas(2).Sim("startup", "6s").
			Container(builders.MakeContainer("app", "warm/app:1").Port("http", 8080).
				Probe(builders.MakeProbe(builders.Readiness).HTTPGet("/ready", 8080),
					builders.MakeProbe(builders.Liveness).HTTPGet("/healthz", 8080)).Obj()).Obj(),
	)
	pods := func(name string) []corev1.Pod {
		var l corev1.PodList
		if err := c.List(context.Background(), &l, client.InNamespace(ns), client.MatchingLabels{"app": name}); err != nil {
			t.Fatal(err)
		}
		var out []corev1.Pod
		for _, p := range l.Items {
			if p.DeletionTimestamp == nil {
				out = append(out, p)
			}
		}
		return out
	}
	allReady := func(name string, want int) error {
		ps := pods(name)
		n := 0
		for _, p := range ps {
			for _, cd := range p.Status.Conditions {
				if cd.Type == corev1.PodReady && cd.Status == corev1.ConditionTrue {
					n++
				}
			}
		}
		if n != want {
			return fmt.Errorf("%s: %d of %d pods Ready", name, n, want)
		}
		return nil
	}
	eventually(t, 2*time.Minute, func() error {
		if err := allReady(gated, 3); err != nil {
			return err
		}
		return allReady(ready, 2)
	})
	time.Sleep(warmedFor / 2)
	// One pod replaced mid-way: its start too happened before probe-tuner ran.
	victim := pods(ready)[0]
	if err := c.Delete(context.Background(), &victim); err != nil {
		t.Fatal(err)
	}
	time.Sleep(warmedFor / 2)
	eventually(t, time.Minute, func() error { return allReady(ready, 2) })
	gatedGen, readyGen := getDeployment(t, c, ns, gated).Generation, getDeployment(t, c, ns, ready).Generation

	startOperator(t, "manager-running-cluster")
	const policy = "warm"
	create(t, c, defaultPolicy(ns, policy, tuningv1alpha1.ModeAuto, "warm"))
	eventually(t, time.Minute, func() error {
		if n := len(getPolicy(t, c, ns, policy).Status.Workloads); n != 2 {
			return fmt.Errorf("the policy lists %d workloads, want 2", n)
		}
		return nil
	})
	time.Sleep(watchFor)

	p := getPolicy(t, c, ns, policy)
	for _, w := range p.Status.Workloads {
		for _, cs := range w.Containers {
			if o := cs.Observed; o.StartupSamples != 0 {
				t.Errorf("%s/%s: %d start sample(s) (p99 %v) from pods that were already running: want none (%s)", w.Name, cs.Name, o.StartupSamples, o.StartupP99, workloadStatus(p, w.Name))
			}
			if cs.Recommended != nil {
				t.Errorf("%s/%s: probes recommended for pods that were simply running: %+v (%s)", w.Name, cs.Name, *cs.Recommended, workloadStatus(p, w.Name))
			}
		}
	}
	for _, d := range p.Status.Decisions {
		if d.Action == tuningv1alpha1.DecisionApplied || d.Action == tuningv1alpha1.DecisionRecommended {
			t.Errorf("decision for pods that were simply running: %s %s/%s %s %s: %s", d.Action, d.Workload, d.Container, d.Probe, d.Field, d.Evidence)
		}
	}
	if g := getDeployment(t, c, ns, gated).Generation; g != gatedGen {
		t.Errorf("%s was written (generation %d -> %d)", gated, gatedGen, g)
	}
	if g := getDeployment(t, c, ns, ready).Generation; g != readyGen {
		t.Errorf("%s was written (generation %d -> %d)", ready, readyGen, g)
	}
}
