package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/probetuner/probe-tuner/test/harness/bench"
)

func TestGenList(t *testing.T) {
	for _, args := range [][]string{{"gen", "--list"}, {"gen", "-h"}} {
		code, out, errOut := run(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		for _, f := range bench.Families() {
			if !strings.Contains(out+errOut, f.Name) {
				t.Errorf("%v does not list %s:\n%s%s", args, f.Name, out, errOut)
			}
		}
	}
}

// TestGenWritesARunnableSuite: gen writes one file per scenario, byte-identical for the same arguments, and
// probebench loads and runs them.
func TestGenWritesARunnableSuite(t *testing.T) {
	dir, again := t.TempDir(), t.TempDir()
	for _, d := range []string{dir, again} {
		if code, _, errOut := run("gen", "--family", "well-tuned", "--count", "2", "--seed", "5", "-o", d); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	}
	for _, name := range []string{"well-tuned-001.yaml", "well-tuned-002.yaml"} {
		a, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(again, name))
		if string(a) != string(b) {
			t.Errorf("%s differs between two runs with the same arguments", name)
		}
	}
	code, out, errOut := run("-f", dir, "-run", "well-tuned-001")
	if code != 0 || !strings.Contains(out, "well-tuned-001") || !strings.Contains(out, "per-scenario checks") {
		t.Errorf("running the generated suite: exit %d, %s\n%s", code, errOut, out)
	}
}

func TestGenErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"gen", "--family", "nope", "--count", "1", "-o", dir}, 1, `unknown family "nope"`},
		{[]string{"gen", "--count", "1", "-o", dir}, 1, "--family is required"},
		{[]string{"gen", "--family", "all", "-o", dir}, 1, "--count 0"},
		{[]string{"gen", "--family", "all", "--count", "3"}, 1, "-o DIR is required"},
		{[]string{"gen", "--family", "all", "--count", "3", "-o", dir, "extra"}, 1, "unexpected arguments"},
		{[]string{"gen", "--bogus"}, 2, "flag provided but not defined"},
	}
	for _, tc := range cases {
		code, _, errOut := run(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tc.args, code, tc.code, errOut, tc.want)
		}
	}
}
