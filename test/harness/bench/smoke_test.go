package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// smoke runs the short scenarios of testdata once for the tests of this file.
func smoke(t *testing.T, workers int) (*Result, []byte) {
	t.Helper()
	scs, err := Load("testdata")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(scs, workers)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	return res, buf.Bytes()
}

func TestSmokeEndToEnd(t *testing.T) {
	res, raw := smoke(t, 2)
	byName := map[string]ScenarioResult{}
	for _, s := range res.Scenarios {
		byName[s.Name] = s
	}

	slow := byName["smoke-slow-start"]
	if slow.Baseline.ProbeRestarts < 20 || slow.Tuned.ProbeRestarts*4 > slow.Baseline.ProbeRestarts {
		t.Errorf("slow start: needless restarts %d without tuning, %d with; want a crash loop that tuning ends", slow.Baseline.ProbeRestarts, slow.Tuned.ProbeRestarts)
	}
	if slow.Tuned.UnavailableSeconds*4 > slow.Baseline.UnavailableSeconds {
		t.Errorf("slow start: %.0f unavailable replica-seconds with tuning against %.0f without", slow.Tuned.UnavailableSeconds, slow.Baseline.UnavailableSeconds)
	}
	if slow.Tuned.Rollouts < 1 || slow.Tuned.Rollouts > 3 || len(slow.Changes) == 0 || slow.Changes[0].Probe != "startup" {
		t.Errorf("slow start: %d rollouts, changes %v; want a startup probe added", slow.Tuned.Rollouts, changeList(slow.Changes))
	}
	if slow.Tuned.LastChangeSeconds == nil || slow.Oracle.Rollouts != 0 || slow.Baseline.Rollouts != 0 {
		t.Errorf("slow start: last change %v, oracle rollouts %d, baseline rollouts %d", slow.Tuned.LastChangeSeconds, slow.Oracle.Rollouts, slow.Baseline.Rollouts)
	}
	if slow.Oracle.Cost > slow.Baseline.Cost || slow.OracleEvaluations == 0 {
		t.Errorf("slow start: oracle cost %.0f above the baseline's %.0f after %d runs", slow.Oracle.Cost, slow.Baseline.Cost, slow.OracleEvaluations)
	}

	oom := byName["smoke-oom"]
	if oom.ChangesMade != 0 || oom.NoProblemChanged || oom.Baseline.OtherRestarts == 0 || oom.Baseline.ProbeRestarts != 0 {
		t.Errorf("oom: changes %v, other restarts %d, probe restarts %d", changeList(oom.Changes), oom.Baseline.OtherRestarts, oom.Baseline.ProbeRestarts)
	}
	if !strings.Contains(strings.Join(oom.Findings, ","), "NotAProbeProblem") {
		t.Errorf("oom: findings %v, want NotAProbeProblem", oom.Findings)
	}

	hang := byName["smoke-hang"]
	for variant, m := range map[string]Metrics{"baseline": hang.Baseline, "tuned": hang.Tuned} {
		if m.Hangs != 1 || m.HangKills != 1 || m.ProbeRestarts != 0 || m.DetectionSeconds < 5 || m.DetectionSeconds > 45 {
			t.Errorf("hang, %s: %d hangs, %d hang kills, %d needless restarts, detected after %.0fs; want one hang caught in 5-45 s",
				variant, m.Hangs, m.HangKills, m.ProbeRestarts, m.DetectionSeconds)
		}
	}
	if hang.ChangesMade != 0 {
		t.Errorf("hang: changes %v to a well-tuned service", changeList(hang.Changes))
	}

	// The JSON names are a fixed contract.
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	scenario := doc["scenarios"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "baseline", "tuned", "oracle"} {
		if _, ok := scenario[k]; !ok {
			t.Errorf("scenarios[] has no %q", k)
		}
	}
	for _, v := range []string{"baseline", "tuned", "oracle"} {
		m := scenario[v].(map[string]any)
		for _, k := range []string{"probeRestarts", "unavailableSeconds", "detectionSeconds", "rollouts", "reversals"} {
			if _, ok := m[k]; !ok {
				t.Errorf("scenarios[].%s has no %q", v, k)
			}
		}
	}
	summary := doc["summary"].(map[string]any)
	for _, k := range []string{"restartReduction", "unavailableVsOracle", "detectionVsOracle", "maxRollouts", "reversals"} {
		if _, ok := summary[k]; !ok {
			t.Errorf("summary has no %q", k)
		}
	}

	out := tableOf(t, res, "smoke-slow-start", "TOTAL", "restartReduction", "maxRollouts", "startup probe added")
	targetLines, checkLines, _ := strings.Cut(out, "\nper-scenario checks")
	if strings.Count(targetLines, "PASS ")+strings.Count(targetLines, "MISS ") != 6 {
		t.Errorf("want one PASS or MISS line per target:\n%s", out)
	}
	if strings.Count(checkLines, "PASS ")+strings.Count(checkLines, "MISS ") != 5 {
		t.Errorf("want one PASS or MISS line per per-scenario check:\n%s", out)
	}
}

// TestDeterminism: the same scenarios and seeds give byte-identical JSON, whatever the parallelism.
func TestDeterminism(t *testing.T) {
	_, one := smoke(t, 1)
	_, three := smoke(t, 3)
	if !bytes.Equal(one, three) {
		t.Fatalf("the JSON differs between two runs:\n%s\n---\n%s", one, three)
	}
}
