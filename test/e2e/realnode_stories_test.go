//go:build e2e && realnode

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/test/testutil"
)

// storiesNS holds the demo's other stories on the real node, run while the slow start is cured.
const storiesNS = "real-stories"

// storyTarget is probe-target with the given sim.probetuner.io annotations and probes (YAML flow mappings).
func storyTarget(name string, replicas int, annotations map[string]string, probes string) string {
	var ann []string
	for k, v := range annotations {
		ann = append(ann, fmt.Sprintf("sim.probetuner.io/%s: %q", k, v))
	}
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  labels: {app: %[1]s, story: real}
spec:
  replicas: %[2]d
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
      annotations: {%[3]s}
    spec:
      dnsPolicy: Default
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 5
      containers:
      - name: server
        image: localhost/probe-target:latest
        imagePullPolicy: Never
        ports: [{containerPort: 8080}]
%[4]s
        volumeMounts:
        - {name: podinfo, mountPath: /etc/probe-target}
      volumes:
      - name: podinfo
        downwardAPI:
          items:
          - {path: annotations, fieldRef: {fieldPath: metadata.annotations}}
`, name, replicas, strings.Join(ann, ", "), probes)
}

// storiesPolicy tunes every story with the demo's quick pacing; the 60 s startup bound makes a pod that never
// gets ready count as stuck after a minute.
const storiesPolicy = `apiVersion: tuning.probetuner.io/v1alpha1
kind: ProbePolicy
metadata:
  name: stories
spec:
  mode: Auto
  selector:
    matchLabels: {story: real}
  startup:
    maxBudgetSeconds: 60
  readiness:
    flappingTolerancePerHour: 12
  pacing:
    minSamples: 2
    cooldown: 1m
    verificationWindow: 1m
`

// applyStories starts the stories: readiness flapping from latency (answers in 0.5-1.5 s against a 1 s timeout),
// a pod that never gets ready, an app that hangs 30 s after each start behind a 3 x 5 s liveness probe, and three
// replicas whose liveness probe checks a shared dependency that is down for 30 s every 2 minutes (the outage
// windows count from one epoch for all of them, SIM_EPOCH).
func applyStories(t *testing.T) {
	kubectl(t, "create", "namespace", storiesNS)
	epoch := time.Now().UTC().Format(time.RFC3339)
	manifests := []string{
		storyTarget("orders", 3, map[string]string{"dependency": "orders-db", "dependency-outage": "every 2m for 30s from 45s", "dependency-checked-by": "liveness"},
			`        env: [{name: SIM_EPOCH, value: "`+epoch+`"}]
        livenessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 5, failureThreshold: 2}
        readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 5}`),
		storyTarget("flapping", 2, map[string]string{"readiness-latency": "500ms-1500ms"},
			`        readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 1}`),
		storyTarget("stuck", 1, map[string]string{"readiness-failure-rate": "1"},
			`        readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 5}`),
		storyTarget("hanging", 1, map[string]string{"hang-after": "30s"},
			`        livenessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 1}`),
		storiesPolicy,
	}
	kubectlIn(t, strings.Join(manifests, "---\n"), "-n", storiesNS, "apply", "-f", "-")
}

// checkStories asserts what the operator made of the stories on the real kubelet.
func checkStories(t *testing.T, c client.Client) {
	t.Run("readiness flapping is tuned", func(t *testing.T) {
		eventually(t, 5*time.Minute, func() error {
			d := getDeployment(t, c, storiesNS, "flapping")
			rp := d.Spec.Template.Spec.Containers[0].ReadinessProbe
			if rp.TimeoutSeconds <= 1 && rp.FailureThreshold <= 1 {
				return fmt.Errorf("readiness still %s; %s", probeString(rp), workloadStatus(getPolicy(t, c, storiesNS, "stories"), "flapping"))
			}
			return nil
		})
		if len(eventsAbout(t, c, storiesNS, "Deployment", "flapping", "ProbeAdjusted")) == 0 {
			t.Error("no ProbeAdjusted Event on Deployment flapping")
		}
		// The tuned revision's pods become Ready (their answers fit the new timeout).
		eventually(t, 3*time.Minute, func() error {
			hash, pods := currentPods(t, c, getDeployment(t, c, storiesNS, "flapping"))
			ready := 0
			for i := range pods {
				if testutil.PodReady(&pods[i]) {
					ready++
				}
			}
			if ready != 2 {
				return fmt.Errorf("revision %s: %d of %d pods Ready", hash, ready, len(pods))
			}
			return nil
		})
	})

	t.Run("a pod stuck not ready is reported, not changed", func(t *testing.T) {
		eventually(t, 5*time.Minute, func() error {
			if len(eventsAbout(t, c, storiesNS, "ProbePolicy", "stories", "StuckNotReady")) == 0 {
				return fmt.Errorf("no StuckNotReady Event on the policy; %s", workloadStatus(getPolicy(t, c, storiesNS, "stories"), "stuck"))
			}
			return nil
		})
		if g := getDeployment(t, c, storiesNS, "stuck").Generation; g != 1 {
			t.Errorf("stuck was changed (generation %d): probes cannot make it ready", g)
		}
	})

	t.Run("a shared dependency's outage is warned about, not amplified", func(t *testing.T) {
		eventually(t, 6*time.Minute, func() error {
			if len(eventsAbout(t, c, storiesNS, "ProbePolicy", "stories", "CorrelatedLivenessFailures")) == 0 {
				return fmt.Errorf("no CorrelatedLivenessFailures Event on the policy; %s", workloadStatus(getPolicy(t, c, storiesNS, "stories"), "orders"))
			}
			return nil
		})
		if g := getDeployment(t, c, storiesNS, "orders").Generation; g != 1 {
			t.Errorf("orders was changed (generation %d): a looser liveness probe would only hide the outage", g)
		}
	})

	t.Run("a real hang is caught by liveness and the probe is left alone", func(t *testing.T) {
		eventually(t, 4*time.Minute, func() error {
			kills := observedLivenessKills(getPolicy(t, c, storiesNS, "stories"), "hanging")
			if kills < 2 {
				return fmt.Errorf("%d liveness kills observed, want 2; %s", kills, workloadStatus(getPolicy(t, c, storiesNS, "stories"), "hanging"))
			}
			return nil
		})
		d := getDeployment(t, c, storiesNS, "hanging")
		if d.Generation != 1 || d.Annotations["probetuner.io/last-change"] != "" {
			t.Errorf("the liveness probe that ends real hangs was changed: generation %d, last-change %q", d.Generation, d.Annotations["probetuner.io/last-change"])
		}
	})
}

// observedLivenessKills is the liveness kills the policy's status shows for a workload's first container.
func observedLivenessKills(p *tuningv1alpha1.ProbePolicy, name string) int32 {
	for _, w := range p.Status.Workloads {
		if w.Name == name && len(w.Containers) > 0 {
			return w.Containers[0].Observed.LivenessKills
		}
	}
	return 0
}
