package tuner

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// withInitContainers turns slowStarter's Deployment into one whose pods run a plain init container "setup" and
// then a native sidecar "proxy" with the app's probes, and moves the observations of the slow start from "app"
// to the container named slow.
func withInitContainers(st *WorkloadState, d *appsv1.Deployment, slow string) {
	always := corev1.ContainerRestartPolicyAlways
	app := &d.Spec.Template.Spec.Containers[0]
	d.Spec.Template.Spec.InitContainers = []corev1.Container{
		{Name: "setup", Image: "setup:1"},
		{Name: "proxy", Image: "proxy:1", RestartPolicy: &always, LivenessProbe: app.LivenessProbe.DeepCopy()},
	}
	obs := &st.Observation
	obs.Containers[slow], obs.Revisions[0].Containers[slow] = obs.Containers["app"], obs.Revisions[0].Containers["app"]
	delete(obs.Containers, "app")
	delete(obs.Revisions[0].Containers, "app")
}

// TestStepWorkloadWithInitContainers: a native sidecar is tuned like an app container and its change is written
// under the init containers; a plain init container is never a candidate, whatever was observed under its name.
func TestStepWorkloadWithInitContainers(t *testing.T) {
	cases := []struct {
		name  string
		slow  string // the container whose starts were killed
		write bool
	}{
		{name: "a sidecar's killed starts get it a startup probe", slow: "proxy", write: true},
		{name: "starts seen under a plain init container's name change nothing", slow: "setup"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, d := slowStarter()
			withInitContainers(st, d, tc.slow)
			s := resolved(t, tuningv1alpha1.ModeAuto)
			out, err := StepWorkload(st, lookAt(d), s, observe.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range out.Action.Changes {
				if ch.Container != "proxy" {
					t.Errorf("change %+v: only the sidecar had a problem", ch)
				}
			}
			if out.Write != tc.write {
				t.Fatalf("write %v, want %v (action %s: %s)", out.Write, tc.write, out.Action.Kind, out.Action.Reason)
			}
			if !tc.write {
				return
			}
			if ch := out.Action.Changes[0]; ch.Probe != probes.Startup {
				t.Errorf("change %+v, want the sidecar's startup probe", ch)
			}
			req, obj := buildWrite(t, st, &out, d, "mesh")
			inits, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "initContainers")
			if len(inits) != 1 || inits[0].(map[string]any)["name"] != "proxy" || inits[0].(map[string]any)["startupProbe"] == nil {
				t.Errorf("initContainers of the apply = %v, want proxy's startup probe", inits)
			}
			Written(st, &out)

			// Read back as the API server shows it: the sidecar's new probe is probe-tuner's own, no hand edit.
			after := withAnnotationsOf(d, obj)
			set := req.Desired["proxy"]
			proxy := &after.Spec.Template.Spec.InitContainers[1]
			proxy.StartupProbe, proxy.LivenessProbe = set.Startup, set.Liveness
			next := lookAt(after)
			next.Observe.Now, next.Observe.Revision, next.RolloutInProgress = stepNow.Add(15*time.Second), "r2", true
			again, err := StepWorkload(st, next, s, observe.DefaultConfig())
			if err != nil || len(again.Records) != 0 || again.Write {
				t.Errorf("the look after the write: records %v, write %v, error %v; want nothing new", kinds(again), again.Write, err)
			}
		})
	}
}
