package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ktypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/scheme"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// makeFakeWorldOf is makeFakeWorld with one crash-looping workload per name, all selected by the policy, their
// checkpoint in the versioned form.
func makeFakeWorldOf(t *testing.T, names ...string) *fakeWorld {
	t.Helper()
	base := makeFakeWorld(t)
	baseCM := base.objects[3].(*corev1.ConfigMap)
	w := &fakeWorld{policy: base.policy, deployment: base.deployment, objects: []client.Object{base.policy}}
	states := map[string]*tuner.WorkloadState{}
	for _, name := range names {
		d := base.deployment.DeepCopy()
		d.Name, d.UID = name, ktypes.UID("uid-"+name)
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name + "-h1", Labels: map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: "h1"},
			Annotations:     map[string]string{revisionAnnotation: "1"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: name, UID: d.UID, Controller: ptr.To(true)}}}}
		cp, err := decodeCheckpoint([]byte(baseCM.Data[checkpointKey]))
		if err != nil {
			t.Fatal(err)
		}
		states[name] = cp.Workloads["cache"]
		w.objects = append(w.objects, d, rs)
	}
	raw, err := encodeCheckpoint(states, nil)
	if err != nil {
		t.Fatal(err)
	}
	cm := baseCM.DeepCopy()
	cm.Data = map[string]string{checkpointKey: string(raw)}
	w.objects = append(w.objects, cm)
	return w
}

func newFakeClient(objs ...client.Object) client.WithWatch {
	return fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(objs...).Build()
}

// failingApplyOf fails the Deployment applies of the named Deployment with err while fail says so, and counts
// the others per Deployment.
func failingApplyOf(n *calls, perDeployment map[string]int, name string, fail *bool, err error) interceptor.Funcs {
	funcs := countingFuncs(n, nil, nil)
	count := funcs.Apply
	funcs.Apply = func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
		if u, ok := obj.(interface{ GetName() string }); ok {
			if u.GetName() == name && *fail {
				return err
			}
			perDeployment[u.GetName()]++
		}
		return count(ctx, c, obj, opts...)
	}
	return funcs
}

// decisionsOf counts the status decisions per workload, and fails on a decision listed twice.
func decisionsOf(t *testing.T, st tuningv1alpha1.ProbePolicyStatus) map[string]int {
	t.Helper()
	out, seen := map[string]int{}, map[string]bool{}
	for _, d := range st.Decisions {
		key := fmt.Sprintf("%s|%s|%s|%s|%s|%s", d.ID, d.Workload, d.Container, d.Probe, d.Field, d.Action)
		if seen[key] {
			t.Errorf("decision %s listed twice in status", key)
		}
		seen[key] = true
		if d.Action == tuningv1alpha1.DecisionApplied {
			out[d.Workload]++
		}
	}
	return out
}

func summaryOf(st tuningv1alpha1.ProbePolicyStatus, name string) tuningv1alpha1.WorkloadSummary {
	for _, w := range st.Workloads {
		if w.Name == name {
			return w
		}
	}
	return tuningv1alpha1.WorkloadSummary{}
}

