package simkubelet_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/probetuner/probe-tuner/test/builders"
	"github.com/probetuner/probe-tuner/test/testutil"
)

// updateDeployment applies change to the latest version of a deployment.
func updateDeployment(t *testing.T, ns, name string, change func(*appsv1.Deployment)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := kube.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		change(d)
		_, err = kube.AppsV1().Deployments(ns).Update(context.Background(), d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("updating deployment %s: %v", name, err)
	}
}

// scale sets the deployment's replicas.
func scale(t *testing.T, ns, name string, replicas int32) {
	t.Helper()
	updateDeployment(t, ns, name, func(d *appsv1.Deployment) { d.Spec.Replicas = &replicas })
}

// Scaling down: the pods to remove get SIGTERM ("Stopping container app"), terminate, and are deleted from the
// API server by the kubelet; the others keep running.
func TestScaleDownDeletesPods(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	create(t, simDeployment(ns, "web", 4, httpProbe(builders.Readiness, "/ready", 1, 3)).Sim("shutdown", "1s"))
	available(t, ns, "web", 30*time.Second)
	before := map[string]bool{}
	for _, p := range pods(t, ns, "web") {
		before[p.Name] = true
	}

	scale(t, ns, "web", 1)
	var kept string
	eventually(t, 30*time.Second, func() error {
		left := pods(t, ns, "web")
		if len(left) != 1 {
			return fmt.Errorf("%d pods left, want 1", len(left))
		}
		kept = left[0].Name
		return nil
	})
	if !before[kept] {
		t.Errorf("the pod left, %s, is not one of the original pods", kept)
	}
	available(t, ns, "web", 10*time.Second)
	eventually(t, 10*time.Second, func() error { // events are written asynchronously
		stopped := map[string]bool{}
		for _, e := range events(t, ns) {
			if e.Reason == "Killing" && e.Message == "Stopping container app" && e.Source.Component == "kubelet" {
				stopped[e.InvolvedObject.Name] = true
			}
		}
		for name := range before {
			if name != kept && !stopped[name] {
				return fmt.Errorf("no \"Stopping container app\" event for the removed pod %s", name)
			}
		}
		return nil
	})
}

// A rollout that changes the probes creates new pods, which carry the new probes, and the old pods go away.
func TestRolloutReplacesPods(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	create(t, simDeployment(ns, "roll", 2, httpProbe(builders.Readiness, "/ready", 1, 3), httpProbe(builders.Liveness, "/healthz", 10, 3)).
		Sim("startup", "1s"))
	available(t, ns, "roll", 30*time.Second)
	old := map[string]bool{}
	for _, p := range pods(t, ns, "roll") {
		old[p.Name] = true
	}

	updateDeployment(t, ns, "roll", func(d *appsv1.Deployment) {
		c := &d.Spec.Template.Spec.Containers[0]
		c.LivenessProbe = httpProbe(builders.Liveness, "/healthz", 3, 5).Obj()
		c.StartupProbe = httpProbe(builders.Startup, "/healthz", 1, 10).Obj()
	})
	available(t, ns, "roll", 45*time.Second)
	eventually(t, 30*time.Second, func() error {
		ps := pods(t, ns, "roll")
		if len(ps) != 2 {
			return fmt.Errorf("%d pods, want 2", len(ps))
		}
		for _, p := range ps {
			if old[p.Name] {
				return fmt.Errorf("old pod %s is still there", p.Name)
			}
			c := p.Spec.Containers[0]
			if c.LivenessProbe == nil || c.LivenessProbe.PeriodSeconds != 3 || c.StartupProbe == nil {
				t.Fatalf("new pod %s has probes liveness %+v, startup %+v", p.Name, c.LivenessProbe, c.StartupProbe)
			}
			if !testutil.PodReady(&p) {
				return fmt.Errorf("new pod %s is not Ready", p.Name)
			}
		}
		return nil
	})
}
