package recommend

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// FuzzRecommendInvariants checks, for arbitrary probes, signals and policy bounds, what must always hold: every
// probe written is valid, no bound is exceeded, no step is larger than the policy allows, the same input gives the
// same output, and nothing changes without enough samples.
func FuzzRecommendInvariants(f *testing.F) {
	for _, seed := range []uint64{1, 2, 3, 42, 1234, 99999} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		s := randomSettings(rng)
		c := randomContainer(rng)
		in := Input{Settings: s, Containers: []Container{c}}

		plan := Recommend(in)
		if again := Recommend(in); !reflect.DeepEqual(plan, again) {
			t.Fatalf("same input, different output:\n%+v\n%+v", plan, again)
		}
		checkInvariants(t, s, c, plan)
	})
}

func checkInvariants(t *testing.T, s policy.Settings, c Container, plan Plan) {
	t.Helper()
	sig := c.Signals
	minSamples := int(s.Pacing.MinSamples)
	// A liveness probe slower to detect a hang than the policy allows is reported as advice, and only then.
	slow := false
	if next, ok := plan.Probes[c.Name]; ok && next.Liveness != nil {
		v := probes.Of(next.Liveness)
		slow = probes.TimeToDetect(v.FailureThreshold, v.PeriodSeconds, v.TimeoutSeconds) > int64(s.Liveness.MaxTimeToDetectSeconds)
	} else if c.Liveness != nil {
		v := probes.Of(c.Liveness)
		slow = probes.TimeToDetect(v.FailureThreshold, v.PeriodSeconds, v.TimeoutSeconds) > int64(s.Liveness.MaxTimeToDetectSeconds)
	}
	reported := false
	for _, f := range plan.Findings {
		if f.Reason == ReasonSlowHangDetection {
			reported = true
			if f.Severity != Info {
				t.Fatalf("%s is advice, reported as %s", f.Reason, f.Severity)
			}
		}
	}
	if reported != slow {
		t.Fatalf("%s reported %v, want %v (liveness %+v, maxTimeToDetectSeconds %d)", ReasonSlowHangDetection, reported, slow, c.Liveness, s.Liveness.MaxTimeToDetectSeconds)
	}
	next, changed := plan.Probes[c.Name]
	if !changed {
		if len(plan.Changes) > 0 {
			t.Fatalf("changes without probes: %+v", plan.Changes)
		}
		return
	}
	for _, k := range probes.Kinds {
		if err := probes.Validate(next.Get(k), k); err != nil {
			t.Fatalf("invalid %s probe written: %v\n%+v", k, err, plan.Changes)
		}
	}
	step := s.Pacing.MaxStepPercent
	allowed := func(from int32) int32 { return max(1, from*step/100) }
	for _, ch := range plan.Changes {
		after := probes.Of(next.Get(ch.Probe))
		switch {
		case ch.Probe == probes.Startup:
			if weight(sig.Startup)+weight(sig.Censored) < float64(minSamples) {
				t.Fatalf("startup changed without enough samples: %+v (censored %d, completed %d)", ch, sig.CensoredStarts, sig.Startup.Count)
			}
			if after.Budget() > s.Startup.MaxBudgetSeconds {
				t.Fatalf("startup budget %d above the bound %d", after.Budget(), s.Startup.MaxBudgetSeconds)
			}
			if ch.Field == "failureThreshold" {
				before := probes.Of(c.Startup)
				// Growth is bound only by maxBudgetSeconds (checked above); shrinking by the step and by twice
				// the longest start seen.
				if shrunk := before.Budget() - max(before.Budget()*step/100, 1) - before.PeriodSeconds; after.Budget() < before.Budget() && after.Budget() < shrunk {
					t.Fatalf("startup budget shrank %d -> %d, more than a step of %d%%", before.Budget(), after.Budget(), step)
				}
				if after.Budget() < before.Budget() && float64(after.Budget()+before.PeriodSeconds) < 2*sig.Startup.Max {
					t.Fatalf("startup budget shrank %d -> %d, below twice the longest start %.1fs", before.Budget(), after.Budget(), sig.Startup.Max)
				}
			}
		case ch.Probe == probes.Liveness && ch.Field == "initialDelaySeconds":
			if ch.Reason != ReasonLivenessGated && weight(sig.Startup)+weight(sig.Censored) < float64(minSamples) {
				t.Fatalf("liveness delay changed without enough samples: %+v", ch)
			}
		case ch.Probe == probes.Liveness && ch.Reason == ReasonLivenessTightened:
			before := probes.Of(c.Liveness)
			if probes.TimeToDetect(before.FailureThreshold, before.PeriodSeconds, before.TimeoutSeconds) <= int64(s.Liveness.MaxTimeToDetectSeconds) {
				t.Fatalf("liveness tightened although within the bound: %+v", ch)
			}
			if after.TimeToDetect() > int64(s.Liveness.MaxTimeToDetectSeconds) || ch.To >= ch.From || after.FailureThreshold < s.Liveness.MinFailureThreshold {
				t.Fatalf("liveness tightened to %d, outside the bound: %+v", after.TimeToDetect(), ch)
			}
			if ch.Field == probes.PeriodSeconds && (ch.To < minTightenedPeriodSeconds || ch.To <= after.TimeoutSeconds || after.FailureThreshold < min(defaultFailureThreshold, before.FailureThreshold)) {
				t.Fatalf("liveness period shortened to %ds with %d failures and a timeout of %ds: %+v", ch.To, after.FailureThreshold, after.TimeoutSeconds, ch)
			}
			// The expected needless kills, in runs of failures at the period they were counted at.
			run := after.FailureThreshold
			if after.PeriodSeconds != before.PeriodSeconds {
				run = max(1, (after.FailureThreshold-1)*after.PeriodSeconds/before.PeriodSeconds)
			}
			if n := needlessKillsPerWeek(sig, before.PeriodSeconds, run, 0); n >= MaxNeedlessKillsPerReplicaWeek || sig.LivenessProbes < 1 {
				t.Fatalf("liveness tightened to %d failures %ds apart with %.2g expected needless kills per replica-week", after.FailureThreshold, after.PeriodSeconds, n)
			}
		case ch.Probe == probes.Liveness:
			if min(sig.KillsAfterReady, sig.Restarts[observe.CauseLiveness]) < minSamples {
				t.Fatalf("liveness changed without enough samples: %+v", ch)
			}
			b := s.Liveness
			if ch.Field == "failureThreshold" && (ch.To > b.MaxFailureThreshold || ch.To < b.MinFailureThreshold) {
				t.Fatalf("liveness failureThreshold %d outside [%d, %d]", ch.To, b.MinFailureThreshold, b.MaxFailureThreshold)
			}
			if ch.Field == "timeoutSeconds" && ch.To > b.MaxTimeoutSeconds {
				t.Fatalf("liveness timeout %d above the bound %d", ch.To, b.MaxTimeoutSeconds)
			}
			if after.TimeToDetect() > int64(b.MaxTimeToDetectSeconds) {
				t.Fatalf("liveness time to detect %d above the bound %d", after.TimeToDetect(), b.MaxTimeToDetectSeconds)
			}
			checkStep(t, ch, allowed(ch.From), b.MinFailureThreshold)
		case ch.Probe == probes.Readiness:
			if sig.Transitions < minSamples {
				t.Fatalf("readiness changed without enough samples: %+v", ch)
			}
			b := s.Readiness
			if ch.Field == "failureThreshold" && (ch.To > b.MaxFailureThreshold || ch.To < b.MinFailureThreshold) {
				t.Fatalf("readiness failureThreshold %d outside [%d, %d]", ch.To, b.MinFailureThreshold, b.MaxFailureThreshold)
			}
			if (ch.Field == "timeoutSeconds" && after.TimeoutSeconds > b.MaxTimeoutSeconds) || (ch.Field == "successThreshold" && after.SuccessThreshold > b.MaxSuccessThreshold) {
				t.Fatalf("readiness %s %d above its bound", ch.Field, ch.To)
			}
			checkStep(t, ch, allowed(ch.From), b.MinFailureThreshold)
		}
	}
}

