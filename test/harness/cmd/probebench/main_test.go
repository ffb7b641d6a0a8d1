package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/probetuner/probe-tuner/test/harness/bench"
)

const testdata = "../../bench/testdata"

func run(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := bench.Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestJSONOutput(t *testing.T) {
	code, out, errOut := run("-f", filepath.Join(testdata, "oom.yaml"), "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Scenarios []struct {
			Name     string         `json:"name"`
			Baseline map[string]any `json:"baseline"`
		} `json:"scenarios"`
		Summary map[string]any `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(res.Scenarios) != 1 || res.Scenarios[0].Name != "smoke-oom" || res.Summary["maxRollouts"] == nil {
		t.Errorf("unexpected result: %+v", res)
	}
	if !strings.Contains(errOut, "1 scenarios in") {
		t.Errorf("no timing line on stderr: %q", errOut)
	}
}

func TestTableAndFilter(t *testing.T) {
	code, out, errOut := run("-f", testdata, "-run", "hang|oom", "-parallel", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "smoke-hang") || !strings.Contains(out, "smoke-oom") || strings.Contains(out, "smoke-slow-start") {
		t.Errorf("-run did not select the scenarios:\n%s", out)
	}
	if !strings.Contains(out, "PASS noChangeWithoutProbeProblem") {
		t.Errorf("no target lines:\n%s", out)
	}
}

func TestErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: bad\ndescription: x\nduration: 1h\nreplicas: 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-f", "no/such/dir"}, 1, "probebench: stat no/such/dir"},
		{[]string{"-f", testdata, "-o", "yaml"}, 1, `-o "yaml": want table or json`},
		{[]string{"-f", testdata, "-run", "nothing-matches"}, 1, "matches no scenario"},
		{[]string{"-f", bad}, 1, bad + ": replicas: required"},
		{[]string{"-f", testdata, "extra"}, 1, "unexpected arguments"},
		{[]string{"-nope"}, 2, "flag provided but not defined"},
		{[]string{"-h"}, 0, "Usage: probebench"},
	}
	for _, tc := range cases {
		code, _, errOut := run(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tc.args, code, tc.code, errOut, tc.want)
		}
	}
}
