package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/probetuner/probe-tuner/test/harness/sim/report"
)

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := report.Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestJSONContract checks the fixed JSON fields: totals.restarts.{liveness,
// startup,oom,error,completed}, totals.unavailableSeconds and
// replicas[].firstReadySeconds (null when never ready).
func TestJSONContract(t *testing.T) {
	code, out, stderr := runCLI("run", "-f", "testdata/startup-probe.yaml", "--duration", "10m", "--seed", "1", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Totals struct {
			Restarts           map[string]int `json:"restarts"`
			UnavailableSeconds *float64       `json:"unavailableSeconds"`
		} `json:"totals"`
		Replicas []struct {
			Name              string   `json:"name"`
			FirstReadySeconds *float64 `json:"firstReadySeconds"`
		} `json:"replicas"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"liveness", "startup", "oom", "error", "completed"} {
		if v, ok := doc.Totals.Restarts[k]; !ok || v != 0 {
			t.Errorf("totals.restarts.%s = %d (present %v), want 0", k, v, ok)
		}
	}
	if len(doc.Replicas) != 2 {
		t.Fatalf("%d replicas, want 2", len(doc.Replicas))
	}
	for _, r := range doc.Replicas {
		// Ready at 45s-47s (45s start, plus up to 2 PLEG relists).
		if r.FirstReadySeconds == nil || *r.FirstReadySeconds < 45 || *r.FirstReadySeconds > 50 {
			t.Errorf("%s: firstReadySeconds %v", r.Name, r.FirstReadySeconds)
		}
	}
	if u := doc.Totals.UnavailableSeconds; u == nil || *u < 90 || *u > 100 {
		t.Errorf("unavailableSeconds %v, want about 2 x 45s", u)
	}

	// Without the startup probe the pods never become ready: null.
	code, out, _ = runCLI("run", "-f", "testdata/slow-start.yaml", "--duration", "10m", "-o", "json")
	if code != 0 || !strings.Contains(out, `"firstReadySeconds": null`) || strings.Contains(out, `"liveness": 0,`) {
		t.Errorf("slow start: exit %d\n%s", code, out)
	}
}

func TestDeterministicOutput(t *testing.T) {
	_, a, _ := runCLI("run", "-f", "testdata/slow-start.yaml", "--duration", "1h", "--seed", "5", "-o", "json")
	_, b, _ := runCLI("run", "-f", "testdata/slow-start.yaml", "--duration", "1h", "--seed", "5", "-o", "json")
	_, c, _ := runCLI("run", "-f", "testdata/slow-start.yaml", "--duration", "1h", "--seed", "6", "-o", "json")
	if a != b {
		t.Error("same seed, different output")
	}
	if a == c {
		t.Error("different seed, same output (the startup time is random)")
	}
}

func TestTableAndEvents(t *testing.T) {
	code, out, stderr := runCLI("run", "-f", "testdata/slow-start.yaml", "--duration", "3m", "--events")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"REPLICA", "TOTAL", "Event log:", "Killing", "Container app failed liveness probe, will be restarted", "Events by reason:"} {
		if !strings.Contains(out, want) {
			t.Errorf("table output lacks %q:\n%s", want, out)
		}
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-f", "testdata/bad-annotation.yaml"}, `sim.probetuner.io/startup: "4x5s": not a duration or distribution`},
		{[]string{"run", "-f", "testdata/missing.yaml"}, "missing.yaml"},
		{[]string{"run"}, "-f <file> is required"},
		{[]string{"run", "-f", "testdata/slow-start.yaml", "-o", "yaml"}, `-o "yaml": want json or table`},
		{[]string{"run", "-f", "testdata/slow-start.yaml", "--duration", "-5m"}, "must be positive"},
		{[]string{"run", "-f", "main.go"}, "main.go"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{nil, "missing command"},
	} {
		code, out, stderr := runCLI(tc.args...)
		if code != 1 || !strings.Contains(stderr, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q, want exit 1 mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
}
