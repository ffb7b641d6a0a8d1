//go:build e2e && realnode

package e2e

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/test/testutil"
)

const (
	// managerImage is the image config/manager names (after its kustomize image override); the test loads it
	// onto the node instead of pulling it.
	managerImage = "ghcr.io/probetuner/probe-tuner:latest"
	operatorNS   = "probe-tuner-system"
	// slowTargetStart is the start of the slow probe-target, behind a 3 x 5 s liveness probe: killed at ~15 s.
	slowTargetStart = 40 * time.Second
)

// slowTarget is probe-target with a 40 s start behind a 3 x 5 s liveness probe and no startup probe, as in
// test/realnode/probe-target.yaml: on the real kubelet it crash-loops ("failed liveness probe, will be restarted").
func slowTarget(name string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  labels: {app: %[1]s}
spec:
  replicas: 1
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
      annotations:
        sim.probetuner.io/startup: "%[2]s"
    spec:
      dnsPolicy: Default
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 5
      containers:
      - name: server
        image: localhost/probe-target:latest
        imagePullPolicy: Never
        ports: [{containerPort: 8080}]
        livenessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 5
          failureThreshold: 3
        volumeMounts:
        - {name: podinfo, mountPath: /etc/probe-target}
      volumes:
      - name: podinfo
        downwardAPI:
          items:
          - {path: annotations, fieldRef: {fieldPath: metadata.annotations}}
`, name, slowTargetStart)
}

// targetPolicy selects the Deployment labelled app=NAME.
func targetPolicy(name string, mode tuningv1alpha1.Mode) string {
	return fmt.Sprintf(`apiVersion: tuning.probetuner.io/v1alpha1
kind: ProbePolicy
metadata:
  name: %[1]s
spec:
  selector:
    matchLabels: {app: %[1]s}
  mode: %[2]s
`, name, mode)
}

// deployOperatorAsPod builds the manager as a static binary, loads it onto the node as the image config/default
// runs, and applies config/default through an overlay that only tells the pods where the API server is: there is
// no kube-proxy on this node, so the kubernetes Service's ClusterIP leads nowhere and the pods use the machine's
// own address instead (kube-apiserver listens there and its certificate names it).
func deployOperatorAsPod(t *testing.T) {
	t.Helper()
	// Named as config/manager runs it: the image's entrypoint is /BASENAME.
	bin := filepath.Join(cluster.Dir, "image", "manager")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/manager")
	build.Dir, build.Env = cluster.Root, append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the manager: %v\n%s", err, out)
	}
	load := exec.Command("bash", "hack/node-image.sh", managerImage, bin, "65532:65532")
	load.Dir, load.Env = cluster.Root, append(os.Environ(), "LOCAL_DIR="+cluster.LocalDir)
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("loading the manager image onto the node: %v\n%s", err, out)
	}
	overlay := t.TempDir()
	base, err := filepath.Rel(overlay, filepath.Join(cluster.Root, "config", "default"))
	if err != nil {
		t.Fatal(err)
	}
	kustomization := fmt.Sprintf(`resources:
- %s
patches:
- target: {kind: Deployment, labelSelector: app.kubernetes.io/component=manager}
  patch: |-
    - op: add
      path: /spec/template/spec/containers/0/env
      value:
      - {name: KUBERNETES_SERVICE_HOST, value: "%s"}
      - {name: KUBERNETES_SERVICE_PORT, value: "%d"}
`, base, cluster.NodeIP, cluster.APIPort)
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil {
		t.Fatal(err)
	}
	kubectl(t, "apply", "-k", overlay)
}

// managerPods returns the manager's pods that are Ready.
func managerPods(t *testing.T, c client.Client) (ready []corev1.Pod, all int) {
	t.Helper()
	var pods corev1.PodList
	if err := c.List(background, &pods, client.InNamespace(operatorNS), client.MatchingLabels{"app.kubernetes.io/component": "manager"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if testutil.PodReady(&p) {
			ready = append(ready, p)
		}
	}
	return ready, len(pods.Items)
}

// scrape GETs the manager pod's HTTPS metrics endpoint with a bearer token (none when empty); the certificate is
// the manager's self-signed one.
func scrape(podIP, token string) (int, string, error) {
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // self-signed, test only
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	req, err := http.NewRequest(http.MethodGet, "https://"+podIP+":8443/metrics", nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := cl.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// TestRealNodeOperatorAsPod runs probe-tuner the way users install it, as pods from config/default on the real
// node: two replicas admitted under the restricted Pod Security profile elect one leader, serve metrics over
// HTTPS only to a token allowed by the metrics-reader role, and the leader cures a real crash loop (a 40 s start
// killed by a 3 x 5 s liveness probe) by adding a startup probe, while a Recommend policy leaves its twin untouched.
func TestRealNodeOperatorAsPod(t *testing.T) {
	c := newClient(t)
	deployOperatorAsPod(t)
	eventually(t, 3*time.Minute, func() error {
		ready, all := managerPods(t, c)
		if len(ready) != 2 {
			var msgs []string
			for _, e := range eventsAbout(t, c, operatorNS, "ReplicaSet", "", "FailedCreate") {
				msgs = append(msgs, e.Message)
			}
			return fmt.Errorf("%d of %d manager pods Ready, want 2; FailedCreate: %v", len(ready), all, msgs)
		}
		return nil
	})
	ready, _ := managerPods(t, c)
	applyStories(t)

	t.Run("restricted Pod Security is enforced", func(t *testing.T) {
		ns := get[corev1.Namespace](t, c, "", operatorNS)
		if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
			t.Errorf("namespace %s enforces %q, want restricted", operatorNS, got)
		}
		// The same namespace refuses a pod that breaks the profile: the manager's pods were checked, not waved through.
		out, err := kubectlCmdIn(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: privileged-probe, namespace: %s}
spec:
  containers: [{name: c, image: localhost/probe-target:latest, securityContext: {privileged: true}}]
`, operatorNS), "apply", "--dry-run=server", "-f", "-")
		if err == nil || !strings.Contains(out, "violates PodSecurity") {
			t.Errorf("a privileged pod was not refused by Pod Security (err %v): %s", err, out)
		}
	})

	var leader string
	t.Run("the replicas elect one leader", func(t *testing.T) {
		eventually(t, 2*time.Minute, func() error {
			var lease coordinationv1.Lease
			if err := c.Get(background, client.ObjectKey{Namespace: operatorNS, Name: "probe-tuner.tuning.probetuner.io"}, &lease); err != nil {
				return err
			}
			holder := ""
			if lease.Spec.HolderIdentity != nil {
				holder = *lease.Spec.HolderIdentity
			}
			for _, p := range ready {
				if strings.HasPrefix(holder, p.Name+"_") {
					leader = p.Name
					return nil
				}
			}
			return fmt.Errorf("lease holder %q is none of the Ready manager pods", holder)
		})
		t.Logf("leader: %s", leader)
	})

	t.Run("metrics need a token with the metrics-reader role", func(t *testing.T) {
		kubectl(t, "-n", operatorNS, "create", "serviceaccount", "scraper")
		kubectl(t, "-n", operatorNS, "create", "serviceaccount", "stranger")
		kubectl(t, "create", "clusterrolebinding", "scraper-metrics", "--clusterrole", "probe-tuner-metrics-reader",
			"--serviceaccount", operatorNS+":scraper")
		allowed := strings.TrimSpace(kubectl(t, "-n", operatorNS, "create", "token", "scraper"))
		denied := strings.TrimSpace(kubectl(t, "-n", operatorNS, "create", "token", "stranger"))
		// The leader's: only the replica that runs the controllers exports their metrics.
		ip := ""
		for _, p := range ready {
			if p.Name == leader {
				ip = p.Status.PodIP
			}
		}
		if ip == "" {
			t.Fatalf("no Ready manager pod is the leader (%q)", leader)
		}
		eventually(t, time.Minute, func() error {
			code, body, err := scrape(ip, allowed)
			if err != nil {
				return err
			}
			if code != http.StatusOK || !strings.Contains(body, "controller_runtime_reconcile_total") {
				return fmt.Errorf("with the scraper's token: HTTP %d, %d bytes", code, len(body))
			}
			return nil
		})
		if code, _, err := scrape(ip, denied); err != nil || code != http.StatusForbidden {
			t.Errorf("a token without the metrics-reader role got HTTP %d (err %v), want 403", code, err)
		}
		if code, _, err := scrape(ip, ""); err != nil || code != http.StatusUnauthorized {
			t.Errorf("no token got HTTP %d (err %v), want 401", code, err)
		}
	})

	t.Run("the leader cures a real crash loop; Recommend leaves its twin untouched", func(t *testing.T) {
		const ns, auto, rec = "real-slow", "slow-auto", "slow-recommend"
		kubectl(t, "create", "namespace", ns)
		kubectlIn(t, slowTarget(auto)+"---\n"+slowTarget(rec), "-n", ns, "apply", "-f", "-")
		kubectlIn(t, targetPolicy(auto, tuningv1alpha1.ModeAuto)+"---\n"+targetPolicy(rec, tuningv1alpha1.ModeRecommend), "-n", ns, "apply", "-f", "-")
		recOrig := getDeployment(t, c, ns, rec)
		began := time.Now()

		// Without a startup probe the real kubelet kills the 40 s start at its 15 s liveness budget.
		eventually(t, 2*time.Minute, func() error {
			if n := len(eventsAbout(t, c, ns, "Pod", "", "Killing")); n == 0 {
				return fmt.Errorf("no Killing Event yet")
			}
			return nil
		})
		eventually(t, 8*time.Minute, func() error {
			d := getDeployment(t, c, ns, auto)
			if b := startupBudget(&d.Spec.Template.Spec.Containers[0]); b < int32(slowTargetStart.Seconds()) {
				return fmt.Errorf("startup budget %ds does not cover a %s start yet; %s", b, slowTargetStart, workloadStatus(getPolicy(t, c, ns, auto), auto))
			}
			return nil
		})
		t.Logf("startup probe added %s after the Deployment was created", time.Since(began).Round(time.Second))
		if len(eventsAbout(t, c, ns, "Deployment", auto, "ProbeAdjusted")) == 0 {
			t.Errorf("no ProbeAdjusted Event on Deployment %s", auto)
		}
		// The new revision starts once, in ~40 s, and is not killed.
		eventually(t, 3*time.Minute, func() error {
			d := getDeployment(t, c, ns, auto)
			hash, pods := currentPods(t, c, d)
			if len(pods) != 1 || !testutil.PodReady(&pods[0]) {
				return fmt.Errorf("revision %s: %d pods, not Ready yet", hash, len(pods))
			}
			if n := pods[0].Status.ContainerStatuses[0].RestartCount; n != 0 {
				return fmt.Errorf("the cured pod %s restarted %d times", pods[0].Name, n)
			}
			return nil
		})

		d := getDeployment(t, c, ns, rec)
		if d.Generation != recOrig.Generation || d.Annotations["probetuner.io/last-change"] != "" {
			t.Errorf("Recommend mode wrote its Deployment: generation %d -> %d, last-change %q", recOrig.Generation, d.Generation, d.Annotations["probetuner.io/last-change"])
		}
		eventually(t, 2*time.Minute, func() error {
			for _, e := range eventsAbout(t, c, ns, "Deployment", rec, "ProbeRecommended") {
				if strings.Contains(e.Message, "startup") {
					return nil
				}
			}
			return fmt.Errorf("no ProbeRecommended Event about a startup probe on %s; %s", rec, workloadStatus(getPolicy(t, c, ns, rec), rec))
		})
	})
	t.Run("the other stories", func(t *testing.T) { checkStories(t, c) })
	if t.Failed() {
		for _, p := range ready {
			t.Logf("manager pod %s log:\n%s", p.Name, kubectlNoFail(t, "-n", operatorNS, "logs", p.Name, "--tail", "30"))
		}
	}
}

// kubectlCmdIn runs kubectl with input on stdin and returns its combined output and error, without failing.
func kubectlCmdIn(input string, args ...string) (string, error) {
	cmd := kubectlCmd(args...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
