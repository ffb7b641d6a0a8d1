package apply

import (
	"encoding/json"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/probetuner/probe-tuner/internal/probes"
)

func httpProbe(path string, period, failure int32) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(8080)}},
		PeriodSeconds: period, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: failure}
}

func testDeployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "cache", Namespace: "shop", ResourceVersion: "42"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "app", Image: "cache:1", LivenessProbe: httpProbe("/healthz", 10, 3), ReadinessProbe: httpProbe("/ready", 10, 3)},
			{Name: "sidecar", Image: "proxy:1"},
		}}}},
	}
}

func containersOf(t *testing.T, u *unstructured.Unstructured) []any {
	t.Helper()
	cs, found, err := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	if err != nil || !found {
		t.Fatalf("no containers in %v (%v)", u.Object, err)
	}
	return cs
}

func TestBuildAddsAWholeStartupProbeAndOnlyOwnedFields(t *testing.T) {
	d := testDeployment()
	startup := httpProbe("/healthz", 5, 12)
	u, owned, err := Build(Request{
		Deployment: d, Owned: Owned{},
		Changes:    []probes.Change{{Container: "app", Probe: probes.Startup, Field: probes.WholeProbe, To: 1}},
		Desired:    map[string]probes.Set{"app": {Startup: startup, Liveness: d.Spec.Template.Spec.Containers[0].LivenessProbe}},
		LastChange: LastChange{ID: "d-1", Policy: "auto"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rv := u.GetResourceVersion(); rv != "" {
		t.Errorf("resourceVersion = %q: status updates bump it constantly; field ownership, not a precondition, protects others' edits", rv)
	}
	cs := containersOf(t, u)
	if len(cs) != 1 {
		t.Fatalf("containers = %v, want only app", cs)
	}
	c := cs[0].(map[string]any)
	if _, ok := c["image"]; ok {
		t.Error("the apply names the image: probe-tuner must own nothing but probe fields")
	}
	if _, ok := c["livenessProbe"]; ok {
		t.Error("the apply names the liveness probe, which probe-tuner does not own")
	}
	sp := c["startupProbe"].(map[string]any)
	if sp["failureThreshold"] != int64(12) || sp["periodSeconds"] != int64(5) || sp["httpGet"] == nil {
		t.Errorf("startupProbe = %v, want the whole probe", sp)
	}
	if !owned["app"][probes.Startup].Whole {
		t.Error("the added probe is not recorded as wholly owned")
	}
	var recorded Owned
	ann := u.GetAnnotations()
	if err := json.Unmarshal([]byte(ann[AnnotationManaged]), &recorded); err != nil || !recorded["app"][probes.Startup].Whole {
		t.Errorf("annotation %s = %q (%v)", AnnotationManaged, ann[AnnotationManaged], err)
	}
	if ann[AnnotationPrevious] == "" || ann[AnnotationLastChange] == "" {
		t.Error("previous probes and last change must be recorded on the Deployment")
	}
}

func TestBuildKeepsPreviouslyOwnedFields(t *testing.T) {
	d := testDeployment()
	d.Spec.Template.Spec.Containers[0].ReadinessProbe.FailureThreshold = 6
	owned := Owned{"app": {probes.Readiness: {Fields: map[probes.Field]int32{"failureThreshold": 6}}}}
	desired := d.Spec.Template.Spec.Containers[0].LivenessProbe.DeepCopy()
	desired.FailureThreshold = 5
	u, after, err := Build(Request{
		Deployment: d, Owned: owned,
		Changes: []probes.Change{{Container: "app", Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 5}},
		Desired: map[string]probes.Set{"app": {Liveness: desired, Readiness: d.Spec.Template.Spec.Containers[0].ReadinessProbe}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := containersOf(t, u)[0].(map[string]any)
	rp, lp := c["readinessProbe"].(map[string]any), c["livenessProbe"].(map[string]any)
	if len(rp) != 1 || rp["failureThreshold"] != int64(6) {
		t.Errorf("readinessProbe = %v: a field owned before must be applied again or server-side apply removes it", rp)
	}
	if len(lp) != 1 || lp["failureThreshold"] != int64(5) {
		t.Errorf("livenessProbe = %v, want only failureThreshold 5", lp)
	}
	if after["app"][probes.Liveness].Fields["failureThreshold"] != 5 {
		t.Errorf("owned after = %+v", after["app"][probes.Liveness])
	}
}

func TestRevertRemovesAnAddedProbe(t *testing.T) {
	d := testDeployment()
	d.Spec.Template.Spec.Containers[0].StartupProbe = httpProbe("/healthz", 5, 12)
	owned := Owned{"app": {probes.Startup: {Whole: true, Fields: map[probes.Field]int32{"failureThreshold": 12, "periodSeconds": 5}}}}
	u, after, err := Build(Request{Deployment: d, Owned: owned,
		Changes: []probes.Change{{Container: "app", Probe: probes.Startup, Field: probes.WholeProbe, From: 1, To: 0}},
		Desired: map[string]probes.Set{"app": {}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(after["app"]) != 0 {
		t.Errorf("owned after revert = %+v, want nothing", after["app"])
	}
	if cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers"); len(cs) != 0 {
		t.Errorf("containers = %v: omitting the probe is how server-side apply removes it", cs)
	}
}

func TestOverridesFindHandEdits(t *testing.T) {
	d := testDeployment()
	owned := Owned{"app": {
		probes.Readiness: {Fields: map[probes.Field]int32{"failureThreshold": 6}},
		probes.Liveness:  {Fields: map[probes.Field]int32{"failureThreshold": 3}},
		probes.Startup:   {Whole: true, Fields: map[probes.Field]int32{"failureThreshold": 12}},
	}}
	got := Overrides(owned, d)
	want := []probes.FieldRef{
		{Container: "app", Probe: probes.Startup, Field: probes.WholeProbe},
		{Container: "app", Probe: probes.Readiness, Field: "failureThreshold"},
	}
	if len(got) != len(want) {
		t.Fatalf("overrides = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("override %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	owned.Release(got)
	if st := owned["app"][probes.Startup]; st.Whole || len(st.Fields) > 0 {
		t.Errorf("a removed probe is still owned after Release: %+v", st)
	}
	if _, ok := owned["app"][probes.Readiness].Fields["failureThreshold"]; ok {
		t.Error("an overridden field is still owned after Release")
	}
	if again := Overrides(owned, d); len(again) != 0 {
		t.Errorf("overrides after Release = %+v, want none: released fields are the person's", again)
	}
}

// A release travels with the next apply: read back from the Deployment (a lost checkpoint), the fields are known
// as released and are not overrides again; changing one of them makes it owned again.
func TestReleasedFieldsSurviveOnTheDeployment(t *testing.T) {
	d := testDeployment()
	d.Spec.Template.Spec.Containers[0].ReadinessProbe.FailureThreshold = 9 // a person's edit
	owned := Owned{"app": {
		probes.Readiness: {Fields: map[probes.Field]int32{"failureThreshold": 6}},
		probes.Liveness:  {Fields: map[probes.Field]int32{"failureThreshold": 3}},
		probes.Startup:   {Whole: true, Fields: map[probes.Field]int32{"failureThreshold": 12}}, // removed by the person
	}}
	found := Overrides(owned, d)
	owned.Release(found)
	_, after, err := Build(Request{Deployment: d, Owned: owned,
		Changes: []probes.Change{{Container: "app", Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 5}},
		Desired: map[string]probes.Set{"app": {Liveness: httpProbe("/healthz", 10, 5)}}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(after)
	if err != nil {
		t.Fatal(err)
	}
	d.Annotations = map[string]string{AnnotationManaged: string(raw)}
	d.Spec.Template.Spec.Containers[0].LivenessProbe.FailureThreshold = 5 // the apply landed
	read, err := ReadOwned(d)
	if err != nil {
		t.Fatal(err)
	}
	if again := Overrides(read, d); len(again) != 0 {
		t.Errorf("overrides read back = %+v, want none", again)
	}
	want := []probes.FieldRef{
		{Container: "app", Probe: probes.Startup, Field: probes.WholeProbe},
		{Container: "app", Probe: probes.Readiness, Field: "failureThreshold"},
	}
	if got := read.ReleasedRefs(d); !slices.Equal(got, want) {
		t.Errorf("released read back = %+v, want %+v", got, want)
	}
	_, taken, err := Build(Request{Deployment: d, Owned: read,
		Changes: []probes.Change{{Container: "app", Probe: probes.Readiness, Field: "failureThreshold", From: 9, To: 4}},
		Desired: map[string]probes.Set{"app": {Readiness: httpProbe("/ready", 10, 4)}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := taken.ReleasedRefs(d); len(got) != 1 || got[0].Probe != probes.Startup {
		t.Errorf("released after probe-tuner changed the readiness field = %+v, want only the startup probe", got)
	}
}

// sidecarDeployment is testDeployment with a plain init container "setup" and a native sidecar "proxy" whose
// liveness probe is 10 s x 3.
func sidecarDeployment() *appsv1.Deployment {
	d := testDeployment()
	always := corev1.ContainerRestartPolicyAlways
	d.Spec.Template.Spec.InitContainers = []corev1.Container{
		{Name: "setup", Image: "setup:1"},
		{Name: "proxy", Image: "proxy:1", RestartPolicy: &always, LivenessProbe: httpProbe("/healthz/ready", 10, 3)},
	}
	return d
}

func TestBuildWritesASidecarUnderInitContainers(t *testing.T) {
	d := sidecarDeployment()
	d.Spec.Template.Spec.Containers[0].ReadinessProbe.FailureThreshold = 6
	owned := Owned{"app": {probes.Readiness: {Fields: map[probes.Field]int32{"failureThreshold": 6}}}}
	desired := d.Spec.Template.Spec.InitContainers[1].LivenessProbe.DeepCopy()
	desired.FailureThreshold = 6
	u, after, err := Build(Request{Deployment: d, Owned: owned,
		Changes: []probes.Change{{Container: "proxy", Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 6}},
		Desired: map[string]probes.Set{"proxy": {Liveness: desired}}})
	if err != nil {
		t.Fatal(err)
	}
	inits, found, err := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "initContainers")
	if err != nil || !found || len(inits) != 1 {
		t.Fatalf("initContainers = %v (%v), want the sidecar only", inits, err)
	}
	proxy := inits[0].(map[string]any)
	if lp, _ := proxy["livenessProbe"].(map[string]any); proxy["name"] != "proxy" || len(proxy) != 2 || len(lp) != 1 || lp["failureThreshold"] != int64(6) {
		t.Errorf("sidecar entry = %v, want its name and livenessProbe.failureThreshold 6 only", proxy)
	}
	if cs := containersOf(t, u); len(cs) != 1 || cs[0].(map[string]any)["name"] != "app" {
		t.Errorf("containers = %v, want app (its owned readiness field) only", cs)
	}
	if after["proxy"][probes.Liveness].Fields["failureThreshold"] != 6 {
		t.Errorf("owned after = %+v", after["proxy"])
	}
	var previous map[string]map[probes.Kind]*corev1.Probe
	if err := json.Unmarshal([]byte(u.GetAnnotations()[AnnotationPrevious]), &previous); err != nil || previous["proxy"][probes.Liveness].FailureThreshold != 3 {
		t.Errorf("previous probes %v (%v), want the sidecar's liveness probe before the change", previous, err)
	}
}

func TestBuildNeverWritesAPlainInitContainer(t *testing.T) {
	appChange := probes.Change{Container: "app", Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 5}
	for _, tc := range []struct {
		name    string
		owned   Owned
		change  probes.Change
		wantErr bool
	}{
		{"a change to it is refused", Owned{}, probes.Change{Container: "setup", Probe: probes.Liveness, Field: probes.WholeProbe, To: 1}, true},
		{"fields owned on it are dropped, unwritten", Owned{"setup": {probes.Liveness: {Fields: map[probes.Field]int32{"failureThreshold": 6}}}}, appChange, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := sidecarDeployment()
			desired := d.Spec.Template.Spec.Containers[0].LivenessProbe.DeepCopy()
			desired.FailureThreshold = 5
			u, after, err := Build(Request{Deployment: d, Owned: tc.owned, Changes: []probes.Change{tc.change},
				Desired: map[string]probes.Set{"app": {Liveness: desired}, "setup": {Liveness: httpProbe("/", 10, 3)}}})
			if tc.wantErr {
				if err == nil {
					t.Errorf("Build of a change to a plain init container succeeded: %v", u.Object)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, found, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "initContainers"); found {
				t.Errorf("the apply names init containers: %v", u.Object)
			}
			if _, ok := after["setup"]; ok {
				t.Errorf("owned after = %+v, still owns the plain init container", after)
			}
		})
	}
}

func TestOverridesOfASidecar(t *testing.T) {
	d := sidecarDeployment()
	d.Spec.Template.Spec.InitContainers[1].LivenessProbe.FailureThreshold = 8 // a person's edit
	owned := Owned{"proxy": {probes.Liveness: {Fields: map[probes.Field]int32{"failureThreshold": 6, "periodSeconds": 10}}}}
	got := Overrides(owned, d)
	if want := (probes.FieldRef{Container: "proxy", Probe: probes.Liveness, Field: "failureThreshold"}); len(got) != 1 || got[0] != want {
		t.Errorf("overrides = %+v, want %+v", got, want)
	}
}
