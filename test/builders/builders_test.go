package builders

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// The builders make what the manifest they stand for decodes to, field for field: a test that moved from a
// manifest to the builders sends the API server the same object.
func TestBuiltObjectsEqualTheirManifests(t *testing.T) {
	const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: loader
  namespace: shop
  labels: {tune: kill}
  annotations: {probetuner.io/paused: "true"}
spec:
  replicas: 2
  selector: {matchLabels: {app: loader}}
  template:
    metadata:
      labels: {app: loader}
      annotations:
        sim.probetuner.io/startup: "38s-42s"
        proxy.sim.probetuner.io/startup: "1s"
    spec:
      terminationGracePeriodSeconds: 5
      initContainers:
      - name: proxy
        image: example.com/proxy:1
        restartPolicy: Always
        readinessProbe: {tcpSocket: {port: 15021}}
      containers:
      - name: server
        image: example.com/loader:1
        ports: [{name: http, containerPort: 8080}]
        startupProbe:
          exec: {command: [cat, /tmp/started]}
          initialDelaySeconds: 3
        livenessProbe:
          httpGet: {path: /healthz, port: http}
          periodSeconds: 10
          failureThreshold: 3
          timeoutSeconds: 2
        readinessProbe:
          grpc: {port: 9090}
          successThreshold: 2
`
	var want appsv1.Deployment
	if err := yaml.UnmarshalStrict([]byte(deployment), &want); err != nil {
		t.Fatal(err)
	}
	got := MakeDeployment("loader", "shop").Label("tune", "kill").Annotation("probetuner.io/paused", "true").
		Replicas(2).Sim("startup", "38s-42s").SimFor("proxy", "startup", "1s").TerminationGracePeriod(5).
		InitContainer(MakeContainer("proxy", "example.com/proxy:1").Sidecar().Probe(MakeProbe(Readiness).TCPSocket(15021)).Obj()).
		Container(MakeContainer("server", "example.com/loader:1").Port("http", 8080).
			Probe(MakeProbe(Startup).Exec("cat", "/tmp/started").InitialDelay(3),
				MakeProbe(Liveness).HTTPGetNamed("/healthz", "http").Period(10).FailureThreshold(3).Timeout(2)).
			Probe(MakeProbe(Readiness).GRPC(9090).SuccessThreshold(2)).
			Obj()).
		Obj()
	if !apiequality.Semantic.DeepEqual(got, &want) {
		b, _ := yaml.Marshal(got)
		t.Errorf("built Deployment:\n%s\nwant the manifest's:\n%s", b, deployment)
	}

	const policy = `apiVersion: tuning.probetuner.io/v1alpha1
kind: ProbePolicy
metadata: {name: kill, namespace: shop}
spec:
  mode: Auto
  selector:
    matchLabels: {tune: kill, tier: cache}
  containers: [server]
  startup:
    targetPercentile: 99
    safetyMargin: "1.5"
    periodSeconds: 5
    maxBudgetSeconds: 120
  readiness:
    flappingTolerancePerHour: 12
  pacing:
    minSamples: 2
    cooldown: 1m
    verificationWindow: 90s
`
	var wantPolicy tuningv1alpha1.ProbePolicy
	if err := yaml.UnmarshalStrict([]byte(policy), &wantPolicy); err != nil {
		t.Fatal(err)
	}
	gotPolicy := MakePolicy("kill", "shop").Mode(tuningv1alpha1.ModeAuto).Selector("tune", "kill").Selector("tier", "cache").
		Containers("server").StartupPercentile("99").SafetyMargin("1.5").StartupPeriod(5).MaxStartupBudget(120).
		FlappingTolerance(12).MinSamples(2).Cooldown(time.Minute).VerificationWindow(90 * time.Second).Obj()
	if !apiequality.Semantic.DeepEqual(gotPolicy, &wantPolicy) {
		b, _ := yaml.Marshal(gotPolicy)
		t.Errorf("built ProbePolicy:\n%s\nwant the manifest's:\n%s", b, policy)
	}
	// A number stays a number and a decimal a string, as the CRD's schema tells them apart.
	if p := gotPolicy.Spec.Startup; p.TargetPercentile.Type != intstr.Int || p.SafetyMargin.Type != intstr.String {
		t.Errorf("targetPercentile %#v, safetyMargin %#v", p.TargetPercentile, p.SafetyMargin)
	}
}

// A Deployment's own labels are not its pods': a policy selects the Deployment, the ReplicaSet its pods.
func TestDeploymentLabelsStayOffThePods(t *testing.T) {
	d := MakeDeployment("web", "ns").Label("tune", "auto").Obj()
	if _, ok := d.Spec.Template.Labels["tune"]; ok || d.Spec.Template.Labels["app"] != "web" || d.Spec.Selector.MatchLabels["app"] != "web" {
		t.Errorf("template labels %v, selector %v", d.Spec.Template.Labels, d.Spec.Selector.MatchLabels)
	}
	d.Spec.Template.Labels["extra"] = "1"
	if _, ok := d.Spec.Selector.MatchLabels["extra"]; ok {
		t.Errorf("the selector and the template share one label map")
	}
}

// A probe built once can be given to several containers: each gets its own copy.
func TestProbeObjIsACopy(t *testing.T) {
	p := MakeProbe(Liveness).HTTPGet("/healthz", 8080).Period(5)
	a, b := MakeContainer("a", "x").Probe(p).Obj(), MakeContainer("b", "x").Probe(p).Obj()
	a.LivenessProbe.PeriodSeconds = 1
	a.LivenessProbe.HTTPGet.Path = "/changed"
	if b.LivenessProbe.PeriodSeconds != 5 || b.LivenessProbe.HTTPGet.Path != "/healthz" || p.Obj().PeriodSeconds != 5 {
		t.Errorf("changing one container's probe changed another's: %+v", b.LivenessProbe)
	}
}

func TestPodBuilder(t *testing.T) {
	got := MakePod("solo", "default").Sim("startup", "1s").Container(MakeContainer("app", "example/app:1").Obj()).Obj()
	want := &corev1.Pod{}
	if err := yaml.UnmarshalStrict([]byte(`apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: default, annotations: {sim.probetuner.io/startup: "1s"}}
spec:
  containers: [{name: app, image: example/app:1}]
`), want); err != nil {
		t.Fatal(err)
	}
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("built Pod %+v, want %+v", got, want)
	}
}

func TestProbeOfUnknownKindPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("a probe of kind \"rediness\" was accepted")
		}
	}()
	MakeContainer("app", "x").Probe(MakeProbe("rediness"))
}
