package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// tunedDeployment is a Deployment as kubectl shows it after probe-tuner raised its liveness failureThreshold 3 -> 6.
const tunedDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: records
  namespace: shop
  uid: uid-records
  generation: 3
  resourceVersion: "42"
  annotations:
    probetuner.io/last-change: '{"id":"d-1","time":"2026-06-01T09:00:00Z","policy":"p","action":"Apply","deployment":"records","uid":"uid-records","generation":2,"seq":1,"changesApplied":1,"summary":["app liveness failureThreshold 3 -> 6"],"changes":[{"container":"app","probe":"liveness","field":"failureThreshold","from":3,"to":6,"reason":"LivenessKilledReady"}]}'
    probetuner.io/previous-probes: PREVIOUS
spec:
  selector:
    matchLabels: {app: records}
  template:
    metadata:
      labels: {app: records}
    spec:
      containers:
      - name: app
        image: records:1
        livenessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 10
          timeoutSeconds: 1
          successThreshold: 1
          failureThreshold: 6
`

const goodPrevious = `'{"app":{"liveness":{"httpGet":{"path":"/healthz","port":8080},"periodSeconds":10,"timeoutSeconds":1,"successThreshold":1,"failureThreshold":3}}}'`

func TestUndo(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name, previous string
		edit           func(string) string
		code           int
		says           string
	}{
		{name: "the probes before the change are restored", previous: goodPrevious, code: exitOK},
		{name: "garbage is refused", previous: "'garbage'", code: exitRefused, says: "not valid JSON"},
		{name: "invalid probes are refused", previous: `'{"app":{"liveness":{"periodSeconds":10}}}'`, code: exitRefused, says: "handlers"},
		{name: "another workload's probes are refused", previous: strings.Replace(goodPrevious, `"app"`, `"orders"`, 1), code: exitRefused, says: "no container orders"},
		{name: "probes the change did not start from are refused", previous: strings.Replace(goodPrevious, `"failureThreshold":3`, `"failureThreshold":2`, 1),
			code: exitRefused, says: "started from 3"},
		{name: "a copied last change is refused", previous: goodPrevious, edit: func(s string) string { return strings.Replace(s, `"uid":"uid-records"`, `"uid":"uid-orders"`, 1) },
			code: exitRefused, says: "cannot be trusted"},
		{name: "a Deployment never changed is refused", previous: goodPrevious,
			edit: func(s string) string { return strings.Replace(s, "probetuner.io/previous-probes", "other", 1) }, code: exitRefused, says: "has no"},
		{name: "not a Deployment", previous: goodPrevious, edit: func(string) string { return "kind: Pod\n" }, code: exitUsage, says: "not one Deployment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Replace(tunedDeployment, "PREVIOUS", tc.previous, 1)
			if tc.edit != nil {
				in = tc.edit(in)
			}
			var stdout, stderr bytes.Buffer
			code := runUndo(nil, strings.NewReader(in), &stdout, &stderr, now)
			if code != tc.code || !strings.Contains(stderr.String(), tc.says) {
				t.Fatalf("exit %d, stderr %q; want %d saying %q", code, stderr.String(), tc.code, tc.says)
			}
			if code != exitOK {
				if stdout.Len() != 0 {
					t.Errorf("a refused undo printed %q", stdout.String())
				}
				return
			}
			var d appsv1.Deployment
			if err := yaml.Unmarshal(stdout.Bytes(), &d); err != nil {
				t.Fatal(err)
			}
			c := d.Spec.Template.Spec.Containers[0]
			if c.LivenessProbe == nil || c.LivenessProbe.FailureThreshold != 3 || c.Image != "records:1" || d.ResourceVersion != "42" {
				t.Errorf("restored %+v (resourceVersion %q): want failureThreshold 3, the rest as it was", c, d.ResourceVersion)
			}
		})
	}
}
