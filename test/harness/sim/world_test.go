package sim

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var randomBehavior = map[string]string{
	"sim.probetuner.io/startup":             "lognormal(20s,60s)",
	"sim.probetuner.io/health-latency":      "200ms-1200ms",
	"sim.probetuner.io/crash-after":         "mix(0.5:5m-10m,0.5:30m-1h)",
	"sim.probetuner.io/health-failure-rate": "0.05",
}

// fingerprint runs three pods for 2h and returns their statuses and counters.
func fingerprint(t *testing.T, seed uint64, extraPod bool) map[string]string {
	w := NewWorld(Options{Seed: seed, Epoch: epoch, OnEvent: func(Event) {}})
	names := []string{"web-a", "web-b", "web-c"}
	if extraPod {
		names = []string{"web-a", "extra", "web-b", "web-c"}
	}
	for _, n := range names {
		mustAdd(t, w, testPod(n, randomBehavior, nil, httpProbe("/ready"), httpProbe("/healthz", failures(2))))
	}
	w.RunUntil(epoch.Add(2 * time.Hour))
	out := map[string]string{}
	for _, p := range w.Pods() {
		st, err := json.Marshal(p.Status())
		if err != nil {
			t.Fatal(err)
		}
		out[p.Name()] = fmt.Sprintf("%+v|%s", p.Stats(), st)
	}
	return out
}

// TestDeterminism: the same inputs and seed give identical results; another
// seed gives different ones; adding a pod does not change the others (each
// pod draws from its own random stream).
func TestDeterminism(t *testing.T) {
	a, b := fingerprint(t, 42, false), fingerprint(t, 42, false)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different results")
	}
	if c := fingerprint(t, 43, false); reflect.DeepEqual(a["web-a"], c["web-a"]) {
		t.Error("different seeds, same results")
	}
	d := fingerprint(t, 42, true)
	for _, n := range []string{"web-a", "web-b", "web-c"} {
		if a[n] != d[n] {
			t.Errorf("adding a pod changed %s", n)
		}
	}
}

// TestRealClock drives a world with wall-clock time the way a live driver
// does (RunUntil(time.Now()) in small steps): event times come from the world
// clock, nothing runs between calls.
func TestRealClock(t *testing.T) {
	start := time.Now()
	w := NewWorld(Options{Seed: 1, Epoch: start})
	p, err := w.AddPod(testPod("web-0", nil, nil, httpProbe("/ready"), nil), "node-1")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		time.Sleep(5 * time.Millisecond)
		w.RunUntil(time.Now())
	}
	if !w.Now().After(start) {
		t.Error("clock did not advance")
	}
	evs := w.DrainEvents()
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	for _, e := range evs {
		if e.Time.Before(start) || e.Time.After(w.Now()) {
			t.Errorf("event time %v outside [%v, %v]", e.Time, start, w.Now())
		}
	}
	if next, ok := w.NextEventTime(); !ok || !next.After(w.Now()) {
		t.Errorf("next event %v %v", next, ok)
	}
	// Going back in time is a no-op.
	before := w.Now()
	w.RunUntil(start)
	if !w.Now().Equal(before) {
		t.Error("RunUntil moved the clock backwards")
	}
	if len(w.DrainChanged()) == 0 {
		t.Error("no status change reported")
	}
	// The container started at once but the kubelet sees it at the next PLEG
	// relist (1s): still Pending after a few milliseconds, Running after.
	if ph := p.Status().Phase; ph != corev1.PodPending {
		t.Errorf("phase %s after a few ms", ph)
	}
	w.RunUntil(start.Add(1500 * time.Millisecond))
	if ph := p.Status().Phase; ph != corev1.PodRunning {
		t.Errorf("phase %s after 1.5s", ph)
	}
}

