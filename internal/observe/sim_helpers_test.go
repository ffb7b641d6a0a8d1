package observe

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/probetuner/probe-tuner/test/harness/sim"
)

// simRun drives the probe simulator for a Deployment and feeds the observer every step, as the operator's
// watchers would: the pods' status and the kubelet's Events.
type simRun struct {
	t        *testing.T
	world    *sim.World
	state    *State
	cfg      Config
	revision string
	pods     []*corev1.Pod
	eventSeq int
	// dropEvents drops the kubelet's Events, as a lossy recorder might.
	dropEvents bool
}

var simEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newSimRun(t *testing.T, deploymentYAML string, seed uint64) *simRun {
	t.Helper()
	var d appsv1.Deployment
	if err := yaml.Unmarshal([]byte(deploymentYAML), &d); err != nil {
		t.Fatal(err)
	}
	pods, err := sim.DeploymentPods(&d, seed)
	if err != nil {
		t.Fatal(err)
	}
	r := &simRun{t: t, world: sim.NewWorld(sim.Options{Seed: seed, Epoch: simEpoch}), state: &State{}, cfg: DefaultConfig(), revision: sim.TemplateHash(&d.Spec.Template)}
	for i, p := range pods {
		p.UID = types.UID("uid-" + p.Name)
		if _, err := r.world.AddPod(p, fmt.Sprintf("node-%d", i%2)); err != nil {
			t.Fatal(err)
		}
		r.pods = append(r.pods, p)
	}
	return r
}

// run advances the simulation by d in steps of one second, updating the observer after each step.
func (r *simRun) run(d time.Duration) {
	end := r.world.Now().Add(d)
	for r.world.Now().Before(end) {
		r.world.Advance(time.Second)
		r.observe()
	}
}

func (r *simRun) observe() {
	var events []KubeletEvent
	for _, e := range r.world.DrainEvents() {
		r.eventSeq++
		if r.dropEvents {
			continue
		}
		events = append(events, KubeletEvent{ID: fmt.Sprint(r.eventSeq), Count: 1, Pod: e.Pod, Container: e.Container, Reason: e.Reason, Message: e.Message, Time: e.Time})
	}
	r.world.DrainChanged()
	current := make([]*corev1.Pod, 0, len(r.pods))
	for _, p := range r.pods {
		ps := r.world.Pod(p.Namespace, p.Name)
		if ps == nil {
			continue
		}
		snap := p.DeepCopy()
		snap.Status = ps.Status()
		current = append(current, snap)
	}
	Update(r.state, Input{Pods: FromAPIPods(current), Events: events, Revision: r.revision, Now: r.world.Now()}, r.cfg)
}

func (r *simRun) signals(container string) Signals {
	return ContainerSignals(r.state, container, r.revision, r.world.Now(), r.cfg)
}

// deployment renders a Deployment with the given replicas, template annotations and container probes (YAML).
func deployment(replicas int, annotations map[string]string, probesYAML string) string {
	return deploymentWithInit(replicas, annotations, "", probesYAML)
}

// deploymentWithInit renders a Deployment whose pods run the given init containers (YAML at the pod spec's
// list indentation, empty for none) before the app container "app" with the given probes.
func deploymentWithInit(replicas int, annotations map[string]string, initContainersYAML, probesYAML string) string {
	if initContainersYAML != "" {
		initContainersYAML = "      initContainers:\n" + initContainersYAML
	}
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: %d
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
%s    spec:
%s      containers:
      - name: app
        image: web:1
%s`, replicas, annotationsYAML(annotations), initContainersYAML, probesYAML)
}

// annotationsYAML renders pod template annotations at the template's metadata indentation, empty for none.
func annotationsYAML(annotations map[string]string) string {
	ann := ""
	for k, v := range annotations {
		ann += fmt.Sprintf("        %s: %q\n", k, v)
	}
	if ann == "" {
		return ""
	}
	return "      annotations:\n" + ann
}

const (
	defaultLivenessYAML = "        livenessProbe: {httpGet: {path: /healthz, port: 8080}}\n"
	readinessYAML       = "        readinessProbe: {httpGet: {path: /ready, port: 8080}}\n"
)
