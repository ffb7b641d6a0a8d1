package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

const validSelector = "selector:\n  matchLabels:\n    app: web\n"

// TestInvalidPoliciesAreRejected checks that the API server refuses nonsense with a message a user understands.
func TestInvalidPoliciesAreRejected(t *testing.T) {
	ns := newNamespace(t)
	cases := []struct {
		name     string
		spec     string
		wantMsgs []string
	}{
		{"missing selector", "mode: Auto\n", []string{"spec.selector: Required value"}},
		{"empty selector", "selector: {}\n", []string{"selector must not be empty"}},
		{"empty matchLabels", "selector:\n  matchLabels: {}\n", []string{"selector must not be empty"}},
		{"unknown mode", validSelector + "mode: Aggressive\n", []string{`spec.mode: Unsupported value: "Aggressive"`, `"Off", "Recommend", "Auto"`}},
		{"unquoted Off is a YAML boolean", validSelector + "mode: Off\n", []string{"spec.mode in body must be of type string"}},
		{"percentile below 50", validSelector + "startup:\n  targetPercentile: 40\n", []string{"targetPercentile must be between 50 and 99.9"}},
		{"percentile above 99.9", validSelector + "startup:\n  targetPercentile: \"99.95\"\n", []string{"targetPercentile must be between 50 and 99.9"}},
		{"percentile not a number", validSelector + "startup:\n  targetPercentile: p99\n", []string{"spec.startup.targetPercentile", "should match"}},
		{"margin below 1", validSelector + "startup:\n  safetyMargin: \"0.8\"\n", []string{"safetyMargin must be at least 1"}},
		{"margin above 10", validSelector + "startup:\n  safetyMargin: 20\n", []string{"safetyMargin must be at most 10"}},
		{"liveness min above max", validSelector + "liveness:\n  minFailureThreshold: 8\n  maxFailureThreshold: 4\n", []string{"liveness.minFailureThreshold must not be greater than liveness.maxFailureThreshold"}},
		{"liveness min above default max", validSelector + "liveness:\n  minFailureThreshold: 20\n", []string{"liveness.minFailureThreshold must not be greater than liveness.maxFailureThreshold"}},
		{"readiness min above max", validSelector + "readiness:\n  minFailureThreshold: 5\n  maxFailureThreshold: 2\n", []string{"readiness.minFailureThreshold must not be greater than readiness.maxFailureThreshold"}},
		{"cooldown below a minute", validSelector + "pacing:\n  cooldown: 30s\n", []string{"cooldown must be at least 1m"}},
		{"cooldown not a duration", validSelector + "pacing:\n  cooldown: ten minutes\n", []string{"spec.pacing.cooldown", "should match"}},
		{"verification window too short", validSelector + "pacing:\n  verificationWindow: 10s\n", []string{"verificationWindow must be at least 30s"}},
		{"negative startup period", validSelector + "startup:\n  periodSeconds: -5\n", []string{"spec.startup.periodSeconds", "greater than or equal to 1"}},
		{"startup budget bound too small", validSelector + "startup:\n  maxBudgetSeconds: 5\n", []string{"spec.startup.maxBudgetSeconds", "greater than or equal to 10"}},
		{"min samples zero", validSelector + "pacing:\n  minSamples: -1\n", []string{"spec.pacing.minSamples", "greater than or equal to 1"}},
		{"duplicate container", validSelector + "containers: [app, app]\n", []string{"spec.containers[1]: Duplicate value"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := policyFromYAML(t, ns, "invalid-"+string(rune('a'+i)), tc.spec)
			err := k8sClient.Create(context.Background(), obj)
			if err == nil {
				t.Fatalf("the API server accepted an invalid ProbePolicy:\n%s", tc.spec)
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			for _, want := range tc.wantMsgs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error message lacks %q:\n%v", want, err)
				}
			}
		})
	}
}

// TestDefaultsAreApplied checks that a policy with only a selector gets every documented default.
func TestDefaultsAreApplied(t *testing.T) {
	ns := newNamespace(t)
	obj := policyFromYAML(t, ns, "minimal", validSelector)
	if err := k8sClient.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating a minimal ProbePolicy: %v", err)
	}
	var got tuningv1alpha1.ProbePolicy
	if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), &got); err != nil {
		t.Fatal(err)
	}
	s := got.Spec
	checks := []struct {
		field     string
		got, want any
	}{
		{"mode", s.Mode, tuningv1alpha1.ModeRecommend},
		{"startup.targetPercentile", s.Startup.TargetPercentile.String(), "99"},
		{"startup.safetyMargin", s.Startup.SafetyMargin.String(), "1.5"},
		{"startup.periodSeconds", s.Startup.PeriodSeconds, int32(5)},
		{"startup.maxBudgetSeconds", s.Startup.MaxBudgetSeconds, int32(600)},
		{"startup.addWhenMissing", *s.Startup.AddWhenMissing, true},
		{"liveness.minFailureThreshold", s.Liveness.MinFailureThreshold, int32(1)},
		{"liveness.maxFailureThreshold", s.Liveness.MaxFailureThreshold, int32(10)},
		{"liveness.maxTimeToDetectSeconds", s.Liveness.MaxTimeToDetectSeconds, int32(120)},
		{"readiness.flappingTolerancePerHour", s.Readiness.FlappingTolerancePerHour, int32(6)},
		{"readiness.maxSuccessThreshold", s.Readiness.MaxSuccessThreshold, int32(3)},
		{"pacing.minSamples", s.Pacing.MinSamples, int32(3)},
		{"pacing.cooldown", s.Pacing.Cooldown.Duration.String(), "10m0s"},
		{"pacing.maxStepPercent", s.Pacing.MaxStepPercent, int32(100)},
		{"pacing.verificationWindow", s.Pacing.VerificationWindow.Duration.String(), "10m0s"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("default of spec.%s = %v, want %v", c.field, c.got, c.want)
		}
	}
}

// TestSamplesApply creates every sample under config/samples.
func TestSamplesApply(t *testing.T) {
	ns := newNamespace(t)
	files, err := filepath.Glob(filepath.Join(repoRoot, "config", "samples", "tuning_*.yaml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("want at least one sample per mode in config/samples, found %d (%v)", len(files), err)
	}
	modes := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(data, &obj.Object); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		obj.SetNamespace(ns)
		if err := k8sClient.Create(context.Background(), obj); err != nil {
			t.Errorf("sample %s was rejected: %v", filepath.Base(f), err)
			continue
		}
		mode, _, _ := unstructured.NestedString(obj.Object, "spec", "mode")
		modes[mode] = true
	}
	for _, m := range []string{"Off", "Recommend", "Auto"} {
		if !modes[m] {
			t.Errorf("no sample in mode %s", m)
		}
	}
}
