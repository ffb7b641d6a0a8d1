package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/status"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// FuzzDecodeCheckpoint feeds the checkpoint decoder and the per-workload validation arbitrary ConfigMap data:
// they never panic, a state kept passes validation, and the signals observation derives from a kept state (what
// status shows and the rules act on) hold no negative or absurd count and no negative duration. A kept state
// also survives an encode and a decode.
func FuzzDecodeCheckpoint(f *testing.F) {
	valid, err := encodeCheckpoint(map[string]*tuner.WorkloadState{"cache": {Observation: observe.State{
		Containers: map[string]*observe.ContainerState{"app": {Censored: killedStarts(4, 30*time.Second), Restarts: map[observe.Cause]int{observe.CauseLiveness: 4}}},
		Revisions: []*observe.RevisionState{{Hash: "h1", FirstSeen: testNow.Add(-time.Hour),
			Containers: map[string]*observe.RevisionContainer{"app": {Restarts: map[observe.Cause]int{observe.CauseLiveness: 4}, KillsBeforeReady: 4}}}},
	}}}, []tuningv1alpha1.Decision{{ID: "d-1", Time: metav1.NewTime(testNow.Add(-time.Minute)), Workload: "cache", Container: "app",
		Probe: tuningv1alpha1.ProbeStartup, Field: "probe", To: "120x5s", Action: tuningv1alpha1.DecisionApplied, Reason: "StartupKilledBeforeReady"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(valid))
	for _, seed := range []string{
		`{"version":1,"workloads":{"cache":{"observation":{"containers":{"app":{"restarts":{"liveness":-100},"censored":{"b":{"5":1e308},"n":1}}}}}}}`,
		`{"version":1,"workloads":{"web":{"observation":{"revisions":[{"hash":"h1","firstSeen":"2026-06-01T09:00:00Z","containers":{"app":{"killsBeforeReady":2147483647}}}]}}}}`,
		`{"version":1,"workloads":{"a":{"observation":{"updatedAt":"2099-01-01T00:00:00Z"},"lastChange":{"id":"d-1","time":"2099-01-01T00:00:00Z","changes":[]}}}}`,
		`{"version":2,"workloads":{},"decisions":[{"time":"2099-01-01T00:00:00Z","workload":"w","container":"c","probe":"liveness","field":"f","to":"1","action":"Applied","reason":"R"},{"time":"2026-06-01T09:00:00Z","workload":"w","container":"c","probe":"bogus","field":"f","to":"1","action":"Deleted","reason":"R"}]}`,
		`{"version":3,"workloads":{"a":{"observation":{}}},"decisions":[],"shards":2}`, `{"version":3,"workloads":{},"shards":0}`,
		`{"cache":{"observation":{}},"version":{"observation":{}}}`, `{"version":7}`, `{not json`, `null`, `{"version":1,"workloads":{"x":null}}`,
	} {
		f.Add(seed)
	}
	cfg := observe.DefaultConfig()
	f.Fuzz(func(t *testing.T, raw string) {
		cp, err := decodeCheckpoint([]byte(raw))
		if err != nil {
			return
		}
		workloads := cp.Workloads
		decisions := validDecisions(cp.Decisions, testNow)
		if len(decisions) > status.MaxDecisions {
			t.Fatalf("%d decisions kept, over %d", len(decisions), status.MaxDecisions)
		}
		for _, d := range decisions {
			if d.Time.After(testNow.Add(maxClockSkew)) || d.Time.IsZero() {
				t.Fatalf("decision dated %v kept", d.Time)
			}
		}
		dropInvalid(workloads, testNow)
		for name, ws := range workloads {
			if err := ws.Validate(testNow); err != nil {
				t.Fatalf("%s kept although invalid: %v", name, err)
			}
			for c := range ws.Observation.Containers {
				for _, rev := range append([]*observe.RevisionState{{}}, ws.Observation.Revisions...) {
					hash := ""
					if rev != nil {
						hash = rev.Hash
					}
					sig := observe.ContainerSignals(&ws.Observation, c, hash, testNow, cfg)
					for cause, n := range sig.TotalRestarts {
						if n < 0 || n > observe.MaxCount {
							t.Fatalf("%s/%s: %d %s restarts from a validated state", name, c, n, cause)
						}
					}
					for cause, n := range sig.Restarts {
						if n < 0 || n > observe.MaxCount {
							t.Fatalf("%s/%s revision %s: %d %s restarts from a validated state", name, c, hash, n, cause)
						}
					}
					if sig.KillsBeforeReady < 0 || sig.KillsAfterReady < 0 || sig.StartLowerBound < 0 {
						t.Fatalf("%s/%s: negative signals %+v", name, c, sig)
					}
					if sig.Startup != nil && sig.Startup.Count > 0 && sig.Startup.Quantile(0.99) < 0 {
						t.Fatalf("%s/%s: negative startup p99", name, c)
					}
				}
			}
		}
		again, err := encodeCheckpoint(workloads, decisions)
		if err != nil {
			t.Fatalf("a kept state does not encode: %v", err)
		}
		back, err := decodeCheckpoint(again)
		if err != nil || len(back.Workloads) != len(workloads) || len(validDecisions(back.Decisions, testNow)) != len(decisions) {
			t.Fatalf("a kept state does not decode again: %v (%d of %d workloads)", err, len(back.Workloads), len(workloads))
		}
	})
}
