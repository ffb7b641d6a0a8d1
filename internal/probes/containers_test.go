package probes

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestTunableContainers(t *testing.T) {
	always, never := corev1.ContainerRestartPolicyAlways, corev1.ContainerRestartPolicy("Never")
	spec := &corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "setup"}, {Name: "proxy", RestartPolicy: &always}, {Name: "once", RestartPolicy: &never}, {Name: "logs", RestartPolicy: &always}},
		Containers:     []corev1.Container{{Name: "app"}, {Name: "metrics"}},
	}
	var names []string
	for _, c := range Tunable(spec) {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "app metrics proxy logs" {
		t.Errorf("Tunable = %s, want the app containers, then the native sidecars in init order", got)
	}
	for _, tc := range []struct {
		name    string
		found   bool
		sidecar bool
	}{
		{"app", true, false},
		{"proxy", true, true},
		{"setup", false, false}, // a plain init container is never tuned
		{"once", false, false},  // nor one with another restart policy
		{"missing", false, false},
	} {
		c, sidecar := FindTunable(spec, tc.name)
		if (c != nil) != tc.found || sidecar != tc.sidecar || (c != nil && c.Name != tc.name) {
			t.Errorf("FindTunable(%s) = %v, %v; want found %v, sidecar %v", tc.name, c, sidecar, tc.found, tc.sidecar)
		}
	}
	if c, _ := FindTunable(spec, "proxy"); c != &spec.InitContainers[1] {
		t.Error("FindTunable does not point into the spec")
	}
}
