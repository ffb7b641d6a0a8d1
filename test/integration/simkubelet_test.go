package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/probetuner/probe-tuner/test/harness/sim"
)

// virtualKubelet plays the kubelet and the ReplicaSet controller for one Deployment in a test: it creates the
// ReplicaSet and Pods, runs them in the probe simulator in virtual time, and writes their status and the
// kubelet's Events to the real API server. The operator under test reads the same virtual time from clock.
type virtualKubelet struct {
	t     *testing.T
	ctx   context.Context
	world *sim.World
	clock *clocktesting.FakeClock
	pods  map[string]*corev1.Pod
	seq   int
}

var virtualEpoch = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

func newVirtualKubelet(t *testing.T) *virtualKubelet {
	return &virtualKubelet{t: t, ctx: context.Background(), world: sim.NewWorld(sim.Options{Seed: 11, Epoch: virtualEpoch}),
		clock: clocktesting.NewFakeClock(virtualEpoch), pods: map[string]*corev1.Pod{}}
}

// deploy creates the Deployment, its ReplicaSet and Pods, with the status a rolled-out Deployment has.
func (k *virtualKubelet) deploy(d *appsv1.Deployment) {
	t := k.t
	if err := k8sClient.Create(k.ctx, d); err != nil {
		t.Fatal(err)
	}
	hash := sim.TemplateHash(&d.Spec.Template)
	replicas := ptr.Deref(d.Spec.Replicas, 1)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name + "-" + hash,
			Labels:          map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: hash},
			Annotations:     map[string]string{"deployment.kubernetes.io/revision": "1"},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, appsv1.SchemeGroupVersion.WithKind("Deployment"))}},
		Spec: appsv1.ReplicaSetSpec{Replicas: &replicas, Selector: d.Spec.Selector, Template: d.Spec.Template},
	}
	rs.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	if err := k8sClient.Create(k.ctx, rs); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(d.DeepCopy())
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations["deployment.kubernetes.io/revision"] = "1"
	if err := k8sClient.Patch(k.ctx, d, patch); err != nil {
		t.Fatal(err)
	}
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: replicas, UpdatedReplicas: replicas}
	if err := k8sClient.Status().Update(k.ctx, d); err != nil {
		t.Fatal(err)
	}
	pods, err := sim.DeploymentPods(d, 11)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		p.OwnerReferences[0].UID = rs.UID
		p.ResourceVersion = ""
		if err := k8sClient.Create(k.ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := k.world.AddPod(p, "node-1"); err != nil {
			t.Fatal(err)
		}
		k.pods[p.Name] = p
	}
}

// run advances virtual time by d in steps, writing what changed after each step and moving the clock.
func (k *virtualKubelet) run(d, step time.Duration) {
	end := k.world.Now().Add(d)
	for k.world.Now().Before(end) {
		k.world.Advance(step)
		k.flush()
		k.clock.SetTime(k.world.Now())
		// Give the operator a moment to react to this step, as it would between kubelet updates.
		time.Sleep(20 * time.Millisecond)
	}
}

func (k *virtualKubelet) flush() {
	for _, e := range k.world.DrainEvents() {
		k.seq++
		p := k.pods[e.Pod]
		ev := &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: e.Namespace, Name: fmt.Sprintf("%s.%d", e.Pod, k.seq)},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: e.Namespace, Name: e.Pod, UID: p.UID, APIVersion: "v1", FieldPath: e.FieldPath},
			Reason:         e.Reason, Message: e.Message, Type: e.Type, Count: 1,
			Source:         corev1.EventSource{Component: "kubelet", Host: e.Node},
			FirstTimestamp: metav1.NewTime(e.Time), LastTimestamp: metav1.NewTime(e.Time),
		}
		if err := k8sClient.Create(k.ctx, ev); err != nil {
			k.t.Fatalf("writing a kubelet Event: %v", err)
		}
	}
	for _, ps := range k.world.DrainChanged() {
		p := k.pods[ps.Name()]
		var cur corev1.Pod
		if err := k8sClient.Get(k.ctx, client.ObjectKeyFromObject(p), &cur); err != nil {
			k.t.Fatal(err)
		}
		cur.Status = ps.Status()
		if err := k8sClient.Status().Update(k.ctx, &cur); err != nil {
			k.t.Fatalf("writing the status of pod %s: %v", p.Name, err)
		}
	}
}
