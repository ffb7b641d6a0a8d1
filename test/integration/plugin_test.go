package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/test/builders"
)

var (
	pluginOnce sync.Once
	pluginPath string
	pluginErr  error
)

// plugin builds bin/kubectl-probetuner once for the suite and returns its path.
func plugin(t *testing.T) string {
	t.Helper()
	pluginOnce.Do(func() {
		dir, err := os.MkdirTemp("", "plugin")
		if err != nil {
			pluginErr = err
			return
		}
		pluginPath = filepath.Join(dir, "kubectl-probetuner")
		out, err := exec.Command("go", "build", "-o", pluginPath, filepath.Join(repoRoot, "cmd", "kubectl-probetuner")).CombinedOutput()
		if err != nil {
			t.Logf("go build: %s", out)
			pluginErr = err
		}
	})
	if pluginErr != nil {
		t.Fatalf("building the plugin: %v", pluginErr)
	}
	return pluginPath
}

// kubeconfigFor writes a kubeconfig for the test API server whose context's namespace is ns.
func kubeconfigFor(t *testing.T, ns string) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin", Namespace: ns}
	kc.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func runPlugin(t *testing.T, kubeconfig string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(plugin(t), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestPluginStatusAndExplain runs `status` and `explain` against the API server, on a ProbePolicy whose status
// the test sets as the operator would.
func TestPluginStatusAndExplain(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	d := builders.MakeDeployment("cart", ns).Label("tier", "web").Container(builders.MakeContainer("app", "cart:1").Obj()).
		Annotation("probetuner.io/paused", "true").Obj()
	lonely := builders.MakeDeployment("lonely", ns).Label("tier", "batch").Container(builders.MakeContainer("job", "job:1").Obj()).Obj()
	if err := k8sClient.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Create(ctx, lonely); err != nil {
		t.Fatal(err)
	}
	pol := builders.MakePolicy("shop", ns).Selector("tier", "web").Mode(tuningv1alpha1.ModeRecommend).Obj()
	if err := k8sClient.Create(ctx, pol); err != nil {
		t.Fatal(err)
	}
	decided := metav1.NewTime(time.Now().Add(-4 * time.Minute).Truncate(time.Second))
	pol.Status = tuningv1alpha1.ProbePolicyStatus{
		WorkloadCount: 1,
		Workloads: []tuningv1alpha1.WorkloadSummary{{Name: "cart", State: tuningv1alpha1.WorkloadPaused,
			Message: `probetuner.io/paused is "true": nothing is written; the Deployment is paused with probetuner.io/paused`,
			Containers: []tuningv1alpha1.ContainerSummary{{Name: "app",
				Observed: tuningv1alpha1.ObservedSignals{StartupKills: 7, RestartsLastHour: &tuningv1alpha1.RestartCounts{Startup: 3}},
				Current:  tuningv1alpha1.ProbeSet{Liveness: &tuningv1alpha1.ProbeValues{PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}},
				Recommended: &tuningv1alpha1.ProbeSet{Startup: &tuningv1alpha1.ProbeValues{PeriodSeconds: 5, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 24},
					Liveness: &tuningv1alpha1.ProbeValues{PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}},
			}}}},
		Decisions: []tuningv1alpha1.Decision{{Time: decided, Workload: "cart", Container: "app", Probe: "startup", Field: "probe", To: "5sx24",
			Action: tuningv1alpha1.DecisionRecommended, Reason: "StartupKilledBeforeReady", Evidence: "7 starts killed at 30s"}},
	}
	if err := k8sClient.Status().Update(ctx, pol); err != nil {
		t.Fatalf("setting the policy's status: %v", err)
	}
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "cart.1", Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: "cart", Namespace: ns, APIVersion: "apps/v1"},
		Type:           corev1.EventTypeNormal, Reason: "ProbeRecommended", Message: "ProbePolicy shop: startup probe added (not applied)",
		Source: corev1.EventSource{Component: "probe-tuner"}, LastTimestamp: decided, FirstTimestamp: decided}
	if err := k8sClient.Create(ctx, ev); err != nil {
		t.Fatal(err)
	}
	kc := kubeconfigFor(t, ns)

	out, errs, code := runPlugin(t, kc, "status")
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errs)
	}
	for _, w := range []string{"POLICY", "shop", "cart", "app", "Paused", "3 startup", "startup none -> 5sx24 t1", "Recommended startup probe 5sx24", "4m ago"} {
		if !strings.Contains(out, w) {
			t.Errorf("status lacks %q:\n%s", w, out)
		}
	}
	out, _, _ = runPlugin(t, kc, "status", "-A", "-o", "json")
	if !strings.Contains(out, `"namespace": "`+ns+`"`) || !strings.Contains(out, `"startup": 3`) {
		t.Errorf("status -A -o json lacks the workload:\n%s", out)
	}
	out, errs, code = runPlugin(t, kc, "status", "-n", "kube-system")
	if code != 0 || !strings.Contains(out, "No workload is selected") {
		t.Errorf("status -n kube-system: exit %d, %q %q", code, out, errs)
	}

	out, errs, code = runPlugin(t, kc, "explain", "deploy/cart")
	if code != 0 {
		t.Fatalf("explain: exit %d: %s", code, errs)
	}
	for _, w := range []string{"Deployment " + ns + "/cart", "Policy:     shop (mode Recommend)", "State:      Paused", "Next:       recommended, app: startup none -> 5sx24",
		`probetuner.io/paused: "true"`, "4m ago   app Recommended startup probe 5sx24 (StartupKilledBeforeReady)", "evidence: 7 starts killed at 30s",
		"Normal ProbeRecommended: ProbePolicy shop: startup probe added"} {
		if !strings.Contains(out, w) {
			t.Errorf("explain lacks %q:\n%s", w, out)
		}
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"explain", "deploy/missing"}, 1, "Deployment missing not found in namespace " + ns},
		{[]string{"explain", "deploy/lonely"}, 1, "no ProbePolicy in namespace " + ns + " selects Deployment lonely"},
		{[]string{"explain", "sts/db"}, 2, "probe-tuner tunes Deployments only"},
	} {
		_, errs, code := runPlugin(t, kc, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
	_, errs, code = runPlugin(t, filepath.Join(t.TempDir(), "none"), "status")
	if code != 2 || !strings.Contains(errs, "kubeconfig") {
		t.Errorf("a missing kubeconfig: exit %d, %q", code, errs)
	}
}
