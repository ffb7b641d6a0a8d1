package policy

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

func TestResolveAppliesDefaults(t *testing.T) {
	s, err := Resolve(tuningv1alpha1.ProbePolicySpec{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Mode != tuningv1alpha1.ModeRecommend {
		t.Errorf("mode = %s, want Recommend", s.Mode)
	}
	if s.Startup.TargetPercentile != 99 || s.Startup.SafetyMargin != 1.5 || !s.Startup.AddWhenMissing {
		t.Errorf("startup = %+v", s.Startup)
	}
	if s.Pacing.Cooldown != 10*time.Minute || s.Pacing.MinSamples != 3 || s.Pacing.MaxStepPercent != 100 {
		t.Errorf("pacing = %+v", s.Pacing)
	}
	if !s.SelectsContainer("anything") {
		t.Error("an empty container list must select every container")
	}
}

func TestResolveReadsDecimalsAndContainers(t *testing.T) {
	s, err := Resolve(tuningv1alpha1.ProbePolicySpec{
		Mode:       tuningv1alpha1.ModeAuto,
		Containers: []string{"app"},
		Startup: tuningv1alpha1.StartupPolicy{
			TargetPercentile: ptr.To(intstr.FromString("99.5")),
			SafetyMargin:     ptr.To(intstr.FromInt32(2)),
			AddWhenMissing:   ptr.To(false),
		},
		Pacing: tuningv1alpha1.PacingPolicy{Cooldown: &metav1.Duration{Duration: 2 * time.Minute}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Startup.TargetPercentile != 99.5 || s.Startup.SafetyMargin != 2 || s.Startup.AddWhenMissing {
		t.Errorf("startup = %+v", s.Startup)
	}
	if s.Pacing.Cooldown != 2*time.Minute {
		t.Errorf("cooldown = %s", s.Pacing.Cooldown)
	}
	if !s.SelectsContainer("app") || s.SelectsContainer("sidecar") {
		t.Error("containers: want only app selected")
	}
}

func TestResolveRejectsWhatTheSchemaRejects(t *testing.T) {
	cases := []struct {
		name string
		spec tuningv1alpha1.ProbePolicySpec
		want string
	}{
		{"unknown mode", tuningv1alpha1.ProbePolicySpec{Mode: "Yolo"}, `mode "Yolo"`},
		{"percentile", tuningv1alpha1.ProbePolicySpec{Startup: tuningv1alpha1.StartupPolicy{TargetPercentile: ptr.To(intstr.FromString("100"))}}, "targetPercentile 100 is outside 50..99.9"},
		{"percentile text", tuningv1alpha1.ProbePolicySpec{Startup: tuningv1alpha1.StartupPolicy{TargetPercentile: ptr.To(intstr.FromString("p99"))}}, "is not a number"},
		{"margin", tuningv1alpha1.ProbePolicySpec{Startup: tuningv1alpha1.StartupPolicy{SafetyMargin: ptr.To(intstr.FromString("0.9"))}}, "safetyMargin 0.9"},
		{"liveness bounds", tuningv1alpha1.ProbePolicySpec{Liveness: tuningv1alpha1.LivenessPolicy{MinFailureThreshold: 5, MaxFailureThreshold: 2}}, "liveness.minFailureThreshold (5)"},
		{"readiness bounds", tuningv1alpha1.ProbePolicySpec{Readiness: tuningv1alpha1.ReadinessPolicy{MinFailureThreshold: 9}}, "readiness.minFailureThreshold (9)"},
		{"cooldown", tuningv1alpha1.ProbePolicySpec{Pacing: tuningv1alpha1.PacingPolicy{Cooldown: &metav1.Duration{Duration: time.Second}}}, "below the minimum"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Resolve(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Resolve error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
