package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	ctrl "sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/podstore"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/scheme"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

var testNow = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

// fakeWorld builds the objects of one crash-looping workload selected by one Auto policy, with a checkpoint that
// already holds enough killed starts for a decision.
type fakeWorld struct {
	policy     *tuningv1alpha1.ProbePolicy
	deployment *appsv1.Deployment
	objects    []client.Object
}

func makeFakeWorld(t *testing.T) *fakeWorld {
	t.Helper()
	pol := &tuningv1alpha1.ProbePolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "caches", UID: "pol-uid", Generation: 1},
		Spec:       tuningv1alpha1.ProbePolicySpec{Selector: metav1.LabelSelector{MatchLabels: map[string]string{"tier": "cache"}}, Mode: tuningv1alpha1.ModeAuto},
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "cache", UID: "dep-uid", Generation: 1, Labels: map[string]string{"tier": "cache"},
			Annotations: map[string]string{revisionAnnotation: "1"}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "cache"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "cache"}}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "app", Image: "cache:1",
				LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
					PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3},
			}}}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2},
	}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "cache-h1", Labels: map[string]string{"app": "cache", appsv1.DefaultDeploymentUniqueLabelKey: "h1"},
		Annotations:     map[string]string{revisionAnnotation: "1"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "cache", UID: "dep-uid", Controller: ptr.To(true)}}}}
	state := map[string]*tuner.WorkloadState{"cache": {Observation: observe.State{
		Containers: map[string]*observe.ContainerState{"app": {Censored: killedStarts(4, 30*time.Second), Restarts: map[observe.Cause]int{observe.CauseLiveness: 4}}},
		Revisions: []*observe.RevisionState{{Hash: "h1", FirstSeen: testNow.Add(-time.Hour),
			Containers: map[string]*observe.RevisionContainer{"app": {Restarts: map[observe.Cause]int{observe.CauseLiveness: 4}, KillsBeforeReady: 4}}}},
	}}}
	raw, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: checkpointName("caches")}, Data: map[string]string{checkpointKey: string(raw)}}
	return &fakeWorld{policy: pol, deployment: d, objects: []client.Object{pol, d, rs, cm}}
}

// killedStarts is a histogram of n starts killed after lived.
func killedStarts(n int, lived time.Duration) observe.Histogram {
	var h observe.Histogram
	for i := 0; i < n; i++ {
		h.Add(lived, testNow.Add(-time.Minute), 24*time.Hour)
	}
	return h
}

// calls counts what the reconciler sent.
type calls struct {
	applies       int
	appliedIDs    []string
	statusPatches int
}

func (w *fakeWorld) reconciler(t *testing.T, funcs interceptor.Funcs) (*ProbePolicyReconciler, client.Client) {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(scheme.New()).
		WithObjects(w.objects...).
		WithStatusSubresource(&tuningv1alpha1.ProbePolicy{}, &appsv1.Deployment{}).
		WithInterceptorFuncs(funcs).
		Build()
	return &ProbePolicyReconciler{
		Client: c, APIReader: c, Pods: podstore.NewStatic(nil, nil), Clock: clocktesting.NewFakeClock(testNow), Recorder: discardRecorder{},
		States: &StateStore{Reader: c, Writer: ClientCheckpointWriter{Client: c}}, ObserveConfig: observe.DefaultConfig(),
	}, c
}

// countingFuncs records Deployment applies (without sending them: the fake client's server-side apply is not
// what is under test) and status patches, failing them while the given functions say so.
func countingFuncs(n *calls, failApply, failStatus func() error) interceptor.Funcs {
	return interceptor.Funcs{
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			if _, ok := obj.(*corev1ac.ConfigMapApplyConfiguration); ok {
				return c.Apply(ctx, obj, opts...) // checkpoints go through
			}
			if failApply != nil {
				if err := failApply(); err != nil {
					return err
				}
			}
			n.applies++
			return nil
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			if failStatus != nil {
				if err := failStatus(); err != nil {
					return err
				}
			}
			n.statusPatches++
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			if failStatus != nil {
				if err := failStatus(); err != nil {
					return err
				}
			}
			n.statusPatches++
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
	}
}

func reconcileOnce(t *testing.T, r *ProbePolicyReconciler) (ctrl.Result, error) {
	t.Helper()
	return r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "shop", Name: "caches"}})
}

func policyStatus(t *testing.T, c client.Client) tuningv1alpha1.ProbePolicyStatus {
	t.Helper()
	var p tuningv1alpha1.ProbePolicy
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "shop", Name: "caches"}, &p); err != nil {
		t.Fatal(err)
	}
	return p.Status
}