// TestReconcileOneFailingWorkloadLosesNoOtherDecisions: the second of three workloads cannot be written. The
// first's and third's changes are written, recorded in status once and counted once; the second's error comes
// back and shows in its summary; the retries duplicate nothing, and the second is recorded once its write works.
func TestReconcileOneFailingWorkloadLosesNoOtherDecisions(t *testing.T) {
	w := makeFakeWorldOf(t, "cache-a", "cache-b", "cache-c")
	var n calls
	per := map[string]int{}
	failing := true
	r, c := w.reconciler(t, failingApplyOf(&n, per, "cache-b", &failing, apierrors.NewServiceUnavailable("etcd leader changed")))

	_, err := reconcileOnce(t, r)
	if err == nil || !strings.Contains(err.Error(), "cache-b") || !strings.Contains(err.Error(), "etcd leader changed") {
		t.Fatalf("error %v: want the second workload's write error returned", err)
	}
	if per["cache-a"] != 1 || per["cache-c"] != 1 || per["cache-b"] != 0 {
		t.Fatalf("writes per Deployment %v: want cache-a and cache-c written once, cache-b not at all", per)
	}
	st := policyStatus(t, c)
	got := decisionsOf(t, st)
	if got["cache-a"] == 0 || got["cache-a"] != got["cache-c"] || got["cache-b"] != 0 {
		t.Fatalf("Applied decisions per workload %v: want cache-a's and cache-c's, none for cache-b", got)
	}
	perWorkload := got["cache-a"]
	if st.ChangesApplied != int32(2*perWorkload) {
		t.Errorf("changesApplied = %d, want %d (cache-a and cache-c once each)", st.ChangesApplied, 2*perWorkload)
	}
	if b := summaryOf(st, "cache-b"); !strings.Contains(b.Message, "failed") || !strings.Contains(b.Message, "nothing was written") ||
		!strings.Contains(b.Message, "etcd leader changed") || strings.Contains(b.Message, "Applied") {
		t.Errorf("cache-b's summary %q: want the failed write, not a change applied", b.Message)
	}
	if a := summaryOf(st, "cache-a"); !strings.Contains(a.Message, "Applied") {
		t.Errorf("cache-a's summary %q: want the change applied", a.Message)
	}

	// A retry while cache-b still fails: the others are cooling down, nothing is recorded or counted again.
	if _, err := reconcileOnce(t, r); err == nil {
		t.Fatal("second reconcile: want cache-b's error again")
	}
	st = policyStatus(t, c)
	if again := decisionsOf(t, st); again["cache-a"] != perWorkload || again["cache-c"] != perWorkload || st.ChangesApplied != int32(2*perWorkload) {
		t.Errorf("after a retry: decisions %v, changesApplied %d; want them unchanged", again, st.ChangesApplied)
	}

	// cache-b's write goes through: it is recorded and counted once, the others still once.
	failing = false
	mustReconcile(t, r)
	st = policyStatus(t, c)
	final := decisionsOf(t, st)
	if final["cache-a"] != perWorkload || final["cache-b"] != perWorkload || final["cache-c"] != perWorkload || st.ChangesApplied != int32(3*perWorkload) {
		t.Errorf("once cache-b's write works: decisions %v, changesApplied %d; want %d each, %d in all", final, st.ChangesApplied, perWorkload, 3*perWorkload)
	}
	if n.applies != 3 {
		t.Errorf("%d Deployment writes, want 3", n.applies)
	}
}

// TestReconcileStatusSaysWhatBecameOfTheWrite: a write that lost a race, or gave way to another writer's change,
// does not read as applied.
func TestReconcileStatusSaysWhatBecameOfTheWrite(t *testing.T) {
	t.Run("lost race", func(t *testing.T) {
		w := makeFakeWorld(t)
		var n calls
		conflict := apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, "cache", errors.New("the object has been modified"))
		r, c := w.reconciler(t, countingFuncs(&n, func() error { return conflict }, nil))
		mustReconcile(t, r)
		s := summaryOf(policyStatus(t, c), "cache")
		if s.State != tuningv1alpha1.WorkloadAdjusting || !strings.Contains(s.Message, "nothing was written") || strings.Contains(s.Message, "Applied") {
			t.Errorf("summary %s %q: want the lost race said, nothing applied", s.State, s.Message)
		}
	})
	t.Run("another writer's change adopted", func(t *testing.T) {
		w := makeFakeWorld(t)
		var n calls
		r, c := w.reconciler(t, countingFuncs(&n, nil, nil))
		fresh := w.deployment.DeepCopy()
		fresh.Annotations["probetuner.io/last-change"] = `{"id":"other-1","time":"2026-06-01T09:59:59Z","policy":"caches","action":"Apply","fromRevision":"h1",` +
			`"changes":[{"container":"app","probe":"liveness","field":"failureThreshold","from":2,"to":3}]}`
		r.APIReader = interceptor.NewClient(newFakeClient(fresh), interceptor.Funcs{})
		mustReconcile(t, r)
		s := summaryOf(policyStatus(t, c), "cache")
		if n.applies != 0 || !strings.Contains(s.Message, "adopted") || strings.Contains(s.Message, "Applied") {
			t.Errorf("%d applies, summary %q: want the other writer's change adopted and nothing applied", n.applies, s.Message)
		}
	})
}

// eventLog keeps the Events recorded, as "type reason note".
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) Eventf(_ runtime.Object, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, eventtype+" "+reason+" "+fmt.Sprintf(note, args...))
}

func (l *eventLog) AnnotatedEventf(regarding, related runtime.Object, _ map[string]string, eventtype, reason, action, note string, args ...any) {
	l.Eventf(regarding, related, eventtype, reason, action, note, args...)
}

func (l *eventLog) with(reason string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.events {
		if strings.Contains(e, " "+reason+" ") {
			out = append(out, e)
		}
	}
	return out
}
