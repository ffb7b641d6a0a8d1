package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestThePluginsDependencies keeps the plugin a reader: it reads manifests, and (status, explain) the cluster
// through a client, and it runs the simulator and the benchmark's tuned run (simulate); it links none of the
// reconciler, none of the rest of the test harness (the simulated kubelet, the local-cluster helpers) and not
// the testing package.
func TestThePluginsDependencies(t *testing.T) {
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
		harness := strings.HasPrefix(pkg, module+"test/")
		allowed := strings.HasPrefix(pkg, module+"test/harness/sim") || strings.HasPrefix(pkg, module+"test/harness/bench")
		if strings.HasPrefix(pkg, module+"controllers") || (harness && !allowed) || pkg == "testing" {
			t.Errorf("the plugin depends on %s", pkg)
		}
	}
}