func appliedDecisions(st tuningv1alpha1.ProbePolicyStatus) int {
	n := 0
	for _, d := range st.Decisions {
		if d.Action == "Applied" {
			n++
		}
	}
	return n
}

func TestReconcileAppliesOnce(t *testing.T) {
	w := makeFakeWorld(t)
	var n calls
	r, c := w.reconciler(t, countingFuncs(&n, nil, nil))
	mustReconcile(t, r)
	if n.applies != 1 {
		t.Fatalf("applies = %d, want 1", n.applies)
	}
	if got := appliedDecisions(policyStatus(t, c)); got == 0 {
		t.Fatalf("no Applied decision in status")
	}
	// The next reconcile is inside the cooldown: nothing is applied again, nothing recorded twice.
	before := len(policyStatus(t, c).Decisions)
	mustReconcile(t, r)
	if n.applies != 1 || len(policyStatus(t, c).Decisions) != before {
		t.Errorf("second reconcile: applies %d, decisions %d -> %d", n.applies, before, len(policyStatus(t, c).Decisions))
	}
}

func TestReconcileApplyConflictRecordsNothing(t *testing.T) {
	w := makeFakeWorld(t)
	var n calls
	failing := true
	conflict := apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, "cache", errors.New("the object has been modified"))
	r, c := w.reconciler(t, countingFuncs(&n, func() error {
		if failing {
			return conflict
		}
		return nil
	}, nil))
	res, err := reconcileOnce(t, r)
	if err != nil || res.RequeueAfter != retryAfterLostRace {
		t.Fatalf("result %+v, error %v: want a quiet retry after %s (a lost race is not an error)", res, err, retryAfterLostRace)
	}
	if got := appliedDecisions(policyStatus(t, c)); got != 0 || n.applies != 0 {
		t.Fatalf("after a failed apply: %d Applied decisions, %d applies; want none", got, n.applies)
	}
	failing = false
	mustReconcile(t, r)
	if n.applies != 1 || appliedDecisions(policyStatus(t, c)) == 0 {
		t.Errorf("after the conflict cleared: %d applies, status %+v", n.applies, policyStatus(t, c).Decisions)
	}
}

func TestReconcileStatusConflictKeepsDecisions(t *testing.T) {
	w := makeFakeWorld(t)
	var n calls
	failures := 1
	r, c := w.reconciler(t, countingFuncs(&n, nil, func() error {
		if failures > 0 {
			failures--
			return apierrors.NewConflict(schema.GroupResource{Group: "tuning.probetuner.io", Resource: "probepolicies"}, "caches", errors.New("modified"))
		}
		return nil
	}))
	res, err := reconcileOnce(t, r)
	if err != nil || res.RequeueAfter != retryAfterLostRace {
		t.Fatalf("result %+v, error %v: want a quiet retry after %s on a status conflict", res, err, retryAfterLostRace)
	}
	if n.applies != 1 {
		t.Fatalf("applies = %d, want 1", n.applies)
	}
	mustReconcile(t, r)
	st := policyStatus(t, c)
	if appliedDecisions(st) == 0 || st.ChangesApplied == 0 {
		t.Errorf("the decision applied before the status conflict was lost: %+v", st)
	}
	if n.applies != 1 {
		t.Errorf("applies = %d: the retry applied the same decision again", n.applies)
	}
}

func TestReconcileListErrorWritesNothing(t *testing.T) {
	w := makeFakeWorld(t)
	var n calls
	funcs := countingFuncs(&n, nil, nil)
	funcs.List = func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		if l, ok := list.(*metav1.PartialObjectMetadataList); ok && l.Kind == "ReplicaSetList" {
			return apierrors.NewServiceUnavailable("the API server is restarting")
		}
		return c.List(ctx, list, opts...)
	}
	r, _ := w.reconciler(t, funcs)
	if _, err := reconcileOnce(t, r); err == nil {
		t.Fatal("want the API error returned, so the request is retried with back-off")
	}
	if n.applies != 0 || n.statusPatches != 0 {
		t.Errorf("after a failed gather: %d applies, %d status patches; want none", n.applies, n.statusPatches)
	}
}

func TestReconcileRespectsPause(t *testing.T) {
	w := makeFakeWorld(t)
	w.deployment.Annotations[apply.AnnotationPaused] = "true"
	var n calls
	r, c := w.reconciler(t, countingFuncs(&n, nil, nil))
	mustReconcile(t, r)
	if n.applies != 0 {
		t.Errorf("a paused Deployment was written %d times", n.applies)
	}
	if st := policyStatus(t, c); len(st.Workloads) != 1 || st.Workloads[0].State != "Paused" {
		t.Errorf("workloads = %+v, want the workload shown Paused", st.Workloads)
	}
}

