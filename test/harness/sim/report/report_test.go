package report

import (
	"strings"
	"testing"
	"time"
)

const twoDeployments = `
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata:
      labels: {app: api}
      annotations:
        sim.probetuner.io/oom-after: "10m"
    spec:
      containers:
      - name: app
        image: example/api:2
        livenessProbe: {tcpSocket: {port: 8080}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: jobs}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
      - name: w
        image: example/worker:2
`

func TestLoadAndRun(t *testing.T) {
	deps, err := LoadDeployments(strings.NewReader(twoDeployments))
	if err != nil {
		t.Fatal(err)
	}
	if len(deps) != 2 || deps[0].Name != "api" || deps[1].Namespace != "jobs" {
		t.Fatalf("deployments %v", deps)
	}
	res, err := Run(Config{Deployments: deps, Duration: 25 * time.Minute, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Totals.Replicas != 3 || len(res.Replicas) != 3 {
		t.Errorf("replicas %d", res.Totals.Replicas)
	}
	// OOM at 10m and at 20m (restart at once, then after 10m again).
	if res.Totals.Restarts.OOM != 4 {
		t.Errorf("oom restarts %d, want 4 (2 replicas x 2)", res.Totals.Restarts.OOM)
	}
	if lt := res.Replicas[0].LastTermination; lt == nil || lt.Reason != "OOMKilled" || lt.ExitCode != 137 || lt.Cause != "oom" {
		t.Errorf("last termination %+v", lt)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"apiVersion: v1\nkind: Service\nmetadata: {name: x}\n", "no apps/v1 Deployment found"},
		{"apiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: x}\n", `apiVersion "apps/v1beta1" is not supported`},
		{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicaz: 3}\n", `unknown field "replicaz"`},
		{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {}\n", "has no metadata.name"},
		{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n", "appears twice"},
	} {
		_, err := LoadDeployments(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}
