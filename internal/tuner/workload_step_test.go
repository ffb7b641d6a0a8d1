package tuner

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/intstr"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

var stepNow = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

// slowStarter is a workload whose starts are all killed by a 3 x 10 s liveness window: a look at it decides to
// add a startup probe.
func slowStarter() (*WorkloadState, *appsv1.Deployment) {
	var killed observe.Histogram
	for i := 0; i < 4; i++ {
		killed.Add(30*time.Second, stepNow.Add(-time.Minute), 24*time.Hour)
	}
	st := &WorkloadState{Observation: observe.State{
		Containers: map[string]*observe.ContainerState{"app": {Censored: killed, Restarts: map[observe.Cause]int{observe.CauseLiveness: 4}}},
		Revisions: []*observe.RevisionState{{Hash: "r1", FirstSeen: stepNow.Add(-time.Hour), PodSeconds: 3600, NotReadySeconds: 3600,
			Containers: map[string]*observe.RevisionContainer{"app": {Restarts: map[observe.Cause]int{observe.CauseLiveness: 4}, KillsBeforeReady: 4}}}},
	}}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "cache", Annotations: map[string]string{}},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "cache:1",
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
				PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3},
		}}}}},
	}
	return st, d
}

func resolved(t *testing.T, mode tuningv1alpha1.Mode) policy.Settings {
	t.Helper()
	s, err := policy.Resolve(tuningv1alpha1.ProbePolicySpec{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func lookAt(d *appsv1.Deployment) WorkloadLook {
	return WorkloadLook{Observe: observe.Input{Revision: "r1", Now: stepNow}, Deployment: d}
}

func annotate(t *testing.T, d *appsv1.Deployment, key string, v any) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	d.Annotations[key] = string(raw)
}

// ownsLivenessTimeout records on the Deployment that probe-tuner wrote the liveness timeoutSeconds 1.
func ownsLivenessTimeout(t *testing.T, d *appsv1.Deployment) {
	annotate(t, d, apply.AnnotationManaged, apply.Owned{"app": {probes.Liveness: {Fields: map[probes.Field]int32{"timeoutSeconds": 1}}}})
}

var livenessTimeout = probes.FieldRef{Container: "app", Probe: probes.Liveness, Field: "timeoutSeconds"}

// decisionOfTheLook is the ID of the decision a plain look at slowStarter makes.
func decisionOfTheLook(t *testing.T) string {
	st, d := slowStarter()
	out, err := StepWorkload(st, lookAt(d), resolved(t, tuningv1alpha1.ModeAuto), observe.DefaultConfig())
	if err != nil || !out.Write || out.Action.ID == "" {
		t.Fatalf("a look at the slow starter: %+v (%v), want a write", out.Action, err)
	}
	return out.Action.ID
}

func kinds(out Outcome) []RecordKind {
	var ks []RecordKind
	for _, r := range out.Records {
		ks = append(ks, r.Kind)
	}
	return ks
}

func TestStepWorkload(t *testing.T) {
	cases := []struct {
		name    string
		mode    tuningv1alpha1.Mode
		edit    func(*testing.T, *WorkloadState, *appsv1.Deployment)
		write   bool
		records []RecordKind
		applied int
		check   func(*testing.T, *WorkloadState, Outcome)
	}{
		{name: "a change backed by evidence is to be written", write: true},
		{
			name: "Recommend mode records the recommendation", mode: tuningv1alpha1.ModeRecommend, records: []RecordKind{RecordRecommended},
			check: func(t *testing.T, _ *WorkloadState, out Outcome) {
				if r := out.Records[0]; !strings.Contains(r.Reason, "Recommend") || len(r.Decisions) == 0 || r.Decisions[0].Action != "Recommended" {
					t.Errorf("record = %+v, want Recommended decisions that say why they were not applied", r)
				}
			},
		},
		{
			name: "a hand edit of an owned field is frozen and recorded", write: true, records: []RecordKind{RecordOverride},
			edit: func(t *testing.T, _ *WorkloadState, d *appsv1.Deployment) {
				ownsLivenessTimeout(t, d)
				d.Spec.Template.Spec.Containers[0].LivenessProbe.TimeoutSeconds = 2
			},
			check: func(t *testing.T, st *WorkloadState, out Outcome) {
				if len(st.Frozen) != 1 || st.Frozen[0] != livenessTimeout || out.Records[0].Decisions[0].Action != "Skipped" || !out.Changed {
					t.Errorf("frozen %+v, records %+v", st.Frozen, out.Records)
				}
			},
		},
		{
			name: "a hand edit known before is not recorded again", write: true,
			edit: func(t *testing.T, st *WorkloadState, d *appsv1.Deployment) {
				ownsLivenessTimeout(t, d)
				d.Spec.Template.Spec.Containers[0].LivenessProbe.TimeoutSeconds = 2
				st.Frozen = []probes.FieldRef{livenessTimeout}
			},
		},
		{
			name: "a change written but not recorded is adopted and counted, not written again", records: []RecordKind{RecordAdopted}, applied: 1,
			edit: func(t *testing.T, _ *WorkloadState, d *appsv1.Deployment) {
				d.Spec.Template.Spec.Containers[0].LivenessProbe.FailureThreshold = 6 // what the change wrote
				annotate(t, d, apply.AnnotationLastChange, apply.LastChange{ID: "d-earlier", Time: stepNow.Add(-time.Minute), Action: "Apply", FromRevision: "r0",
					Changes: []probes.Change{{Container: "app", Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 6}}})
			},
			check: func(t *testing.T, st *WorkloadState, out Outcome) {
				if st.LastChange == nil || st.LastChange.ID != "d-earlier" || out.Records[0].Decisions[0].Action != "Applied" {
					t.Errorf("last change %+v, records %+v", st.LastChange, out.Records)
				}
			},
		},
		{
			// The fixture's state counts nothing (an earlier release's checkpoint): the record gives its one change.
			name: "the revert of the last change, once written, is not adopted again", applied: 1,
			edit: func(t *testing.T, st *WorkloadState, d *appsv1.Deployment) {
				st.LastChange = &ChangeRecord{ID: "d-1", Time: stepNow.Add(-30 * time.Minute), FromRevision: "r0", Reverted: true}
				annotate(t, d, apply.AnnotationLastChange, apply.LastChange{ID: "d-1" + revertSuffix, Time: stepNow.Add(-5 * time.Minute), Action: "Revert",
					Changes: []probes.Change{{Container: "app", Probe: probes.Liveness, Field: "failureThreshold", From: 6, To: 3}}})
			},
			write: true,
			check: func(t *testing.T, st *WorkloadState, _ Outcome) {
				if st.LastChange.ID != "d-1" {
					t.Errorf("last change = %+v: adopting the revert again would restart the cooldown and record it twice", st.LastChange)
				}
			},
		},
		{
			name: "an unreadable last change is reported and ignored", write: true,
			edit: func(_ *testing.T, _ *WorkloadState, d *appsv1.Deployment) {
				d.Annotations[apply.AnnotationLastChange] = "{"
			},
			check: func(t *testing.T, _ *WorkloadState, out Outcome) {
				if len(out.Rejected) != 1 || out.Rejected[0].Annotation != apply.AnnotationLastChange || !out.Rejected[0].New ||
					!strings.Contains(out.Rejected[0].Message, "not valid JSON") {
					t.Errorf("rejected = %+v, want the annotation named, reported as new", out.Rejected)
				}
			},
		},
		{
			name: "the last change decided again before its revision showed is not written twice",
			edit: func(t *testing.T, st *WorkloadState, _ *appsv1.Deployment) {
				st.LastChange = &ChangeRecord{ID: decisionOfTheLook(t), Time: stepNow.Add(-time.Hour), FromRevision: "r1", Verified: true}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, d := slowStarter()
			if tc.edit != nil {
				tc.edit(t, st, d)
			}
			mode := tc.mode
			if mode == "" {
				mode = tuningv1alpha1.ModeAuto
			}
			before := d.DeepCopy()
			out, err := StepWorkload(st, lookAt(d), resolved(t, mode), observe.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			if !apiequality.Semantic.DeepEqual(d, before) {
				// The manager hands the step the cache's own object (controllers/cache.go): a change would corrupt it.
				t.Errorf("the step modified the Deployment it looked at:\n%s", diff.Diff(before, d))
			}
			if out.Write != tc.write {
				t.Errorf("write = %v (%s: %s), want %v", out.Write, out.Action.Kind, out.Action.Reason, tc.write)
			}
			if got := kinds(out); strings.Join(toStrings(got), ",") != strings.Join(toStrings(tc.records), ",") {
				t.Fatalf("records %v, want %v", got, tc.records)
			}
			if st.ChangesApplied != int64(tc.applied) {
				t.Errorf("changes applied = %d, want %d", st.ChangesApplied, tc.applied)
			}
			if tc.check != nil {
				tc.check(t, st, out)
			}
		})
	}
}

func TestStepWorkloadRefusesUnreadableOwnedFields(t *testing.T) {
	st, d := slowStarter()
	d.Annotations[apply.AnnotationManaged] = "not json"
	if _, err := StepWorkload(st, lookAt(d), resolved(t, tuningv1alpha1.ModeAuto), observe.DefaultConfig()); err == nil {
		t.Error("want an error: without knowing what probe-tuner owns, nothing can be written safely")
	}
}

func toStrings(ks []RecordKind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

func TestPrepareWrite(t *testing.T) {
	cases := []struct {
		name    string
		fresh   func(*testing.T, *appsv1.Deployment)
		written bool
		records []RecordKind
		applied int
	}{
		{name: "an unchanged Deployment is written", written: true, records: []RecordKind{RecordApplied}, applied: 1},
		{
			name: "a hand edit since the look wins", records: []RecordKind{RecordOverride},
			fresh: func(_ *testing.T, d *appsv1.Deployment) {
				d.Spec.Template.Spec.Containers[0].LivenessProbe.TimeoutSeconds = 3
			},
		},
		{
			name: "another writer's change since the look wins and is counted by its writer", records: []RecordKind{RecordAdopted},
			fresh: func(t *testing.T, d *appsv1.Deployment) {
				d.Spec.Template.Spec.Containers[0].LivenessProbe.FailureThreshold = 6
				annotate(t, d, apply.AnnotationLastChange, apply.LastChange{ID: "other-replica", Time: stepNow.Add(-time.Second), Action: "Apply",
					Changes: []probes.Change{{Container: "app", Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 6}}})
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, d := slowStarter()
			ownsLivenessTimeout(t, d)
			out, err := StepWorkload(st, lookAt(d), resolved(t, tuningv1alpha1.ModeAuto), observe.DefaultConfig())
			if err != nil || !out.Write {
				t.Fatalf("look: write %v, error %v", out.Write, err)
			}
			fresh := d.DeepCopy()
			if tc.fresh != nil {
				tc.fresh(t, fresh)
			}
			req, err := PrepareWrite(st, &out, fresh, "caches")
			if err != nil {
				t.Fatal(err)
			}
			if (req != nil) != tc.written {
				t.Fatalf("request %v, want one: %v", req, tc.written)
			}
			if req != nil {
				if req.LastChange.ID != out.Action.ID || req.LastChange.Policy != "caches" || req.LastChange.FromRevision != "r1" || req.Owned["app"][probes.Liveness] == nil {
					t.Errorf("request %+v: want the decision, policy, revision and the fields owned before", req.LastChange)
				}
				Written(st, &out)
			}
			if got := kinds(out); strings.Join(toStrings(got), ",") != strings.Join(toStrings(tc.records), ",") {
				t.Fatalf("records %v, want %v", got, tc.records)
			}
			if st.ChangesApplied != int64(tc.applied) || out.Write {
				t.Errorf("applied %d, write still pending %v; want %d and none", st.ChangesApplied, out.Write, tc.applied)
			}
		})
	}
}

// TestAWrittenChangeReadsBackAsKnown writes a look's change the way the operator does (apply.Build) and looks
// again at the Deployment as the API server then shows it: the change must neither look like a hand edit nor be
// adopted as someone else's.
func TestAWrittenChangeReadsBackAsKnown(t *testing.T) {
	st, d := slowStarter()
	s := resolved(t, tuningv1alpha1.ModeAuto)
	out, err := StepWorkload(st, lookAt(d), s, observe.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	req, obj := buildWrite(t, st, &out, d, "caches")
	Written(st, &out)

	after := withAnnotationsOf(d, obj)
	c := &after.Spec.Template.Spec.Containers[0]
	set := req.Desired["app"]
	c.StartupProbe, c.LivenessProbe, c.ReadinessProbe = set.Startup, set.Liveness, set.Readiness
	next := lookAt(after)
	next.Observe.Now, next.Observe.Revision, next.RolloutInProgress = stepNow.Add(15*time.Second), "r2", true
	again, err := StepWorkload(st, next, s, observe.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Records) != 0 || again.Write || len(again.Rejected) != 0 {
		t.Errorf("the look after the write: records %v, write %v, rejected %+v; want nothing new", kinds(again), again.Write, again.Rejected)
	}
}

// TestRevertIDConvention ties known() to the ID verify gives a revert: if they drift apart, every written revert
// is adopted again on the next look.
func TestRevertIDConvention(t *testing.T) {
	st, d := slowStarter()
	change := probes.Change{Container: "app", Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 6, Reason: recommend.ReasonLivenessTransient}
	st.Observation.Revisions = append(st.Observation.Revisions, &observe.RevisionState{Hash: "r2", FirstSeen: stepNow.Add(-time.Hour), PodSeconds: 3600,
		NotReadySeconds: 3600, ServiceSeconds: 3600, ServiceNotReadySeconds: 3600,
		Containers: map[string]*observe.RevisionContainer{"app": {Restarts: map[observe.Cause]int{observe.CauseLiveness: 6}}}})
	st.LastChange = &ChangeRecord{ID: "d-1", Time: stepNow.Add(-time.Hour), FromRevision: "r1", SettledAt: stepNow.Add(-50 * time.Minute), Changes: []probes.Change{change}}
	f := Facts{Name: d.Name, Revision: "r2", Containers: containersOf(d)}
	act := Decide(st, f, resolved(t, tuningv1alpha1.ModeAuto), observe.DefaultConfig(), stepNow)
	if act.Kind != Revert {
		t.Fatalf("action = %s (%s), want a revert of a change after which restarts did not fall", act.Kind, act.Reason)
	}
	Applied(st, act, "r2", stepNow)
	annotate(t, d, apply.AnnotationLastChange, apply.LastChange{ID: act.ID, Time: stepNow, Action: apply.ActionRevert, Changes: act.Changes})
	if adopted, good, rejected := adoptLastChange(st, d, stepNow, ""); adopted != nil || good == nil || len(rejected) != 0 {
		t.Errorf("revert ID %q is not recognised as the revert of %q (adopted %+v, rejected %+v)", act.ID, st.LastChange.ID, adopted, rejected)
	}
}

// TestAHandEditOutlivesALostCheckpoint: a field a person took over is recorded as released on the Deployment with
// the next write, so that a state without it (checkpoint lost) keeps it frozen and does not report it again.
func TestAHandEditOutlivesALostCheckpoint(t *testing.T) {
	st, d := slowStarter()
	ownsLivenessTimeout(t, d)
	d.Spec.Template.Spec.Containers[0].LivenessProbe.TimeoutSeconds = 2 // a person's edit
	s := resolved(t, tuningv1alpha1.ModeAuto)
	out, err := StepWorkload(st, lookAt(d), s, observe.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(out); len(got) != 1 || got[0] != RecordOverride || !out.Write {
		t.Fatalf("first look: records %v, write %v; want the override recorded and the startup probe written", got, out.Write)
	}
	req, obj := buildWrite(t, st, &out, d, "caches")
	after := withAnnotationsOf(d, obj)
	c := &after.Spec.Template.Spec.Containers[0]
	set := req.Desired["app"]
	c.StartupProbe, c.LivenessProbe, c.ReadinessProbe = set.Startup, set.Liveness, set.Readiness
	if c.LivenessProbe.TimeoutSeconds != 2 {
		t.Fatalf("the write set the liveness timeout to %d, the person's 2 must stay", c.LivenessProbe.TimeoutSeconds)
	}

	lost, _ := slowStarter() // the checkpoint is gone: only what the Deployment records is left
	next := lookAt(after)
	next.Observe.Now, next.Observe.Revision = stepNow.Add(time.Minute), "r2"
	again, err := StepWorkload(lost, next, s, observe.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds(again) {
		if k == RecordOverride {
			t.Errorf("the override is reported again after the checkpoint was lost: records %v", kinds(again))
		}
	}
	if !slices.Contains(lost.Frozen, livenessTimeout) {
		t.Errorf("frozen after the loss = %+v, want the liveness timeout the person set", lost.Frozen)
	}
}

// buildWrite prepares the write of out and builds its apply object.
func buildWrite(t *testing.T, st *WorkloadState, out *Outcome, d *appsv1.Deployment, policy string) (*apply.Request, *unstructured.Unstructured) {
	t.Helper()
	req, err := PrepareWrite(st, out, d, policy)
	if err != nil || req == nil {
		t.Fatalf("request %v, error %v", req, err)
	}
	obj, _, err := apply.Build(*req)
	if err != nil {
		t.Fatal(err)
	}
	return req, obj
}

// withAnnotationsOf is a copy of d carrying the annotations the apply object writes.
func withAnnotationsOf(d *appsv1.Deployment, obj *unstructured.Unstructured) *appsv1.Deployment {
	after := d.DeepCopy()
	for k, v := range obj.GetAnnotations() {
		after.Annotations[k] = v
	}
	return after
}
