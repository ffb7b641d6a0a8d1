package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const corpus = "../../test/audit"

// runCmd runs a command line in-process.
func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func corpusFile(name string) string { return filepath.Join(corpus, name) }

func TestExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"clean file", []string{"audit", "-f", corpusFile("clean-deployment.yaml")}, exitOK},
		{"a warning does not fail by default", []string{"audit", "-f", corpusFile("pt003-liveness-only.yaml")}, exitOK},
		{"a warning fails --fail-on warning", []string{"audit", "-f", corpusFile("pt003-liveness-only.yaml"), "--fail-on", "warning"}, exitFindings},
		{"an info does not fail --fail-on warning", []string{"audit", "-f", corpusFile("pt002-readiness-only.yaml"), "--fail-on=warning"}, exitOK},
		{"an error fails by default", []string{"audit", "-f", corpusFile("pt004-named-port-missing.yaml")}, exitFindings},
		{"an error does not fail --fail-on none", []string{"audit", "-f", corpusFile("pt004-named-port-missing.yaml"), "--fail-on", "none"}, exitOK},
		{"a lower bound makes a clean file fail --fail-on warning", []string{"audit", "-f", corpusFile("clean-deployment.yaml"), "--max-time-to-detect", "30", "--fail-on", "warning"}, exitFindings},
		{"a directory", []string{"audit", "-f", corpus}, exitFindings},
		{"no command", nil, exitUsage},
		{"unknown command", []string{"explain"}, exitUsage},
		{"no -f", []string{"audit"}, exitUsage},
		{"stray argument", []string{"audit", "-f", corpusFile("clean-deployment.yaml"), "extra.yaml"}, exitUsage},
		{"unknown output", []string{"audit", "-f", corpusFile("clean-deployment.yaml"), "-o", "yaml"}, exitUsage},
		{"unknown --fail-on", []string{"audit", "-f", corpusFile("clean-deployment.yaml"), "--fail-on", "info"}, exitUsage},
		{"unknown flag", []string{"audit", "--kubeconfig", "x"}, exitUsage},
		{"missing file", []string{"audit", "-f", corpusFile("no-such-file.yaml")}, exitUsage},
		{"help", []string{"audit", "-h"}, exitOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if code, out, errOut := runCmd(t, "", tc.args...); code != tc.want {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.want, out, errOut)
			}
		})
	}
}

func TestBadYAMLNamesTheFileAndTheDocument(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.yaml")
	data := "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\napiVersion: apps/v1\nkind: Deployment\nspec: [unclosed\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "", "audit", "-f", path)
	if code != exitUsage || !strings.Contains(errOut, path+": document 2:") {
		t.Errorf("exit code %d, stderr %q; want %d and an error naming %s and document 2", code, errOut, exitUsage, path)
	}
	if out != "" {
		t.Errorf("nothing should be reported on bad input, got %q", out)
	}
	code, _, errOut = runCmd(t, "kind: Pod\nspec:\n  containers: {name: 3\n", "audit", "-f", "-")
	if code != exitUsage || !strings.Contains(errOut, "<stdin>: document 1:") {
		t.Errorf("stdin: exit code %d, stderr %q; want %d and an error naming <stdin> and document 1", code, errOut, exitUsage)
	}
}

// jsonKeys are the exact keys of one finding of -o json.
var jsonKeys = []string{"container", "id", "kind", "message", "name", "namespace", "probe", "severity"}

func TestJSONShape(t *testing.T) {
	data, err := os.ReadFile(corpusFile("pt001-pt006-multi-document.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, string(data), "audit", "-f", "-", "-o", "json", "--fail-on", "warning")
	if code != exitFindings {
		t.Fatalf("exit code %d, want %d; stderr %s", code, exitFindings, errOut)
	}
	var doc map[string][]map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not {\"findings\": [objects]}: %v\n%s", err, out)
	}
	if len(doc) != 1 || doc["findings"] == nil {
		t.Fatalf("top-level keys of %s: want exactly findings", out)
	}
	for _, f := range doc["findings"] {
		keys := make([]string, 0, len(f))
		for k, v := range f {
			keys = append(keys, k)
			if _, ok := v.(string); !ok {
				t.Errorf("%s is %T, want a string", k, v)
			}
		}
		slices.Sort(keys)
		if !slices.Equal(keys, jsonKeys) {
			t.Errorf("finding keys %v, want %v", keys, jsonKeys)
		}
	}
	want := []map[string]any{
		{"id": "PT006", "severity": "warning", "kind": "Deployment", "namespace": "shop", "name": "web", "container": "app", "probe": "liveness"},
		{"id": "PT001", "severity": "warning", "kind": "Pod", "namespace": "shop", "name": "debug", "container": "shell", "probe": ""},
	}
	if len(doc["findings"]) != len(want) {
		t.Fatalf("%d findings, want %d:\n%s", len(doc["findings"]), len(want), out)
	}
	for i, w := range want {
		got := doc["findings"][i]
		for k, v := range w {
			if got[k] != v {
				t.Errorf("finding %d: %s = %v, want %v", i, k, got[k], v)
			}
		}
		if msg, _ := got["message"].(string); msg == "" {
			t.Errorf("finding %d has no message", i)
		}
	}
}

func TestJSONWithoutFindingsIsAnEmptyList(t *testing.T) {
	_, out, _ := runCmd(t, "", "audit", "-f", corpusFile("clean-deployment.yaml"), "-o", "json")
	var doc struct {
		Findings json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || string(doc.Findings) != "[]" {
		t.Errorf("output %q: want {\"findings\": []}", out)
	}
}

func TestTextNamesTheFileWorkloadContainerAndCheck(t *testing.T) {
	path := corpusFile("pt013-liveness-other-host.yaml")
	_, out, _ := runCmd(t, "", "audit", "-f", path)
	want := path + ": Deployment shop/web container app liveness probe: error PT013: "
	if !strings.HasPrefix(out, want) {
		t.Errorf("output %q does not start with %q", out, want)
	}
	if !strings.HasSuffix(out, "1 finding(s) in 1 workload(s): 1 error, 0 warning, 0 info\n") {
		t.Errorf("output %q does not end with the count", out)
	}
}
