package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/probetuner/probe-tuner/"

// TestOperatorLeavesTheHarnessOut keeps the operator binary apart from the test harness: the simulator, the
// simulated kubelet, the benchmark and the local-cluster helpers live under test/harness and must not be linked
// into the manager, nor may the manager link the testing package.
func TestOperatorLeavesTheHarnessOut(t *testing.T) {
	deps := goList(t, "-deps", ".")
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages; expected the manager's whole dependency tree", len(deps))
	}
	for _, pkg := range deps {
		if strings.HasPrefix(pkg, module+"test/") || pkg == "testing" {
			t.Errorf("the manager depends on %s", pkg)
		}
	}
}

// allowedImports is the table of docs/architecture.md: the probe-tuner packages each operator package may import.
var allowedImports = map[string][]string{
	"api/v1alpha1":         nil,
	"internal/probes":      {"api/v1alpha1"},
	"internal/policy":      {"api/v1alpha1"},
	"internal/observe":     {"internal/probes"},
	"internal/recommend":   {"internal/probes", "internal/observe", "internal/policy"},
	"internal/apply":       {"internal/probes"},
	"internal/tuner":       {"api/v1alpha1", "internal/probes", "internal/observe", "internal/policy", "internal/recommend", "internal/apply"},
	"internal/status":      {"api/v1alpha1", "internal/probes", "internal/observe", "internal/recommend", "internal/tuner"},
	"internal/podstore":    {"internal/probes"},
	"internal/metrics":     {"api/v1alpha1", "internal/probes"},
	"internal/failpoint":   nil,
	"internal/health":      nil,
	"internal/metricsauth": nil,
	"internal/scheme":      {"api/v1alpha1"},
	"internal/audit":       {"internal/probes"},
}

// TestPackagesImportOnlyWhatTheArchitectureAllows checks every operator package's imports against the table, and
// that the table knows every package (a new one must be placed in docs/architecture.md and here).
func TestPackagesImportOnlyWhatTheArchitectureAllows(t *testing.T) {
	for _, line := range goList(t, "-f", "{{.ImportPath}}:{{join .Imports \" \"}}", "../../api/...", "../../internal/...") {
		pkg, imports, _ := strings.Cut(line, ":")
		pkg = strings.TrimPrefix(pkg, module)
		allowed, known := allowedImports[pkg]
		if !known {
			t.Errorf("%s is not in the architecture table (docs/architecture.md, allowedImports)", pkg)
			continue
		}
		for _, imp := range strings.Fields(imports) {
			if rel, ok := strings.CutPrefix(imp, module); ok && !slices.Contains(allowed, rel) {
				t.Errorf("%s imports %s, which the architecture does not allow", pkg, rel)
			}
		}
	}
}

// TestOperatorLeavesTheAPIServerLibraryOut keeps k8s.io/apiserver (and the CEL, gRPC and OpenTelemetry it
// brings) out of the manager: internal/metricsauth guards the metrics endpoint without it, and linking it again
// doubles the binary and adds some 16 MiB of resident memory.
func TestOperatorLeavesTheAPIServerLibraryOut(t *testing.T) {
	for _, pkg := range goList(t, "-deps", ".") {
		if strings.HasPrefix(pkg, "k8s.io/apiserver/") || strings.HasPrefix(pkg, "github.com/google/cel-go/") {
			t.Errorf("the manager depends on %s", pkg)
		}
	}
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, out)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}