// TestKubeletJustStarted: a probe worker created less than one period after
// the kubelet started sleeps a random part of the period first (worker.go).
func TestKubeletJustStarted(t *testing.T) {
	first := func(k KubeletConfig) time.Duration {
		w := NewWorld(Options{Seed: 1, Epoch: epoch, Kubelet: &k})
		mustAdd(t, w, testPod("web-0", map[string]string{"sim.probetuner.io/startup": "never"}, nil, nil, httpProbe("/healthz")))
		w.RunUntil(epoch.Add(time.Minute))
		u := offsets(w.DrainEvents(), ReasonUnhealthy)
		if len(u) == 0 {
			t.Fatal("no liveness failure")
		}
		return u[0]
	}
	k := ExactKubeletConfig()
	if got := first(k); got != sec(10) {
		t.Errorf("long-running kubelet: first liveness failure at %v, want 10s", got)
	}
	k.StartedAt = epoch
	if got := first(k); got <= 0 || got >= sec(10) {
		t.Errorf("just-started kubelet: first liveness failure at %v, want in (0s, 10s)", got)
	}
}

func TestRemoveAndErrors(t *testing.T) {
	w := exactWorld(t, 1)
	if _, err := w.AddPod(nil, "n"); err == nil {
		t.Error("nil pod accepted")
	}
	pod := testPod("web-0", nil, nil, nil, nil)
	if _, err := w.AddPod(pod, ""); err == nil {
		t.Error("pod without node accepted")
	}
	mustAdd(t, w, pod)
	if _, err := w.AddPod(pod, "node-1"); err == nil {
		t.Error("duplicate pod accepted")
	}
	if err := w.DeletePod("default", "nope", w.Now()); err == nil {
		t.Error("deleting an unknown pod succeeded")
	}
	if err := w.InjectOutage("x", w.Now(), 0); err == nil {
		t.Error("empty outage accepted")
	}
	bad := testPod("web-1", nil, nil, nil, httpProbe("/", successes(2)))
	if _, err := w.AddPod(bad, "node-1"); err == nil || !strings.Contains(err.Error(), "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1") {
		t.Errorf("invalid probe: %v", err)
	}
	if pod.Spec.RestartPolicy != "" {
		t.Error("AddPod modified the caller's pod")
	}
	w.RemovePod("default", "web-0")
	if w.Pod("default", "web-0") != nil || len(w.Pods()) != 0 {
		t.Error("pod not removed")
	}
	w.Advance(time.Hour) // timers of the removed pod are skipped
}

func TestDeploymentPods(t *testing.T) {
	three := int32(3)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &three,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"sim.probetuner.io/startup": "5s"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx", LivenessProbe: httpProbe("/")}}},
			},
		},
	}
	a, err := DeploymentPods(d, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := DeploymentPods(d, 1)
	c, _ := DeploymentPods(d, 2)
	re := regexp.MustCompile(`^web-[bcdfghjklmnpqrstvwxz2456789]{5,}-[bcdfghjklmnpqrstvwxz2456789]{5}$`)
	for i, p := range a {
		if !re.MatchString(p.Name) || p.Name != b[i].Name || p.Namespace != "default" {
			t.Errorf("pod %d name %q (other run %q)", i, p.Name, b[i].Name)
		}
		if p.Labels["pod-template-hash"] == "" || p.Labels["app"] != "web" || p.Annotations["sim.probetuner.io/startup"] != "5s" {
			t.Errorf("metadata %+v", p.ObjectMeta)
		}
		lp := p.Spec.Containers[0].LivenessProbe
		if lp.PeriodSeconds != 10 || lp.TimeoutSeconds != 1 || lp.FailureThreshold != 3 || lp.SuccessThreshold != 1 || lp.HTTPGet.Scheme != corev1.URISchemeHTTP {
			t.Errorf("probe not defaulted: %+v", lp)
		}
		if *p.Spec.TerminationGracePeriodSeconds != 30 || p.Spec.RestartPolicy != corev1.RestartPolicyAlways || p.Spec.Containers[0].ImagePullPolicy != corev1.PullAlways {
			t.Errorf("spec not defaulted: %+v", p.Spec)
		}
	}
	if a[0].Name == c[0].Name {
		t.Error("name independent of the seed")
	}
	d.Spec.Template.Annotations["sim.probetuner.io/startup"] = "6s"
	if TemplateHash(&d.Spec.Template) == a[0].Labels["pod-template-hash"] {
		t.Error("template hash did not change with the template")
	}
}
