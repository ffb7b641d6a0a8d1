package controllers

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ktypes "k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// landingApply makes a Deployment apply land in the fake client the way server-side apply would for what these
// tests need: probe-tuner's annotations and the probes it names (a probe with a handler whole, else its timing
// fields) replace the stored ones. Checkpoints go through.
func landingApply(n *calls) interceptor.Funcs {
	return interceptor.Funcs{
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			u, ok := obj.(interface{ UnstructuredContent() map[string]any })
			if !ok {
				return c.Apply(ctx, obj, opts...)
			}
			var applied appsv1.Deployment
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.UnstructuredContent(), &applied); err != nil {
				return err
			}
			var d appsv1.Deployment
			if err := c.Get(ctx, client.ObjectKeyFromObject(&applied), &d); err != nil {
				return err
			}
			for k, v := range applied.Annotations {
				d.Annotations[k] = v
			}
			for _, ac := range applied.Spec.Template.Spec.Containers {
				dc, _ := probes.FindTunable(&d.Spec.Template.Spec, ac.Name)
				set, have := probes.ContainerSet(dc), probes.ContainerSet(&ac)
				for _, k := range probes.Kinds {
					p := have.Get(k)
					switch {
					case p == nil:
					case probes.HandlerCount(p) > 0 || set.Get(k) == nil:
						set.Set(k, p.DeepCopy())
					default:
						v := probes.Of(set.Get(k))
						for _, f := range probes.Fields {
							if want, _ := probes.Of(p).Field(f); want != 0 {
								v, _ = v.WithField(f, want)
							}
						}
						v.Apply(set.Get(k))
					}
				}
				probes.SetContainer(dc, set)
			}
			d.Generation++
			n.applies++
			return c.Update(ctx, &d)
		},
	}
}

