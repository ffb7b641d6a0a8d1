package audit

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeReadsEveryWorkloadKindAndSkipsTheRest(t *testing.T) {
	const manifest = `# a comment only
---
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent, namespace: kube-system}
  spec: {template: {spec: {containers: [{name: agent}]}}}
- apiVersion: v1
  kind: Service
  metadata: {name: web}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
x-unknown-field: newer API versions may add fields
spec: {template: {spec: {containers: [{name: db}]}}}
---
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec: {template: {spec: {containers: [{name: x}]}}}
---
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}
`
	ws, err := Decode("m.yaml", strings.NewReader(manifest))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range ws {
		got = append(got, w.Source+":"+w.Kind+":"+w.Namespace+"/"+w.Name+":"+w.Spec.Containers[0].Name)
	}
	want := "m.yaml:DaemonSet:kube-system/agent:agent m.yaml:StatefulSet:/db:db m.yaml:Pod:/p:c"
	if strings.Join(got, " ") != want {
		t.Errorf("workloads %v, want %s", got, want)
	}
}

func TestDecodeErrorsNameTheSourceAndTheDocument(t *testing.T) {
	cases := map[string]struct {
		manifest string
		doc      int
	}{
		"bad YAML in the third document": {"kind: Service\n---\n# nothing\n---\nkind: Pod\nspec: [\n", 3},
		"no kind":                        {"apiVersion: v1\nmetadata: {name: x}\n", 1},
		"a field of the wrong type":      {"kind: Deployment\nspec: {replicas: many}\n", 1},
		"a bad List item":                {"kind: List\nitems:\n- {kind: Pod, spec: {containers: 3}}\n", 1},
		"a key given twice":              {"kind: Service\n---\nkind: Pod\nmetadata: {name: a}\nkind: Pod\n", 2},
	}
	for name, tc := range cases {
		_, err := Decode("in.yaml", strings.NewReader(tc.manifest))
		var de *DocumentError
		if !errors.As(err, &de) || de.Source != "in.yaml" || de.Document != tc.doc {
			t.Errorf("%s: error %v, want a DocumentError for in.yaml document %d", name, err, tc.doc)
		}
	}
}

func TestRunsShellScript(t *testing.T) {
	cases := map[string]bool{
		"sh -c true":              true,
		"/bin/bash -ec true":      true,
		"/usr/bin/env sh -c true": true,
		"busybox sh -c true":      true,
		"sh /check.sh":            false,
		"/bin/check -c conf":      false,
		"bash --norc":             false,
		"sh":                      false,
	}
	for cmd, want := range cases {
		if got := runsShellScript(strings.Fields(cmd)); got != want {
			t.Errorf("runsShellScript(%q) = %v, want %v", cmd, got, want)
		}
	}
}

func TestSeverityRankOrdersTheSeverities(t *testing.T) {
	if !(Severity("bogus").Rank() < Info.Rank() && Info.Rank() < Warning.Rank() && Warning.Rank() < Error.Rank()) {
		t.Error("want unknown < info < warning < error")
	}
}
