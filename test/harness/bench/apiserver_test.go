package bench

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/test/harness/sim"
)

func httpProbe(period, failure int32) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
		PeriodSeconds: period, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: failure}
}

// TestServerSideApplyWritesTheDesiredProbes checks the benchmark's stand-in for the API server: applying what
// apply.Build makes of a change gives the container exactly the probes the change wants, and the annotations
// the operator writes.
func TestServerSideApplyWritesTheDesiredProbes(t *testing.T) {
	startup := httpProbe(5, 12)
	cases := []struct {
		name string
		// sidecar puts the probes and the changes on the native sidecar "proxy" instead of the app container.
		sidecar bool
		current probes.Set
		owned   apply.Owned
		changes []probes.Change
		desired probes.Set
	}{
		{
			name:    "a startup probe added, the liveness delay dropped",
			current: probes.Set{Liveness: func() *corev1.Probe { p := httpProbe(10, 3); p.InitialDelaySeconds = 5; return p }()},
			changes: []probes.Change{{Container: "app", Probe: probes.Startup, Field: probes.WholeProbe, To: 1},
				{Container: "app", Probe: probes.Liveness, Field: "initialDelaySeconds", From: 5, To: 0}},
			desired: probes.Set{Startup: startup, Liveness: httpProbe(10, 3)},
		},
		{
			name:    "one field raised, a field released to a person left as they set it",
			current: probes.Set{Liveness: func() *corev1.Probe { p := httpProbe(10, 3); p.TimeoutSeconds = 4; return p }()},
			owned:   apply.Owned{"app": {probes.Liveness: {Fields: map[probes.Field]int32{}}}},
			changes: []probes.Change{{Container: "app", Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 6}},
			desired: probes.Set{Liveness: func() *corev1.Probe { p := httpProbe(10, 6); p.TimeoutSeconds = 4; return p }()},
		},
		{
			name:    "an added probe removed again",
			current: probes.Set{Startup: startup, Liveness: httpProbe(10, 3)},
			owned: apply.Owned{"app": {probes.Startup: {Whole: true, Fields: map[probes.Field]int32{
				"initialDelaySeconds": 0, "periodSeconds": 5, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 12}}}},
			changes: []probes.Change{{Container: "app", Probe: probes.Startup, Field: probes.WholeProbe, From: 1, To: 0}},
			desired: probes.Set{Liveness: httpProbe(10, 3)},
		},
		{
			name: "a native sidecar's startup probe added, next to a plain init container", sidecar: true,
			current: probes.Set{Liveness: httpProbe(10, 3)},
			changes: []probes.Change{{Container: "proxy", Probe: probes.Startup, Field: probes.WholeProbe, To: 1}},
			desired: probes.Set{Startup: startup, Liveness: httpProbe(10, 3)},
		},
		{
			name: "a native sidecar's liveness threshold raised", sidecar: true,
			current: probes.Set{Liveness: httpProbe(10, 3)},
			changes: []probes.Change{{Container: "proxy", Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 6}},
			desired: probes.Set{Liveness: httpProbe(10, 6)},
		},
	}
	always := corev1.ContainerRestartPolicyAlways
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "cache", Namespace: "shop"},
				Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{{Name: "setup", Image: "setup:1"}, {Name: "proxy", Image: "proxy:1", RestartPolicy: &always}},
					Containers: []corev1.Container{
						{Name: "app", Image: "cache:1"},
						{Name: "sidecar", Image: "proxy:1", LivenessProbe: httpProbe(10, 3)},
					}}}}}
			target, name := &d.Spec.Template.Spec.Containers[0], "app"
			if tc.sidecar {
				target, name = &d.Spec.Template.Spec.InitContainers[1], "proxy"
			}
			target.StartupProbe, target.LivenessProbe = tc.current.Startup.DeepCopy(), tc.current.Liveness.DeepCopy()
			owned := tc.owned
			if owned == nil {
				owned = apply.Owned{}
			}
			req := apply.Request{Deployment: d, Owned: owned, Changes: tc.changes, Desired: map[string]probes.Set{name: tc.desired},
				LastChange: apply.LastChange{ID: "d-1", Action: "Apply"}}
			obj, after, err := apply.Build(req)
			if err != nil {
				t.Fatal(err)
			}
			tmpl, err := serverSideApply(d, obj, owned, after)
			if err != nil {
				t.Fatal(err)
			}
			want := d.Spec.Template.DeepCopy()
			wc, _ := probes.FindTunable(&want.Spec, name)
			wc.StartupProbe, wc.LivenessProbe = tc.desired.Startup.DeepCopy(), tc.desired.Liveness.DeepCopy()
			sim.ApplyDefaults(&tmpl.Spec)
			sim.ApplyDefaults(&want.Spec)
			if !equality.Semantic.DeepEqual(tmpl, *want) {
				t.Errorf("template after the apply:\n%+v %+v\nwant\n%+v %+v", tmpl.Spec.InitContainers, tmpl.Spec.Containers, want.Spec.InitContainers, want.Spec.Containers)
			}
			for _, k := range []string{apply.AnnotationManaged, apply.AnnotationLastChange, apply.AnnotationPrevious} {
				if d.Annotations[k] == "" {
					t.Errorf("annotation %s not written", k)
				}
			}
		})
	}
}
