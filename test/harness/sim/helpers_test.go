package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// epoch is the virtual time zero of every test world: a whole second, so that
// offsets and second-truncated status times line up.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func sec(n float64) time.Duration { return time.Duration(n * float64(time.Second)) }

func httpProbe(path string, mods ...func(*corev1.Probe)) *corev1.Probe {
	p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(8080)}}}
	for _, m := range mods {
		m(p)
	}
	return p
}

func period(n int32) func(*corev1.Probe)    { return func(p *corev1.Probe) { p.PeriodSeconds = n } }
func failures(n int32) func(*corev1.Probe)  { return func(p *corev1.Probe) { p.FailureThreshold = n } }
func successes(n int32) func(*corev1.Probe) { return func(p *corev1.Probe) { p.SuccessThreshold = n } }
func timeoutS(n int32) func(*corev1.Probe)  { return func(p *corev1.Probe) { p.TimeoutSeconds = n } }
func delay(n int32) func(*corev1.Probe)     { return func(p *corev1.Probe) { p.InitialDelaySeconds = n } }

// testPod returns a one-container pod "web-0" (container "app", image
// example/app:1.0) with the given probes and behaviour annotations.
func testPod(name string, ann map[string]string, startup, readiness, liveness *corev1.Probe) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: ann},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:           "app",
			Image:          "example/app:1.0",
			Ports:          []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			StartupProbe:   startup,
			ReadinessProbe: readiness,
			LivenessProbe:  liveness,
		}}},
	}
}

// exactWorld returns a world with ExactKubeletConfig (no jitter, instant
// PLEG) collecting events.
func exactWorld(t testing.TB, seed uint64) *World {
	t.Helper()
	k := ExactKubeletConfig()
	return NewWorld(Options{Seed: seed, Epoch: epoch, Kubelet: &k})
}

func mustAdd(t testing.TB, w *World, pod *corev1.Pod) *PodSim {
	t.Helper()
	p, err := w.AddPod(pod, "node-1")
	if err != nil {
		t.Fatalf("AddPod: %v", err)
	}
	return p
}

// offsets returns the offsets from the epoch of the events with the reason.
func offsets(evs []Event, reason string) []time.Duration {
	var out []time.Duration
	for _, e := range evs {
		if e.Reason == reason {
			out = append(out, e.Time.Sub(epoch))
		}
	}
	return out
}

func eventsWith(evs []Event, reason string) []Event {
	var out []Event
	for _, e := range evs {
		if e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

func dumpEvents(evs []Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%8s %-9s %s\n", e.Time.Sub(epoch), e.Reason, e.Message)
	}
	return b.String()
}

func durs(xs ...float64) []time.Duration {
	out := make([]time.Duration, len(xs))
	for i, x := range xs {
		out[i] = sec(x)
	}
	return out
}

func equalDurs(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
