//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestDefaultManifestsApply applies config/default to the local control plane: the API server validates every
// object, and the namespace's restricted Pod Security level admits the manager's pods only if its security
// context complies.
func TestDefaultManifestsApply(t *testing.T) {
	out := kubectl(t, "apply", "-k", "config/default")
	for _, want := range []string{
		"namespace/probe-tuner-system", "customresourcedefinition.apiextensions.k8s.io/probepolicies.tuning.probetuner.io",
		"serviceaccount/probe-tuner-controller-manager", "clusterrole.rbac.authorization.k8s.io/probe-tuner-manager-role",
		"deployment.apps/probe-tuner-controller-manager", "service/probe-tuner-controller-manager-metrics-service",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl apply -k config/default did not create %s:\n%s", want, out)
		}
	}
	c := newClient(t)
	eventually(t, 60*time.Second, func() error {
		var pods corev1.PodList
		if err := c.List(background, &pods, client.InNamespace("probe-tuner-system")); err != nil {
			return err
		}
		if len(pods.Items) != 2 {
			// Pod Security refuses pods at their creation by the ReplicaSet controller, which says why.
			var msgs []string
			for _, e := range eventsAbout(t, c, "probe-tuner-system", "ReplicaSet", "", "FailedCreate") {
				msgs = append(msgs, e.Message)
			}
			return fmt.Errorf("%d manager pods admitted, want 2; FailedCreate: %v", len(pods.Items), msgs)
		}
		return nil
	})
	// The manager's RBAC is least privilege: no access to Secrets.
	role := kubectl(t, "get", "clusterrole", "probe-tuner-manager-role", "-o", "yaml")
	if strings.Contains(role, "secrets") {
		t.Errorf("the manager role mentions secrets:\n%s", role)
	}
	can := strings.TrimSpace(kubectlNoFail(t, "auth", "can-i", "get", "secrets", "--as", "system:serviceaccount:probe-tuner-system:probe-tuner-controller-manager", "-A"))
	if can != "no" {
		t.Errorf("the manager's service account can get secrets: %q", can)
	}
	if got := strings.TrimSpace(kubectlNoFail(t, "auth", "can-i", "patch", "deployments", "--as", "system:serviceaccount:probe-tuner-system:probe-tuner-controller-manager", "-A")); got != "yes" {
		t.Errorf("the manager cannot patch deployments: %q", got)
	}
}
