package bench

import (
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

// Tuned is what probe-tuner does to one Deployment in a tuned run (the run the suite calls "tuned"): the probes
// at its end, the changes it wrote and its findings.
type Tuned struct {
	Probes   map[string]probes.Set
	Changes  []Change
	Findings []recommend.Finding
	Metrics  Metrics
}

// TuneDeployment runs a Deployment for the given virtual time with probe-tuner in the loop, under the policy
// spec (its mode is taken as Auto, so that what would be recommended is also applied and watched), and returns
// what probe-tuner did. It validates the Deployment as a scenario would be.
func TuneDeployment(d *appsv1.Deployment, spec tuningv1alpha1.ProbePolicySpec, duration time.Duration, seed uint64) (*Tuned, error) {
	spec = *spec.DeepCopy()
	spec.Mode = tuningv1alpha1.ModeAuto
	sc := &Scenario{Name: "simulate", Description: "kubectl probetuner simulate", Duration: Duration{duration}, Seed: seed,
		Deployment: *d.DeepCopy(), Policy: spec}
	if err := sc.validate(); err != nil {
		return nil, errors.New(strings.ReplaceAll(err.Error(), "deployment.", ""))
	}
	res, err := runScenario(sc, runOptions{tune: true})
	if err != nil {
		return nil, fmt.Errorf("tuned run: %w", err)
	}
	return &Tuned{Probes: res.Probes, Changes: res.Changes, Findings: res.Findings, Metrics: res.Metrics}, nil
}
