package simkubelet_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/probetuner/probe-tuner/test/builders"
	"github.com/probetuner/probe-tuner/test/testutil"
)

// newNamespace creates a namespace for one test and deletes it when the test ends.
func newNamespace(t *testing.T) string {
	t.Helper()
	name := testutil.NamespaceName(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := kube.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	t.Cleanup(func() { _ = kube.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	return name
}

// simDeployment starts a Deployment of the replicas, their pods given 5 s to stop, with one container "app"
// serving HTTP on port 8080 (named http) with the probes.
func simDeployment(ns, name string, replicas int32, probes ...*builders.ProbeWrapper) *builders.DeploymentWrapper {
	return builders.MakeDeployment(name, ns).Replicas(replicas).TerminationGracePeriod(5).
		Container(builders.MakeContainer("app", "example/app:1").Port("http", 8080).Probe(probes...).Obj())
}

// httpProbe is a probe of the kind that GETs path on port 8080 every period seconds, failing after failures.
func httpProbe(kind builders.ProbeKind, path string, period, failures int32) *builders.ProbeWrapper {
	return builders.MakeProbe(kind).HTTPGet(path, 8080).Period(period).FailureThreshold(failures)
}

// create creates the Deployment built so far.
func create(t *testing.T, d *builders.DeploymentWrapper) {
	t.Helper()
	if _, err := kube.AppsV1().Deployments(d.Namespace).Create(context.Background(), d.Obj(), metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating deployment %s: %v", d.Name, err)
	}
}

// pods lists the pods of the deployment named app.
func pods(t *testing.T, ns, app string) []corev1.Pod {
	t.Helper()
	l, err := kube.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatalf("listing pods: %v", err)
	}
	return l.Items
}

// events lists the events of a namespace.
func events(t *testing.T, ns string) []corev1.Event {
	t.Helper()
	l, err := kube.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing events: %v", err)
	}
	return l.Items
}

// eventually polls cond until it returns nil, failing the test after timeout.
func eventually(t *testing.T, timeout time.Duration, cond func() error) {
	t.Helper()
	testutil.Eventually(t, timeout, 200*time.Millisecond, cond)
}

// available waits until the deployment has rolled out: all replicas updated and available, none extra.
func available(t *testing.T, ns, name string, timeout time.Duration) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	eventually(t, timeout, func() error {
		var err error
		if d, err = kube.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{}); err != nil {
			return err
		}
		s, want := d.Status, *d.Spec.Replicas
		if s.ObservedGeneration < d.Generation || s.UpdatedReplicas != want || s.AvailableReplicas != want || s.Replicas != want {
			return fmt.Errorf("deployment %s: generation %d observed %d, replicas %d updated %d available %d, want %d",
				name, d.Generation, s.ObservedGeneration, s.Replicas, s.UpdatedReplicas, s.AvailableReplicas, want)
		}
		return nil
	})
	return d
}
