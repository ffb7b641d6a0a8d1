package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestThePluginIsOffline keeps the plugin a manifest reader: no Kubernetes client, none of the reconciler, none of
// the test harness, and not the testing package.
func TestThePluginIsOffline(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages; expected the plugin's whole dependency tree", len(deps))
	}
	const module = "github.com/probetuner/probe-tuner/"
	for _, pkg := range deps {
		if strings.HasPrefix(pkg, "k8s.io/client-go/") || strings.HasPrefix(pkg, module+"controllers") ||
			strings.HasPrefix(pkg, module+"test/") || pkg == "testing" {
			t.Errorf("the plugin depends on %s", pkg)
		}
	}
}