// checkStep fails when a field moved more than allowed, unless it was raised to the policy's minimum.
func checkStep(t *testing.T, ch probes.Change, allowed, minBound int32) {
	t.Helper()
	d := ch.To - ch.From
	if d < 0 {
		d = -d
	}
	if d > allowed && !(ch.Field == "failureThreshold" && ch.To == minBound) {
		t.Fatalf("%s %s moved %d -> %d, more than the step of %d", ch.Probe, ch.Field, ch.From, ch.To, allowed)
	}
}

func randomSettings(rng *rand.Rand) policy.Settings {
	pick := func(lo, hi int) int32 { return int32(lo + rng.IntN(hi-lo+1)) }
	lvMin := pick(1, 5)
	rdMin := pick(1, 4)
	spec := tuningv1alpha1.ProbePolicySpec{
		Mode: tuningv1alpha1.ModeAuto,
		Startup: tuningv1alpha1.StartupPolicy{
			PeriodSeconds: pick(1, 20), MaxBudgetSeconds: pick(10, 900), AddWhenMissing: ptrBool(rng.IntN(4) > 0),
		},
		Liveness: tuningv1alpha1.LivenessPolicy{
			MinFailureThreshold: lvMin, MaxFailureThreshold: lvMin + pick(0, 10),
			MaxTimeToDetectSeconds: pick(5, 300), MaxTimeoutSeconds: pick(1, 10),
		},
		Readiness: tuningv1alpha1.ReadinessPolicy{
			FlappingTolerancePerHour: pick(1, 20), MinFailureThreshold: rdMin, MaxFailureThreshold: rdMin + pick(0, 6),
			MaxTimeoutSeconds: pick(1, 10), MaxSuccessThreshold: pick(1, 5),
		},
		Pacing: tuningv1alpha1.PacingPolicy{MinSamples: pick(1, 8), MaxStepPercent: pick(10, 300)},
	}
	s, err := policy.Resolve(spec)
	if err != nil {
		panic(err)
	}
	return s
}

