package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const validScenario = `name: ok
description: a valid scenario
duration: 2h
replicas: 3
deployment:
  metadata: {name: web}
  spec:
    template:
      metadata:
        labels: {app: web}
        annotations: {sim.probetuner.io/startup: "5s"}
      spec:
        containers:
        - name: app
          image: web:1
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
policy: {mode: Auto}
events:
- {at: 30m, deploy: {images: {app: web:2}}}
- {at: 1h, outage: {dependency: db, for: 1m}}
- {at: 90m, hang: {pod: -1}}
`

func TestParseValidScenario(t *testing.T) {
	sc := mustParse(t, validScenario)
	if sc.Seed != 1 || sc.Replicas != 3 || !sc.IsProbeProblem() || sc.Deployment.Namespace != "default" {
		t.Errorf("defaults not applied: seed %d, replicas %d, probe problem %v, namespace %q", sc.Seed, sc.Replicas, sc.IsProbeProblem(), sc.Deployment.Namespace)
	}
	if sc.settings.Mode != "Auto" || sc.settings.Pacing.MinSamples != 3 {
		t.Errorf("policy not resolved: %+v", sc.settings)
	}
	if p := sc.Deployment.Spec.Template.Spec.Containers[0].LivenessProbe; p.PeriodSeconds != 10 || p.FailureThreshold != 3 || p.TimeoutSeconds != 1 {
		t.Errorf("probe defaults not applied: %+v", p)
	}
	if sc.surge != 1 || sc.unavailable != 0 {
		t.Errorf("surge/unavailable = %d/%d, want 1/0 for 3 replicas", sc.surge, sc.unavailable)
	}
	withoutMode := strings.Replace(validScenario, "policy: {mode: Auto}", "policy: {}", 1)
	if sc := mustParse(t, withoutMode); sc.settings.Mode != "Auto" {
		t.Errorf("mode defaults to %q, want Auto", sc.settings.Mode)
	}
}