func TestReconcileDoesNotReapplyADecisionAlreadyOnTheDeployment(t *testing.T) {
	// The operator applied a decision and died before recording it: the Deployment carries the decision ID.
	w := makeFakeWorld(t)
	var n calls
	r, _ := w.reconciler(t, countingFuncs(&n, nil, nil))
	mustReconcile(t, r)
	last := r.States.policies[types.NamespacedName{Namespace: "shop", Name: "caches"}].workloads["cache"].LastChange

	w2 := makeFakeWorld(t)
	// The write happened: the Deployment holds the startup probe it added.
	app := &w2.deployment.Spec.Template.Spec.Containers[0]
	app.StartupProbe = app.LivenessProbe.DeepCopy()
	lc, _ := json.Marshal(apply.LastChange{ID: last.ID, Time: testNow.Add(-time.Second), Policy: "caches", Action: "Apply", FromRevision: "h1", Changes: last.Changes})
	w2.deployment.Annotations[apply.AnnotationLastChange] = string(lc)
	var n2 calls
	r2, c2 := w2.reconciler(t, countingFuncs(&n2, nil, nil))
	if _, err := reconcileOnce(t, r2); err != nil {
		t.Fatal(err)
	}
	if n2.applies != 0 {
		t.Errorf("the decision already on the Deployment was applied again (%d applies)", n2.applies)
	}
	st := policyStatus(t, c2)
	if got := appliedDecisions(st); got != len(last.Changes) || st.Decisions[0].ID != last.ID {
		t.Errorf("decisions %+v: want the decision found on the Deployment recorded once", st.Decisions)
	}
}

func TestReconcileAppliesOnlyOnTheVersionItRead(t *testing.T) {
	w := makeFakeWorld(t)
	var n calls
	funcs := countingFuncs(&n, nil, nil)
	var sentVersion string
	countApply := funcs.Apply
	funcs.Apply = func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
		if u, ok := obj.(interface{ GetResourceVersion() string }); ok {
			sentVersion = u.GetResourceVersion()
		}
		return countApply(ctx, c, obj, opts...)
	}
	r, c := w.reconciler(t, funcs)
	var fresh appsv1.Deployment
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(w.deployment), &fresh); err != nil {
		t.Fatal(err)
	}
	mustReconcile(t, r)
	if n.applies != 1 || sentVersion == "" || sentVersion != fresh.ResourceVersion {
		t.Errorf("applies %d with resourceVersion %q, want 1 with %q: without the precondition two writers can both apply", n.applies, sentVersion, fresh.ResourceVersion)
	}
}

func TestReconcileTakesAChangeAnotherWriterJustMade(t *testing.T) {
	// A second operator replica (no leader election) wrote its decision; this replica's cache has not seen it,
	// but the fresh read before writing does.
	w := makeFakeWorld(t)
	var n calls
	r, c := w.reconciler(t, countingFuncs(&n, nil, nil))
	other := apply.LastChange{ID: "other-replica-1", Time: testNow.Add(-time.Second), Policy: "caches", Action: "Apply", FromRevision: "h1",
		Changes: []probes.Change{{Container: "app", Probe: probes.Liveness, Field: probes.FailureThreshold, From: 2, To: 3}}}
	lc, _ := json.Marshal(other)
	fresh := w.deployment.DeepCopy()
	fresh.Annotations[apply.AnnotationLastChange] = string(lc)
	r.APIReader = interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(fresh).Build(), interceptor.Funcs{})
	mustReconcile(t, r)
	if n.applies != 0 {
		t.Errorf("applied %d times on top of another writer's fresh change, want 0", n.applies)
	}
	ws := r.States.policies[types.NamespacedName{Namespace: "shop", Name: "caches"}].workloads["cache"]
	if ws.LastChange == nil || ws.LastChange.ID != other.ID {
		t.Errorf("last change = %+v, want the other writer's %s adopted (cooldown and verification count from it)", ws.LastChange, other.ID)
	}
	if st := policyStatus(t, c); appliedDecisions(st) != 1 || st.Decisions[0].ID != other.ID {
		t.Errorf("status decisions %+v: want the other writer's one change recorded once", st.Decisions)
	}
}

// discardRecorder drops Events: these tests look at writes and status.
type discardRecorder struct{}

func (discardRecorder) Eventf(runtime.Object, runtime.Object, string, string, string, string, ...any) {
}
func (discardRecorder) AnnotatedEventf(runtime.Object, runtime.Object, map[string]string, string, string, string, string, ...any) {
}

var _ recorder.EventRecorder = discardRecorder{}
