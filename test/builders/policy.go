package builders

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// PolicyWrapper builds a ProbePolicy.
type PolicyWrapper struct{ tuningv1alpha1.ProbePolicy }

// MakePolicy starts a ProbePolicy named name in namespace ns, with an empty spec: the API server's defaults
// apply to everything the calls that follow do not set (its selector must be set for the API server to accept it).
func MakePolicy(name, ns string) *PolicyWrapper {
	return &PolicyWrapper{tuningv1alpha1.ProbePolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: tuningv1alpha1.GroupVersion.String(), Kind: "ProbePolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
	}}
}

// Obj returns the policy built so far (the wrapper's own object, not a copy).
func (p *PolicyWrapper) Obj() *tuningv1alpha1.ProbePolicy { return &p.ProbePolicy }

// Selector adds the label key=value to the labels the policy's selector matches.
func (p *PolicyWrapper) Selector(key, value string) *PolicyWrapper {
	if p.Spec.Selector.MatchLabels == nil {
		p.Spec.Selector.MatchLabels = map[string]string{}
	}
	p.Spec.Selector.MatchLabels[key] = value
	return p
}

// Mode sets spec.mode.
func (p *PolicyWrapper) Mode(m tuningv1alpha1.Mode) *PolicyWrapper {
	p.Spec.Mode = m
	return p
}

// Containers sets spec.containers, the names of the containers the policy tunes.
func (p *PolicyWrapper) Containers(names ...string) *PolicyWrapper {
	p.Spec.Containers = names
	return p
}

// StartupPercentile sets spec.startup.targetPercentile, written as in a manifest: "99" is a number, "99.5" a
// string.
func (p *PolicyWrapper) StartupPercentile(v string) *PolicyWrapper {
	p.Spec.Startup.TargetPercentile = intOrString(v)
	return p
}

// SafetyMargin sets spec.startup.safetyMargin, written as in a manifest ("1.5").
func (p *PolicyWrapper) SafetyMargin(v string) *PolicyWrapper {
	p.Spec.Startup.SafetyMargin = intOrString(v)
	return p
}

// StartupPeriod sets spec.startup.periodSeconds, the period of the startup probes the policy adds.
func (p *PolicyWrapper) StartupPeriod(seconds int32) *PolicyWrapper {
	p.Spec.Startup.PeriodSeconds = seconds
	return p
}

// MaxStartupBudget sets spec.startup.maxBudgetSeconds.
func (p *PolicyWrapper) MaxStartupBudget(seconds int32) *PolicyWrapper {
	p.Spec.Startup.MaxBudgetSeconds = seconds
	return p
}

// FlappingTolerance sets spec.readiness.flappingTolerancePerHour.
func (p *PolicyWrapper) FlappingTolerance(perHour int32) *PolicyWrapper {
	p.Spec.Readiness.FlappingTolerancePerHour = perHour
	return p
}

// MinSamples sets spec.pacing.minSamples.
func (p *PolicyWrapper) MinSamples(n int32) *PolicyWrapper {
	p.Spec.Pacing.MinSamples = n
	return p
}

// Cooldown sets spec.pacing.cooldown.
func (p *PolicyWrapper) Cooldown(d time.Duration) *PolicyWrapper {
	p.Spec.Pacing.Cooldown = &metav1.Duration{Duration: d}
	return p
}

// VerificationWindow sets spec.pacing.verificationWindow.
func (p *PolicyWrapper) VerificationWindow(d time.Duration) *PolicyWrapper {
	p.Spec.Pacing.VerificationWindow = &metav1.Duration{Duration: d}
	return p
}

// intOrString is v as a manifest would carry it: a number when it is an integer, a string otherwise.
func intOrString(v string) *intstr.IntOrString {
	x := intstr.Parse(v)
	return &x
}
