// Package policy turns a ProbePolicy's spec into the resolved settings the pure tuning code works with: defaults
// filled in, decimals parsed, durations converted. The API server applies the same defaults and validations
// through the CRD's schema; resolving them again here keeps the tuning code correct for objects that did not come
// through it (tests, the benchmark's scenario files, an older stored version).
package policy

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// Defaults mirror the +kubebuilder:default markers on the API types.
const (
	DefaultTargetPercentile         = 99.0
	DefaultSafetyMargin             = 1.5
	DefaultStartupPeriodSeconds     = 5
	DefaultMaxBudgetSeconds         = 600
	DefaultLivenessMinFailure       = 1
	DefaultLivenessMaxFailure       = 10
	DefaultMaxTimeToDetectSeconds   = 120
	DefaultLivenessMaxTimeout       = 10
	DefaultFlappingTolerancePerHour = 6
	DefaultReadinessMinFailure      = 1
	DefaultReadinessMaxFailure      = 6
	DefaultReadinessMaxTimeout      = 5
	DefaultReadinessMaxSuccess      = 3
	DefaultMinSamples               = 3
	DefaultCooldown                 = 10 * time.Minute
	DefaultMaxStepPercent           = 100
	DefaultVerificationWindow       = 10 * time.Minute
	MinCooldown                     = time.Minute
	// MinVerificationWindow is the shortest verification window, as the CRD's validation says.
	MinVerificationWindow = 30 * time.Second
)

// Settings is a ProbePolicy's spec with every default applied and every value in a directly usable form.
type Settings struct {
	Mode       tuningv1alpha1.Mode
	Containers map[string]bool // empty: every container
	Startup    StartupSettings
	Liveness   LivenessSettings
	Readiness  ReadinessSettings
	Pacing     PacingSettings
}

// StartupSettings are the resolved startup bounds.
type StartupSettings struct {
	TargetPercentile float64 // 50..99.9
	SafetyMargin     float64 // >= 1
	PeriodSeconds    int32
	MaxBudgetSeconds int32
	AddWhenMissing   bool
}

// LivenessSettings are the resolved liveness bounds.
type LivenessSettings struct {
	MinFailureThreshold    int32
	MaxFailureThreshold    int32
	MaxTimeToDetectSeconds int32
	MaxTimeoutSeconds      int32
}

// ReadinessSettings are the resolved readiness bounds.
type ReadinessSettings struct {
	FlappingTolerancePerHour int32
	MinFailureThreshold      int32
	MaxFailureThreshold      int32
	MaxTimeoutSeconds        int32
	MaxSuccessThreshold      int32
}

// PacingSettings are the resolved pacing rules.
type PacingSettings struct {
	MinSamples         int32
	Cooldown           time.Duration
	MaxStepPercent     int32
	VerificationWindow time.Duration
}

// SelectsContainer reports whether the policy tunes the named container.
func (s Settings) SelectsContainer(name string) bool {
	return len(s.Containers) == 0 || s.Containers[name]
}

