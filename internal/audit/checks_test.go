package audit

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// httpGet is an HTTP probe of path on the port named http, with the given period and timeout.
func httpGet(path string, period, timeout int32) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http")}},
		PeriodSeconds: period, TimeoutSeconds: timeout}
}

// wellTuned is a container no check reports; each case below changes one thing of it.
func wellTuned() corev1.Container {
	return corev1.Container{Name: "app", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		ReadinessProbe: httpGet("/ready", 5, 2), LivenessProbe: httpGet("/healthz", 10, 2)}
}

func idsOf(spec corev1.PodSpec) []string {
	var ids []string
	for _, f := range Audit(Workload{Kind: "Deployment", Name: "web", Spec: spec}, defaultOptions) {
		ids = append(ids, f.ID)
	}
	return ids
}

// TestChecksAtTheirBoundaries: each check fires just past its bound and not at it.
func TestChecksAtTheirBoundaries(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(c *corev1.Container, spec *corev1.PodSpec)
		expect []string
	}{
		{"well tuned", func(*corev1.Container, *corev1.PodSpec) {}, nil},
		{"readiness timeout just below its period", func(c *corev1.Container, _ *corev1.PodSpec) { c.ReadinessProbe.TimeoutSeconds = 4 }, nil},
		{"readiness timeout above its period", func(c *corev1.Container, _ *corev1.PodSpec) { c.ReadinessProbe.TimeoutSeconds = 6 }, []string{ReadinessTimeoutPeriod}},
		{"readiness period defaulted to 10 with timeout 10", func(c *corev1.Container, _ *corev1.PodSpec) {
			c.ReadinessProbe.PeriodSeconds, c.ReadinessProbe.TimeoutSeconds = 0, 10
		}, []string{ReadinessTimeoutPeriod}},
		{"time to detect at the bound", func(c *corev1.Container, _ *corev1.PodSpec) { // 4 x 29 + 4 = 120
			c.LivenessProbe.FailureThreshold, c.LivenessProbe.PeriodSeconds, c.LivenessProbe.TimeoutSeconds = 4, 29, 4
		}, nil},
		{"time to detect one second above the bound", func(c *corev1.Container, _ *corev1.PodSpec) {
			c.LivenessProbe.FailureThreshold, c.LivenessProbe.PeriodSeconds, c.LivenessProbe.TimeoutSeconds = 4, 29, 5
		}, []string{SlowHangDetection}},
		{"liveness delay equal to the startup budget", func(c *corev1.Container, _ *corev1.PodSpec) {
			c.StartupProbe = httpGet("/healthz", 5, 2)
			c.StartupProbe.FailureThreshold = 12
			c.LivenessProbe.InitialDelaySeconds = 60
		}, nil},
		{"liveness delay past a defaulted startup budget", func(c *corev1.Container, _ *corev1.PodSpec) { // 3 x 10
			c.StartupProbe = httpGet("/healthz", 0, 2)
			c.LivenessProbe.InitialDelaySeconds = 31
		}, []string{LivenessDelayPastStart}},
		{"liveness period 2", func(c *corev1.Container, _ *corev1.PodSpec) { c.LivenessProbe.PeriodSeconds = 2 }, nil},
		{"shell exec with a 2 s timeout", func(c *corev1.Container, _ *corev1.PodSpec) {
			c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"sh", "-c", "test -f /ready"}}}, TimeoutSeconds: 2}
		}, nil},
		{"loopback liveness host without hostNetwork", func(c *corev1.Container, _ *corev1.PodSpec) { c.LivenessProbe.HTTPGet.Host = "127.0.0.1" }, []string{LivenessOtherHost}},
		{"loopback liveness host with hostNetwork", func(c *corev1.Container, spec *corev1.PodSpec) {
			c.LivenessProbe.HTTPGet.Host, spec.HostNetwork = "localhost", true
		}, nil},
		{"remote liveness host with hostNetwork", func(c *corev1.Container, spec *corev1.PodSpec) {
			c.LivenessProbe.HTTPGet.Host, spec.HostNetwork = "10.1.2.3", true
		}, []string{LivenessOtherHost}},
		{"a host on readiness only", func(c *corev1.Container, _ *corev1.PodSpec) { c.ReadinessProbe.HTTPGet.Host = "api.example.com" }, nil},
		{"TCP liveness on a container that does not serve HTTP", func(c *corev1.Container, _ *corev1.PodSpec) {
			c.Ports[0].Name = "redis"
			c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}}, PeriodSeconds: 5}
			c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("redis")}}}
		}, nil},
		{"gRPC probe on an undeclared port", func(c *corev1.Container, _ *corev1.PodSpec) {
			c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9090}}}
		}, []string{PortNotDeclared}},
		{"a negative initial delay", func(c *corev1.Container, _ *corev1.PodSpec) { c.ReadinessProbe.InitialDelaySeconds = -1 }, []string{InvalidProbe}},
		{"terminationGracePeriodSeconds on readiness", func(c *corev1.Container, _ *corev1.PodSpec) {
			c.ReadinessProbe.TerminationGracePeriodSeconds = ptr.To[int64](5)
		}, []string{InvalidProbe}},
		{"an init container that is a native sidecar without probes", func(_ *corev1.Container, spec *corev1.PodSpec) {
			spec.InitContainers = []corev1.Container{{Name: "proxy", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}}
		}, []string{ProbesMissing}},
		{"a plain init container without probes", func(_ *corev1.Container, spec *corev1.PodSpec) {
			spec.InitContainers = []corev1.Container{{Name: "migrate"}}
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := wellTuned()
			spec := corev1.PodSpec{}
			tc.edit(&c, &spec)
			spec.Containers = []corev1.Container{c}
			if got := idsOf(spec); !slices.Equal(got, tc.expect) {
				t.Errorf("check IDs %v, want %v", got, tc.expect)
			}
		})
	}
}

// TestChecksAreCatalogued: IDs are unique, in order, and every check has a name, a title and a severity.
func TestChecksAreCatalogued(t *testing.T) {
	for i, c := range Checks {
		if i > 0 && c.ID <= Checks[i-1].ID {
			t.Errorf("%s follows %s: the IDs must be unique and in order", c.ID, Checks[i-1].ID)
		}
		if c.Name == "" || c.Title == "" || c.Severity.Rank() == 0 || c.run == nil {
			t.Errorf("%s is incomplete: %+v", c.ID, c)
		}
	}
}

// TestEveryCheckIsDocumented: docs/audit.md has a section per check, which the SARIF help URIs point at, and
// gives it the check's severity.
func TestEveryCheckIsDocumented(t *testing.T) {
	data, err := os.ReadFile("../../docs/audit.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, c := range Checks {
		if !strings.Contains(doc, "\n## "+c.ID+"\n") {
			t.Errorf("docs/audit.md has no section \"## %s\"", c.ID)
		}
		if row := fmt.Sprintf("| [%s](#%s) | %s |", c.ID, strings.ToLower(c.ID), c.Severity); !strings.Contains(doc, row) {
			t.Errorf("docs/audit.md's table has no row starting %q", row)
		}
	}
}