func TestParseErrors(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(validScenario, old) {
			t.Fatalf("test bug: %q not in the valid scenario", old)
		}
		return strings.Replace(validScenario, old, new, 1)
	}
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{name: "not YAML", yaml: "name: [", want: []string{"not a valid scenario"}},
		{name: "unknown field", yaml: edit("duration: 2h", "duration: 2h\nreplica: 3"), want: []string{`unknown field "replica"`}},
		{name: "unknown Deployment field", yaml: edit("image: web:1", "image: web:1\n          livenessCheck: {}"), want: []string{`unknown field "livenessCheck"`}},
		{name: "missing name and description", yaml: edit("name: ok\ndescription: a valid scenario\n", ""),
			want: []string{"name: required", "description: required"}},
		{name: "bad name", yaml: edit("name: ok", "name: Not_OK"), want: []string{`name: "Not_OK" must be lower-case`}},
		{name: "bad duration", yaml: edit("duration: 2h", "duration: 2 hours"), want: []string{`"2 hours" is not a duration`}},
		{name: "no duration", yaml: edit("duration: 2h\n", ""), want: []string{"duration: required"}},
		{name: "too long", yaml: edit("duration: 2h", "duration: 400h"), want: []string{"longer than the maximum"}},
		{name: "no replicas", yaml: edit("replicas: 3\n", ""), want: []string{"replicas: required"}},
		{name: "too many replicas", yaml: edit("replicas: 3", "replicas: 500"), want: []string{"replicas: 500 is outside 1..50"}},
		{name: "no containers", yaml: edit(`        containers:
        - name: app
          image: web:1
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
`, "        containers: []\n"), want: []string{"at least one container"}},
		{name: "invalid probe", yaml: edit("livenessProbe: {httpGet: {path: /healthz, port: 8080}}", "livenessProbe: {httpGet: {path: /healthz, port: 8080}, successThreshold: 2}"),
			want: []string{"deployment.spec.template.spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"}},
		{name: "invalid behaviour annotation", yaml: edit(`sim.probetuner.io/startup: "5s"`, `sim.probetuner.io/startup: "4x5s"`),
			want: []string{"deployment.spec.template.metadata.annotations", "4x5s"}},
		{name: "Recreate strategy", yaml: edit("  spec:\n    template:", "  spec:\n    strategy: {type: Recreate}\n    template:"), want: []string{`"Recreate" is not supported`}},
		{name: "surge and unavailable both zero", yaml: edit("  spec:\n    template:", "  spec:\n    strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}\n    template:"),
			want: []string{"may not both be 0"}},
		{name: "invalid policy", yaml: edit("policy: {mode: Auto}", "policy: {mode: Auto, liveness: {minFailureThreshold: 5, maxFailureThreshold: 2}}"),
			want: []string{"policy: liveness.minFailureThreshold (5) is greater than liveness.maxFailureThreshold (2)"}},
		{name: "policy names an unknown container", yaml: edit("policy: {mode: Auto}", "policy: {mode: Auto, containers: [sidecar]}"),
			want: []string{`policy.containers[0]: "sidecar" is not a container`}},
		{name: "event after the end", yaml: edit("{at: 90m, hang: {pod: -1}}", "{at: 3h, hang: {pod: -1}}"), want: []string{"events[2].at: 3h0m0s is outside the run"}},
		{name: "events out of order", yaml: edit("{at: 1h, outage", "{at: 10m, outage"), want: []string{"events[1].at: 10m0s comes before the previous event"}},
		{name: "event with two actions", yaml: edit("{at: 90m, hang: {pod: -1}}", "{at: 90m, hang: {pod: -1}, outage: {for: 1m}}"),
			want: []string{"events[2]: set exactly one of deploy, outage and hang (found 2)"}},
		{name: "event without action", yaml: edit("{at: 90m, hang: {pod: -1}}", "{at: 90m}"), want: []string{"(found 0)"}},
		{name: "hang out of range", yaml: edit("hang: {pod: -1}", "hang: {pod: 3}"), want: []string{"events[2].hang.pod: 3 is out of range for 3 replicas"}},
		{name: "hang in an unknown container", yaml: edit("hang: {pod: -1}", "hang: {pod: 0, container: db}"), want: []string{`events[2].hang.container: "db" is not a container`}},
		{name: "deploy of an unknown container", yaml: edit("images: {app: web:2}", "images: {api: web:2}"), want: []string{`events[0].deploy.images: "api" is not a container`}},
		{name: "deploy that changes nothing", yaml: edit("deploy: {images: {app: web:2}}", "deploy: {}"), want: []string{"events[0].deploy: changes nothing"}},
		{name: "deploy with a bad annotation", yaml: edit("deploy: {images: {app: web:2}}", `deploy: {annotations: {sim.probetuner.io/hang-after: "soon"}}`),
			want: []string{"events[0].deploy.annotations", "soon"}},
		{name: "outage without length", yaml: edit("outage: {dependency: db, for: 1m}", "outage: {dependency: db}"), want: []string{"events[1].outage.for: required"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadReportsEveryFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", validScenario)
	write("b.yaml", validScenario) // the same name twice
	write("c.yml", strings.Replace(validScenario, "duration: 2h", "duration: -1h", 1))
	write("notes.txt", "not a scenario")
	_, err := Load(dir)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, w := range []string{filepath.Join(dir, "b.yaml") + `: name: "ok" is already used by ` + filepath.Join(dir, "a.yaml"),
		filepath.Join(dir, "c.yml") + ": duration: required and must be positive"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error\n%s\ndoes not contain %q", msg, w)
		}
	}
	if strings.Contains(msg, "notes.txt") {
		t.Errorf("a non-YAML file was read: %s", msg)
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing path is not an error")
	}
	empty := t.TempDir()
	if _, err := Load(empty); err == nil || !strings.Contains(err.Error(), "no *.yaml scenario file") {
		t.Errorf("empty directory: %v", err)
	}
}

// TestPublicSuiteIsValid keeps test/scenarios loadable and covering what issue #6 asks for.
func TestPublicSuiteIsValid(t *testing.T) {
	scs, err := Load(filepath.Join("..", "..", "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) < 15 {
		t.Errorf("%d scenarios, want at least 15", len(scs))
	}
	notProblems := 0
	for _, s := range scs {
		if !s.IsProbeProblem() {
			notProblems++
		}
		if s.settings.Mode != "Auto" {
			t.Errorf("%s: mode %s, want Auto", s.Name, s.settings.Mode)
		}
	}
	if notProblems < 4 {
		t.Errorf("%d scenarios without a probe problem, want at least 4 (OOM, crash, well-tuned, no probes)", notProblems)
	}
}
