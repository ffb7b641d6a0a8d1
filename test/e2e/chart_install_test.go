//go:build e2e && !realnode

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// helm runs the helm binary make test-e2e builds (HELM, or bin/helm) against the local cluster.
func helm(t *testing.T, args ...string) string {
	t.Helper()
	bin := os.Getenv("HELM")
	if bin == "" {
		bin = filepath.Join(cluster.Root, "bin", "helm")
	}
	cmd := exec.Command(bin, append([]string{"--kubeconfig", cluster.Kubeconfig}, args...)...)
	cmd.Dir = cluster.Root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestHelmChartInstalls installs dist/chart into the local cluster namespace-scoped (watching one namespace, with
// Roles there instead of the manager's ClusterRole), waits for the manager to be available, checks what its
// service account may do, and uninstalls it. The CRD is left to config/crd (crd.enable=false): the chart keeps
// its CRD on uninstall, and the other tests share it.
func TestHelmChartInstalls(t *testing.T) {
	const release, ns, watched = "pt-helm", "probe-tuner-helm", "helm-watched"
	installCRD(t, watched)
	out := helm(t, "install", release, "dist/chart", "-n", ns, "--create-namespace", "--set", "crd.enable=false", "--set", "replicas=1",
		"--set-json", fmt.Sprintf(`watchNamespaces=[%q]`, watched), "--wait", "--timeout", "3m")
	if !strings.Contains(out, "STATUS: deployed") {
		t.Fatalf("helm install did not report the release deployed:\n%s", out)
	}
	c := newClient(t)
	d := get[appsv1.Deployment](t, c, ns, "probe-tuner-controller-manager")
	if d.Status.AvailableReplicas != 1 {
		t.Errorf("manager Deployment: %d available replicas after --wait, want 1", d.Status.AvailableReplicas)
	}
	args := strings.Join(d.Spec.Template.Spec.Containers[0].Args, " ")
	if !strings.Contains(args, "--watch-namespaces="+watched) {
		t.Errorf("manager args %q do not restrict it to %s", args, watched)
	}
	sa := "system:serviceaccount:" + ns + ":probe-tuner-controller-manager"
	for _, tc := range []struct{ namespace, want string }{{watched, "yes"}, {"default", "no"}} {
		got := strings.TrimSpace(kubectlNoFail(t, "auth", "can-i", "patch", "deployments", "-n", tc.namespace, "--as", sa))
		if got != tc.want {
			t.Errorf("the chart's manager may patch deployments in %s: %q, want %q", tc.namespace, got, tc.want)
		}
	}

	helm(t, "uninstall", release, "-n", ns, "--wait", "--timeout", "2m")
	eventually(t, time.Minute, func() error {
		var dep appsv1.Deployment
		err := c.Get(background, client.ObjectKey{Namespace: ns, Name: "probe-tuner-controller-manager"}, &dep)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("manager Deployment still there after helm uninstall (err %v)", err)
	})
	if got := strings.TrimSpace(kubectlNoFail(t, "get", "crd", "probepolicies.tuning.probetuner.io", "-o", "name")); got == "" {
		t.Error("the ProbePolicy CRD is gone after helm uninstall")
	}
}
