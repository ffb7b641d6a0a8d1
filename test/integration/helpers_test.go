package integration

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/probetuner/probe-tuner/test/testutil"
)

// newNamespace creates a namespace for one test and deletes it when the test ends.
func newNamespace(t *testing.T) string {
	t.Helper()
	name := testutil.NamespaceName(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k8sClient.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), ns) })
	return name
}

// policyFromYAML builds an unstructured ProbePolicy named name in namespace ns with the given spec YAML.
func policyFromYAML(t *testing.T, ns, name, specYAML string) *unstructured.Unstructured {
	t.Helper()
	spec := map[string]any{}
	if err := yaml.Unmarshal([]byte(specYAML), &spec); err != nil {
		t.Fatalf("test spec is not YAML: %v", err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "tuning.probetuner.io/v1alpha1",
		"kind":       "ProbePolicy",
		"metadata":   map[string]any{"name": name, "namespace": ns},
	}}
	if specYAML != "" {
		u.Object["spec"] = spec
	}
	return u
}

// eventually polls cond until it returns nil, failing the test after timeout.
func eventually(t *testing.T, timeout time.Duration, cond func() error) {
	t.Helper()
	testutil.Eventually(t, timeout, 100*time.Millisecond, cond)
}

// defaultWait bounds how long a test waits for the controllers to converge.
const defaultWait = 30 * time.Second
