package controllers

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// TestWorkloadStepKeptWhileNothingIsNew: with the event sources marking changes, a reconcile steps only the
// workloads something happened to; each way a workload can have something new brings its step back.
func TestWorkloadStepKeptWhileNothingIsNew(t *testing.T) {
	for _, tc := range []struct {
		name      string
		untracked bool
		between   func(t *testing.T, r *ProbePolicyReconciler, c client.Client, clock *clocktesting.FakeClock)
		wantStep  bool
	}{
		{name: "nothing happened", between: func(*testing.T, *ProbePolicyReconciler, client.Client, *clocktesting.FakeClock) {}},
		{name: "a pod or Event changed", wantStep: true, between: func(_ *testing.T, r *ProbePolicyReconciler, _ client.Client, _ *clocktesting.FakeClock) {
			r.looks.changed(policyKey, "cache")
		}},
		{name: "another workload's pod changed", between: func(_ *testing.T, r *ProbePolicyReconciler, _ client.Client, _ *clocktesting.FakeClock) {
			r.looks.changed(policyKey, "web")
		}},
		{name: "the Deployment changed", wantStep: true, between: func(t *testing.T, _ *ProbePolicyReconciler, c client.Client, _ *clocktesting.FakeClock) {
			updateObject(t, c, deploymentKey, &appsv1.Deployment{}, func(o client.Object) { o.SetAnnotations(map[string]string{revisionAnnotation: "1", "team": "a"}) })
		}},
		{name: "the Deployment's status followed its pods", between: func(t *testing.T, _ *ProbePolicyReconciler, c client.Client, _ *clocktesting.FakeClock) {
			updateStatus(t, c, deploymentKey, func(d *appsv1.Deployment) { d.Status.ReadyReplicas, d.Status.AvailableReplicas = 1, 1 })
		}},
		{name: "the Deployment started rolling out", wantStep: true, between: func(t *testing.T, _ *ProbePolicyReconciler, c client.Client, _ *clocktesting.FakeClock) {
			updateStatus(t, c, deploymentKey, func(d *appsv1.Deployment) { d.Status.Replicas, d.Status.UpdatedReplicas = 3, 1 })
		}},
		{name: "the policy's spec changed", wantStep: true, between: func(t *testing.T, _ *ProbePolicyReconciler, c client.Client, _ *clocktesting.FakeClock) {
			updateObject(t, c, policyKey, &tuningv1alpha1.ProbePolicy{}, func(o client.Object) { o.(*tuningv1alpha1.ProbePolicy).Generation++ })
		}},
		{name: "the next look came", wantStep: true, between: func(_ *testing.T, _ *ProbePolicyReconciler, _ client.Client, clock *clocktesting.FakeClock) {
			clock.Step(11 * time.Minute) // past the safety look, the latest a next look can be
		}},
		{name: "no event source marks changes", untracked: true, wantStep: true, between: func(*testing.T, *ProbePolicyReconciler, client.Client, *clocktesting.FakeClock) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := makeFakeWorld(t)
			var n calls
			steps := 0
			funcs := countingFuncs(&n, nil, nil)
			funcs.List = func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
				if l, ok := list.(*metav1.PartialObjectMetadataList); ok && l.Kind == "ReplicaSetList" {
					steps++ // every step reads the Deployment's current revision, once it is forgotten (below)
				}
				return c.List(ctx, list, opts...)
			}
			r, c := w.reconciler(t, funcs)
			r.looks.tracked = !tc.untracked
			clock := r.Clock.(*clocktesting.FakeClock)
			// The first look decides and writes; the workload is then verified for minutes.
			mustReconcile(t, r)
			if steps != 1 || n.applies != 1 {
				t.Fatalf("the first look stepped the workload %d times and wrote %d times, want 1 and 1", steps, n.applies)
			}
			st := policyStatus(t, c)
			clock.Step(time.Second)
			tc.between(t, r, c, clock)
			r.looks.policy(policyKey).revisions = map[string]knownRevision{} // so that a step shows as a ReplicaSet read
			mustReconcile(t, r)
			if got := steps == 2; got != tc.wantStep {
				t.Errorf("stepped again: %v, want %v", got, tc.wantStep)
			}
			if !tc.wantStep {
				if got := policyStatus(t, c); got.Workloads[0].State != st.Workloads[0].State || got.Workloads[0].Message != st.Workloads[0].Message {
					t.Errorf("the kept outcome changed the status: %q %q, was %q %q", got.Workloads[0].State, got.Workloads[0].Message,
						st.Workloads[0].State, st.Workloads[0].Message)
				}
			}
		})
	}
}

var (
	policyKey     = client.ObjectKey{Namespace: "shop", Name: "caches"}
	deploymentKey = client.ObjectKey{Namespace: "shop", Name: "cache"}
)

// updateObject changes a stored object (a Deployment or the policy) as a user would.
// updateStatus changes a Deployment's status through its status subresource.
func updateStatus(t *testing.T, c client.Client, key client.ObjectKey, change func(*appsv1.Deployment)) {
	t.Helper()
	var d appsv1.Deployment
	if err := c.Get(context.Background(), key, &d); err != nil {
		t.Fatal(err)
	}
	change(&d)
	if err := c.Status().Update(context.Background(), &d); err != nil {
		t.Fatal(err)
	}
}

func updateObject(t *testing.T, c client.Client, key client.ObjectKey, obj client.Object, change func(client.Object)) {
	t.Helper()
	if err := c.Get(context.Background(), key, obj); err != nil {
		t.Fatal(err)
	}
	change(obj)
	if err := c.Update(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}
