package audit_test

import (
	"os"
	"path/filepath"
	"testing"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/audit"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

// sameFinding pairs an audit check with the operator's finding of the same static pattern.
var sameFinding = map[string]string{
	audit.ProbesMissing:     recommend.ReasonNoProbes,
	audit.IdenticalProbes:   recommend.ReasonIdenticalProbes,
	audit.SlowHangDetection: recommend.ReasonSlowHangDetection,
}

// TestTheOperatorAgreesWithTheAudit runs the operator's recommendation, with a default policy and nothing
// observed yet, on every container of the corpus: it reports ProbesMissing, IdenticalLivenessAndReadiness and
// LivenessExceedsTimeToDetectBound exactly where the audit reports PT001, PT006 and PT014.
func TestTheOperatorAgreesWithTheAudit(t *testing.T) {
	settings, err := policy.Resolve(tuningv1alpha1.ProbePolicySpec{})
	if err != nil {
		t.Fatal(err)
	}
	opts := audit.Options{MaxTimeToDetectSeconds: int64(settings.Liveness.MaxTimeToDetectSeconds)}
	files, err := filepath.Glob("../../test/audit/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	compared := map[string]int{}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		ws, err := audit.Decode(file, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			audited := map[string]map[string]bool{}
			for _, fd := range audit.Audit(w, opts) {
				if audited[fd.Container] == nil {
					audited[fd.Container] = map[string]bool{}
				}
				audited[fd.Container][fd.ID] = true
			}
			for _, c := range probes.Tunable(&w.Spec) {
				plan := recommend.Recommend(recommend.Input{Settings: settings, Containers: []recommend.Container{
					{Name: c.Name, Startup: c.StartupProbe, Liveness: c.LivenessProbe, Readiness: c.ReadinessProbe}}})
				reported := map[string]bool{}
				for _, fd := range plan.Findings {
					reported[fd.Reason] = true
				}
				for id, reason := range sameFinding {
					if audited[c.Name][id] != reported[reason] {
						t.Errorf("%s %s/%s container %s: audit %s = %v, operator %s = %v",
							file, w.Kind, w.Name, c.Name, id, audited[c.Name][id], reason, reported[reason])
					}
					if reported[reason] {
						compared[id]++
					}
				}
			}
		}
	}
	for id := range sameFinding {
		if compared[id] == 0 {
			t.Errorf("no corpus container has %s: the agreement is untested", id)
		}
	}
}