// Resolve applies defaults to spec and checks the rules the CRD schema enforces, so that a spec that bypassed the
// API server still yields safe settings or a clear error.
func Resolve(spec tuningv1alpha1.ProbePolicySpec) (Settings, error) {
	s := Settings{Mode: spec.Mode}
	if s.Mode == "" {
		s.Mode = tuningv1alpha1.ModeRecommend
	}
	switch s.Mode {
	case tuningv1alpha1.ModeOff, tuningv1alpha1.ModeRecommend, tuningv1alpha1.ModeAuto:
	default:
		return Settings{}, fmt.Errorf("mode %q is not one of Off, Recommend, Auto", spec.Mode)
	}
	if len(spec.Containers) > 0 {
		s.Containers = make(map[string]bool, len(spec.Containers))
		for _, c := range spec.Containers {
			s.Containers[c] = true
		}
	}

	var err error
	st := spec.Startup
	if s.Startup.TargetPercentile, err = decimal(st.TargetPercentile, DefaultTargetPercentile, "startup.targetPercentile", 50, 99.9); err != nil {
		return Settings{}, err
	}
	if s.Startup.SafetyMargin, err = decimal(st.SafetyMargin, DefaultSafetyMargin, "startup.safetyMargin", 1, 10); err != nil {
		return Settings{}, err
	}
	s.Startup.PeriodSeconds = orDefault(st.PeriodSeconds, DefaultStartupPeriodSeconds)
	s.Startup.MaxBudgetSeconds = orDefault(st.MaxBudgetSeconds, DefaultMaxBudgetSeconds)
	s.Startup.AddWhenMissing = st.AddWhenMissing == nil || *st.AddWhenMissing

	lv := spec.Liveness
	s.Liveness = LivenessSettings{
		MinFailureThreshold:    orDefault(lv.MinFailureThreshold, DefaultLivenessMinFailure),
		MaxFailureThreshold:    orDefault(lv.MaxFailureThreshold, DefaultLivenessMaxFailure),
		MaxTimeToDetectSeconds: orDefault(lv.MaxTimeToDetectSeconds, DefaultMaxTimeToDetectSeconds),
		MaxTimeoutSeconds:      orDefault(lv.MaxTimeoutSeconds, DefaultLivenessMaxTimeout),
	}
	if err := failureRange("liveness", s.Liveness.MinFailureThreshold, s.Liveness.MaxFailureThreshold); err != nil {
		return Settings{}, err
	}

	rd := spec.Readiness
	s.Readiness = ReadinessSettings{
		FlappingTolerancePerHour: orDefault(rd.FlappingTolerancePerHour, DefaultFlappingTolerancePerHour),
		MinFailureThreshold:      orDefault(rd.MinFailureThreshold, DefaultReadinessMinFailure),
		MaxFailureThreshold:      orDefault(rd.MaxFailureThreshold, DefaultReadinessMaxFailure),
		MaxTimeoutSeconds:        orDefault(rd.MaxTimeoutSeconds, DefaultReadinessMaxTimeout),
		MaxSuccessThreshold:      orDefault(rd.MaxSuccessThreshold, DefaultReadinessMaxSuccess),
	}
	if err := failureRange("readiness", s.Readiness.MinFailureThreshold, s.Readiness.MaxFailureThreshold); err != nil {
		return Settings{}, err
	}

	pc := spec.Pacing
	s.Pacing = PacingSettings{
		MinSamples:         orDefault(pc.MinSamples, DefaultMinSamples),
		Cooldown:           DefaultCooldown,
		MaxStepPercent:     orDefault(pc.MaxStepPercent, DefaultMaxStepPercent),
		VerificationWindow: DefaultVerificationWindow,
	}
	if pc.Cooldown != nil {
		if pc.Cooldown.Duration < MinCooldown {
			return Settings{}, fmt.Errorf("pacing.cooldown %s is below the minimum of %s", pc.Cooldown.Duration, MinCooldown)
		}
		s.Pacing.Cooldown = pc.Cooldown.Duration
	}
	if pc.VerificationWindow != nil {
		if pc.VerificationWindow.Duration < MinVerificationWindow {
			return Settings{}, fmt.Errorf("pacing.verificationWindow %s is below the minimum of %s", pc.VerificationWindow.Duration, MinVerificationWindow)
		}
		s.Pacing.VerificationWindow = pc.VerificationWindow.Duration
	}
	return s, nil
}

// failureRange rejects failure-threshold bounds of a probe kind ("liveness", "readiness") that leave no
// threshold to choose.
func failureRange(kind string, lo, hi int32) error {
	if lo > hi {
		return fmt.Errorf("%s.minFailureThreshold (%d) is greater than %s.maxFailureThreshold (%d)", kind, lo, kind, hi)
	}
	return nil
}

func orDefault(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

// decimal reads a number written as an integer or a decimal string, checking it lies in [lo, hi].
func decimal(v *intstr.IntOrString, def float64, field string, lo, hi float64) (float64, error) {
	if v == nil {
		return def, nil
	}
	var f float64
	if v.Type == intstr.Int {
		f = float64(v.IntVal)
	} else {
		parsed, err := strconv.ParseFloat(v.StrVal, 64)
		if err != nil {
			return 0, fmt.Errorf("%s %q is not a number", field, v.StrVal)
		}
		f = parsed
	}
	// NaN compares false with every bound: it is refused by name.
	if math.IsNaN(f) || f < lo || f > hi {
		return 0, fmt.Errorf("%s %g is outside %g..%g", field, f, lo, hi)
	}
	return f, nil
}
