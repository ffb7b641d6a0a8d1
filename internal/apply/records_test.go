package apply

import (
	"strings"
	"testing"
	"time"

	"github.com/probetuner/probe-tuner/internal/probes"
)

func TestLastChangeCheck(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	record := func() LastChange {
		return LastChange{ID: "d-1", Time: now.Add(-time.Hour), Action: ActionApply, Deployment: "cache", UID: "uid-cache", Generation: 2, Seq: 1, ChangesApplied: 1,
			Changes: []probes.Change{{Container: "app", Probe: probes.Liveness, Field: probes.FailureThreshold, From: 3, To: 6}}}
	}
	cases := []struct {
		name string
		edit func(*LastChange)
		want string // "" accepts
	}{
		{name: "bound and held", edit: func(*LastChange) {}},
		{name: "legacy, held", edit: func(lc *LastChange) { lc.Deployment, lc.UID, lc.Generation = "", "", 0 }},
		{name: "another Deployment", edit: func(lc *LastChange) { lc.Deployment = "orders" }, want: "written for Deployment orders"},
		{name: "another UID", edit: func(lc *LastChange) { lc.UID = "uid-x" }, want: "UID uid-x"},
		{name: "a later generation", edit: func(lc *LastChange) { lc.Generation = 4 }, want: "generation 4"},
		{name: "within the clock skew", edit: func(lc *LastChange) { lc.Time = now.Add(ClockSkew) }},
		{name: "beyond the clock skew", edit: func(lc *LastChange) { lc.Time = now.Add(ClockSkew + time.Second) }, want: "in the future"},
		{name: "a value not held", edit: func(lc *LastChange) { lc.Changes[0].To = 5 }, want: "holds 6"},
		{name: "a probe added that is not there", edit: func(lc *LastChange) {
			lc.Changes = []probes.Change{{Container: "app", Probe: probes.Startup, Field: probes.WholeProbe, From: 0, To: 1}}
		}, want: "which has none"},
		{name: "a probe removed that is there", edit: func(lc *LastChange) {
			lc.Changes = []probes.Change{{Container: "app", Probe: probes.Liveness, Field: probes.WholeProbe, From: 1, To: 0}}
		}, want: "which has one"},
		{name: "a field of a missing probe", edit: func(lc *LastChange) { lc.Changes[0].Probe = probes.Readiness }, want: "no readiness probe"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lc := record()
			tc.edit(&lc)
			err := lc.Check(fuzzDeployment(), now)
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Check = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseLastChangeRejects(t *testing.T) {
	cases := map[string]string{
		`{`: "not valid JSON",
		`{"time":"2026-06-01T10:00:00Z","action":"Apply","changes":[{"container":"app","probe":"liveness","field":"failureThreshold","to":3}]}`:         "no decision id",
		`{"id":"d","action":"Apply","changes":[{"container":"app","probe":"liveness","field":"failureThreshold","to":3}]}`:                              "no time",
		`{"id":"d","time":"2026-06-01T10:00:00Z","action":"Delete","changes":[{"container":"app","probe":"liveness","field":"failureThreshold"}]}`:      "neither Apply nor Revert",
		`{"id":"d","time":"2026-06-01T10:00:00Z","action":"Apply","changes":[{"container":"app","probe":"lively","field":"failureThreshold"}]}`:         "probe kind",
		`{"id":"d","time":"2026-06-01T10:00:00Z","action":"Apply","changes":[{"container":"app","probe":"liveness","field":"image"}]}`:                  "not a probe timing field",
		`{"id":"d","time":"2026-06-01T10:00:00Z","action":"Apply","changes":[{"container":"app","probe":"liveness","field":"probe","from":0,"to":7}]}`:  "whole-probe",
		`{"id":"d","time":"2026-06-01T10:00:00Z","action":"Apply","changes":[{"container":"app","probe":"liveness","field":"timeoutSeconds","to":-1}]}`: "outside",
		`{"id":"d","time":"2026-06-01T10:00:00Z","action":"Apply","changes":[{"probe":"liveness","field":"timeoutSeconds","to":1}]}`:                    "no container",
		`{"id":"d","time":"2026-06-01T10:00:00Z","action":"Apply","changes":[]}`:                                                                        "no change",
		strings.Repeat(" ", MaxRecordBytes+1): "bytes long",
	}
	for raw, want := range cases {
		if _, err := ParseLastChange(raw); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseLastChange(%.60q) = %v, want %q", raw, err, want)
		}
	}
}

// TestBuildKeepsRecordsReadable: a record too long with its evidence is written without it, and still parses.
func TestBuildKeepsRecordsReadable(t *testing.T) {
	lc := LastChange{ID: "d-1", Time: time.Now(), Action: ActionApply}
	for i := 0; i < 100; i++ {
		lc.Changes = append(lc.Changes, probes.Change{Container: "app", Probe: probes.Liveness, Field: probes.FailureThreshold, From: 3, To: 6,
			Evidence: strings.Repeat("e", 1000)})
	}
	out, err := encodeLastChange(lc)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > MaxRecordBytes || strings.Contains(string(out), "eeee") {
		t.Errorf("record of %d bytes, evidence kept: want it under %d without the evidence", len(out), MaxRecordBytes)
	}
	if _, err := ParseLastChange(string(out)); err != nil {
		t.Errorf("the record written does not parse back: %v", err)
	}
}