func ptrBool(b bool) *bool { return &b }

func randomProbe(rng *rand.Rand, kind probes.Kind) *corev1.Probe {
	if rng.IntN(4) == 0 {
		return nil
	}
	p := makeProbe("/" + string(kind)).obj()
	// Zero means "unset": the API server's default applies.
	p.InitialDelaySeconds = int32(rng.IntN(3)) * int32(rng.IntN(60))
	p.PeriodSeconds = int32(rng.IntN(31))
	p.TimeoutSeconds = int32(rng.IntN(6))
	p.FailureThreshold = int32(rng.IntN(20))
	if kind == probes.Readiness {
		p.SuccessThreshold = int32(rng.IntN(4))
	} else if rng.IntN(2) == 0 {
		p.SuccessThreshold = 1
	}
	return p
}

func randomContainer(rng *rand.Rand) Container {
	w := makeContainer("app").replicas(1 + rng.IntN(10))
	w.startup(randomProbe(rng, probes.Startup)).liveness(randomProbe(rng, probes.Liveness)).readiness(randomProbe(rng, probes.Readiness))
	if n := rng.IntN(12); n > 0 {
		ds := make([]time.Duration, n)
		for i := range ds {
			ds[i] = time.Duration(rng.Float64() * float64(400*time.Second))
		}
		w.startsCompleted(ds...)
	}
	if rng.IntN(2) == 0 {
		w.startsKilled(rng.IntN(10), time.Duration(rng.IntN(600))*time.Second)
	}
	if rng.IntN(2) == 0 {
		kills := rng.IntN(10)
		w.livenessKills(kills, kills*rng.IntN(8), rng.Float64())
		w.nearMisses(rng.IntN(100), rng.IntN(200), float64(rng.IntN(5000)))
	}
	if rng.IntN(2) == 0 {
		w.flapping(rng.IntN(60), 0.1+rng.Float64()*5, rng.Float64(), rng.IntN(100))
	}
	if rng.IntN(4) == 0 {
		w.correlated(rng.IntN(6))
	}
	// Drawn last, so that the draws above stay what they were for each seed.
	if rng.IntN(3) == 0 {
		w.notReady("web-1", time.Duration(rng.IntN(6*3600))*time.Second, rng.IntN(4) == 0)
		w.readinessFailures(rng.IntN(3) * rng.IntN(100))
		if rd := w.Readiness; rd != nil && rng.IntN(2) == 0 {
			rd.SuccessThreshold = int32(1 + rng.IntN(2000))
		}
	}
	return w.obj()
}
