package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOperatorLeavesTheHarnessOut keeps the operator binary apart from the test harness: the simulator, the
// simulated kubelet, the benchmark and the local-cluster helpers live under test/harness and must not be linked
// into the manager, nor may the manager link the testing package.
func TestOperatorLeavesTheHarnessOut(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages; expected the manager's whole dependency tree", len(deps))
	}
	for _, pkg := range deps {
		if strings.Contains(pkg, "/probe-tuner/test/") || pkg == "testing" {
			t.Errorf("the manager depends on %s", pkg)
		}
	}
}