func deploymentOf(t *testing.T, c client.Client, name string) *appsv1.Deployment {
	t.Helper()
	var d appsv1.Deployment
	if err := c.Get(context.Background(), ktypes.NamespacedName{Namespace: "shop", Name: name}, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func setAnnotation(t *testing.T, c client.Client, name, key, value string) {
	t.Helper()
	d := deploymentOf(t, c, name)
	d.Annotations[key] = value
	if err := c.Update(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// restart is a new operator on the same API server: a new state store (what it knows comes from the checkpoint)
// and a new pending queue.
func restart(old *ProbePolicyReconciler, c client.Client, events *eventLog) *ProbePolicyReconciler {
	return &ProbePolicyReconciler{Client: old.Client, APIReader: old.APIReader, Pods: old.Pods, Clock: old.Clock, Recorder: events,
		States: &StateStore{Reader: c, Writer: ClientCheckpointWriter{Client: c}}, ObserveConfig: old.ObserveConfig}
}

func loseCheckpoint(t *testing.T, c client.Client) {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := c.Get(context.Background(), ktypes.NamespacedName{Namespace: "shop", Name: checkpointName("caches")}, cm); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
}

// TestRecordsOnTheDeploymentAreBoundAndCountedOnce follows the hostile user: two real writes; the
// checkpoint is lost twice and the records adopted again; the status's count is edited by hand; one Deployment's
// record is copied onto the other, then replaced by a forged one dated 2099, then restored. changesApplied stays
// 2 throughout, the copied and forged records are reported once each and never adopted, and nothing is written.
func TestRecordsOnTheDeploymentAreBoundAndCountedOnce(t *testing.T) {
	w := makeFakeWorldOf(t, "cache-a", "cache-b")
	var n calls
	events := &eventLog{}
	r, c := w.reconciler(t, landingApply(&n))
	r.Recorder = events
	mustReconcile(t, r)
	st := policyStatus(t, c)
	if n.applies != 2 || st.ChangesApplied != 2 || len(decisionsOf(t, st)) != 2 {
		t.Fatalf("first reconcile: %d writes, changesApplied %d, decisions %v; want 2 writes of one change each", n.applies, st.ChangesApplied, decisionsOf(t, st))
	}
	countIs := func(when string) {
		t.Helper()
		st := policyStatus(t, c)
		if st.ChangesApplied != 2 || n.applies != 2 {
			t.Errorf("%s: changesApplied %d after %d writes; want 2 and 2", when, st.ChangesApplied, n.applies)
		}
		for name, got := range decisionsOf(t, st) {
			if got != 1 {
				t.Errorf("%s: %d Applied decisions for %s, want 1", when, got, name)
			}
		}
	}

	for i := 0; i < 2; i++ {
		loseCheckpoint(t, c)
		r = restart(r, c, events)
		mustReconcile(t, r)
		countIs("checkpoint lost and the records adopted again")
	}

	pol := policyStatusObject(t, c)
	pol.Status.ChangesApplied = -5
	if err := c.Status().Update(context.Background(), pol); err != nil {
		t.Fatal(err)
	}
	mustReconcile(t, r)
	countIs("status edited by hand to -5")

	own := deploymentOf(t, c, "cache-b").Annotations[apply.AnnotationLastChange]
	setAnnotation(t, c, "cache-b", apply.AnnotationLastChange, deploymentOf(t, c, "cache-a").Annotations[apply.AnnotationLastChange])
	mustReconcile(t, r)
	mustReconcile(t, r)
	countIs("cache-a's record copied onto cache-b")
	if got := events.with(tuner.RejectedLastChange); len(got) != 2 || !strings.Contains(got[0], "written for Deployment cache-a") {
		t.Errorf("Events %v: want one Warning on the Deployment and one on the policy naming the copy", got)
	}

	var forged apply.LastChange
	if err := json.Unmarshal([]byte(own), &forged); err != nil {
		t.Fatal(err)
	}
	forged.ID, forged.Time = "d-forged", forged.Time.AddDate(73, 0, 0)
	forged.Changes = []probes.Change{{Container: "app", Probe: probes.Liveness, Field: probes.FailureThreshold, From: 3, To: 6}}
	raw, _ := json.Marshal(forged)
	setAnnotation(t, c, "cache-b", apply.AnnotationLastChange, string(raw))
	mustReconcile(t, r)
	mustReconcile(t, r)
	countIs("a forged record dated 2099")
	if got := events.with(tuner.RejectedLastChange); len(got) != 4 || !strings.Contains(got[2], "in the future") {
		t.Errorf("Events %v: want the forged record reported once more", got)
	}
	ws := r.States.policies[ktypes.NamespacedName{Namespace: "shop", Name: "caches"}].workloads["cache-b"]
	if ws.LastChange == nil || ws.LastChange.ID == "d-forged" {
		t.Errorf("cache-b's last change %+v: the forged record must not be adopted", ws.LastChange)
	}
	if s := summaryOf(policyStatus(t, c), "cache-b"); strings.Contains(s.Message, "2099") {
		t.Errorf("cache-b summary %q: a forged record holds its tuning", s.Message)
	}

	setAnnotation(t, c, "cache-b", apply.AnnotationLastChange, own)
	loseCheckpoint(t, c)
	r = restart(r, c, events)
	mustReconcile(t, r)
	countIs("the original record restored, then the checkpoint lost")
	ws = r.States.policies[ktypes.NamespacedName{Namespace: "shop", Name: "caches"}].workloads["cache-b"]
	if ws.LastChange == nil || ws.LastChange.ID == "d-forged" || !ws.LastChange.Checked {
		t.Errorf("cache-b's last change %+v: want its own record adopted again", ws.LastChange)
	}
	if got := events.with(tuner.RejectedLastChange); len(got) != 4 {
		t.Errorf("Events %v: the restored record is good and reports nothing", got)
	}
}

func policyStatusObject(t *testing.T, c client.Client) *tuningv1alpha1.ProbePolicy {
	t.Helper()
	var p tuningv1alpha1.ProbePolicy
	if err := c.Get(context.Background(), ktypes.NamespacedName{Namespace: "shop", Name: "caches"}, &p); err != nil {
		t.Fatal(err)
	}
	return &p
}
