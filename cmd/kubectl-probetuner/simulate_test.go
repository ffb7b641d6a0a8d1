package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSimulateSlowStart: a 40-50 s start behind the default liveness probe crash-loops as written and not with
// the probes probe-tuner ends with (a startup probe).
func TestSimulateSlowStart(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"simulate", "-f", "testdata/slow-start.yaml", "--duration", "2h"}, nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	text := out.String()
	m := regexp.MustCompile(`restarts: liveness\s+(\d+)\s+(\d+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no liveness restarts row:\n%s", text)
	}
	written, _ := strconv.Atoi(m[1])
	recommended, _ := strconv.Atoi(m[2])
	if written < 30 || recommended != 0 {
		t.Errorf("liveness restarts as written %d, recommended %d: want a crash loop (30 or more) as written and none recommended\n%s", written, recommended, text)
	}
	for _, w := range []string{"replicas never ready        3 of 3      0 of 3", "app: startup probe          none", "startup probe added"} {
		if !strings.Contains(text, w) {
			t.Errorf("output lacks %q:\n%s", w, text)
		}
	}
}

func TestSimulateBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	svc := write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n")
	cm := write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\n")
	other := write("pol.yaml", "apiVersion: tuning.probetuner.io/v1alpha1\nkind: ProbePolicy\nmetadata: {name: db}\nspec: {selector: {matchLabels: {app: db}}}\n")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"simulate"}, "no Deployment: give -f deployment.yaml"},
		{[]string{"simulate", "-f", svc}, "no apps/v1 Deployment found"},
		{[]string{"simulate", "-f", filepath.Join(dir, "missing.yaml")}, "no such file"},
		{[]string{"simulate", "-f", "testdata/slow-start.yaml", "--duration", "0s"}, "must be positive"},
		{[]string{"simulate", "-f", "testdata/slow-start.yaml", "--policy", cm}, "want a ProbePolicy"},
		{[]string{"simulate", "-f", "testdata/slow-start.yaml", "--policy", other}, "ProbePolicy db does not select Deployment web"},
	}
	for _, tc := range cases {
		var out, errb bytes.Buffer
		if code := run(tc.args, nil, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errb.String(), exitUsage, tc.want)
		}
	}
}
