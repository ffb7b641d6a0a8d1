package policy

import (
	"encoding/json"
	"math"
	"testing"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// FuzzResolveStrings feeds the spec's string fields a user writes (the startup percentile and margin, the
// pacing durations) through JSON, as the API server hands them over, and checks that Resolve never panics and
// that settings it accepts are within the documented bounds: a percentile of 50..99.9 and a margin of 1..10,
// both finite, a cooldown of at least MinCooldown and a verification window of at least MinVerificationWindow.
func FuzzResolveStrings(f *testing.F) {
	for _, seed := range [][4]string{
		{"99", "1.5", "10m", "10m"}, {"99.5", "2", "1m", "30s"}, {"NaN", "Inf", "-5m", "-1h"}, {"1e400", "-0", "0s", "1ns"},
		{"50", "10", "1h30m", "29.9s"}, {" 99", "1.5x", "", "10"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	f.Fuzz(func(t *testing.T, percentile, margin, cooldown, verification string) {
		raw, err := json.Marshal(map[string]any{
			"selector": map[string]any{},
			"startup":  map[string]any{"targetPercentile": percentile, "safetyMargin": margin},
			"pacing":   map[string]any{"cooldown": cooldown, "verificationWindow": verification},
		})
		if err != nil {
			t.Skip()
		}
		var spec tuningv1alpha1.ProbePolicySpec
		if err := json.Unmarshal(raw, &spec); err != nil {
			return // not a spec the API server would hand over
		}
		s, err := Resolve(spec)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an invalid spec without a message")
			}
			return
		}
		p, m := s.Startup.TargetPercentile, s.Startup.SafetyMargin
		if math.IsNaN(p) || p < 50 || p > 99.9 {
			t.Fatalf("targetPercentile %q accepted as %g", percentile, p)
		}
		if math.IsNaN(m) || m < 1 || m > 10 {
			t.Fatalf("safetyMargin %q accepted as %g", margin, m)
		}
		if s.Pacing.Cooldown < MinCooldown {
			t.Fatalf("cooldown %q accepted as %s", cooldown, s.Pacing.Cooldown)
		}
		if s.Pacing.VerificationWindow < MinVerificationWindow {
			t.Fatalf("verificationWindow %q accepted as %s", verification, s.Pacing.VerificationWindow)
		}
	})
}
