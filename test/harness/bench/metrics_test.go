package bench

import (
	"strings"
	"testing"
)

func TestReversals(t *testing.T) {
	ch := func(probe, field string, from, to int32) Change {
		return Change{Container: "app", Probe: probe, Field: field, From: from, To: to}
	}
	cases := []struct {
		name    string
		changes []Change
		want    int
	}{
		{name: "none", want: 0},
		{name: "raised twice", changes: []Change{ch("startup", "failureThreshold", 3, 6), ch("startup", "failureThreshold", 6, 12)}, want: 0},
		{name: "raised then lowered", changes: []Change{ch("startup", "failureThreshold", 3, 6), ch("startup", "failureThreshold", 6, 4)}, want: 1},
		{name: "down, up, down", changes: []Change{ch("startup", "failureThreshold", 30, 15), ch("startup", "failureThreshold", 15, 20), ch("startup", "failureThreshold", 20, 10)}, want: 2},
		{name: "a probe added then removed by a revert", changes: []Change{ch("startup", "probe", 0, 1), ch("startup", "probe", 1, 0)}, want: 1},
		{name: "different fields move independently", changes: []Change{ch("liveness", "failureThreshold", 3, 6), ch("liveness", "timeoutSeconds", 5, 2)}, want: 0},
		{name: "the same field of different probes", changes: []Change{ch("liveness", "failureThreshold", 3, 6), ch("readiness", "failureThreshold", 6, 3)}, want: 0},
		{name: "a no-op change does not reset the direction", changes: []Change{ch("startup", "failureThreshold", 3, 6), ch("startup", "failureThreshold", 6, 6), ch("startup", "failureThreshold", 6, 3)}, want: 1},
	}
	for _, tc := range cases {
		if got := reversals(tc.changes); got != tc.want {
			t.Errorf("%s: %d reversals, want %d", tc.name, got, tc.want)
		}
	}
}

func TestCost(t *testing.T) {
	m := Metrics{ProbeRestarts: 2, UnavailableSeconds: 100, DetectionSeconds: 30}
	if got, want := cost(m), 2*WeightRestart+100*WeightUnavailable+30*WeightDetection; got != want {
		t.Errorf("cost = %v, want %v", got, want)
	}
}

func TestSummaryAndTargets(t *testing.T) {
	res := func(name string, problem bool, b, tu, o Metrics, changes ...Change) ScenarioResult {
		r := ScenarioResult{Name: name, ProbeProblem: problem, Baseline: b, Tuned: tu, Oracle: o, Changes: changes, ChangesMade: len(changes)}
		r.NoProblemChanged = !problem && len(changes) > 0
		return r
	}
	good := []ScenarioResult{
		res("crashloop", true, Metrics{ProbeRestarts: 100, UnavailableSeconds: 1000}, Metrics{ProbeRestarts: 2, UnavailableSeconds: 105, Rollouts: 2},
			Metrics{UnavailableSeconds: 100}, Change{Action: "Apply", Probe: "startup", Field: "probe", To: 1}),
		res("hang", false, Metrics{UnavailableSeconds: 50, DetectionSeconds: 25}, Metrics{UnavailableSeconds: 50, DetectionSeconds: 25},
			Metrics{UnavailableSeconds: 40, DetectionSeconds: 20}),
	}
	s := summarise(good)
	if *s.RestartReduction != 0.98 || *s.UnavailableVsOracle != 1.107 || *s.DetectionVsOracle != 1.25 || s.MaxRollouts != 2 || s.Reversals != 0 {
		t.Fatalf("summary = reduction %v, unavailable %v, detection %v, rollouts %d, reversals %d",
			*s.RestartReduction, *s.UnavailableVsOracle, *s.DetectionVsOracle, s.MaxRollouts, s.Reversals)
	}
	if *s.ProbeProblemsOnly.UnavailableVsOracle != 1.05 || *s.ProbeProblemsOnly.DetectionVsOracle != 1 {
		t.Errorf("probe problems only: %v %v", *s.ProbeProblemsOnly.UnavailableVsOracle, *s.ProbeProblemsOnly.DetectionVsOracle)
	}
	verdicts := map[string]Target{}
	for _, tg := range s.Targets {
		verdicts[tg.Name] = tg
	}
	if len(verdicts) != 6 {
		t.Fatalf("%d targets, want 6", len(verdicts))
	}
	for name, pass := range map[string]bool{"restartReduction": true, "unavailableVsOracle": false, "detectionVsOracle": true,
		"maxRollouts": true, "reversals": true, "noChangeWithoutProbeProblem": true} {
		if verdicts[name].Pass != pass {
			t.Errorf("%s: pass = %v, want %v (%+v)", name, verdicts[name].Pass, pass, verdicts[name])
		}
	}
	if r := verdicts["unavailableVsOracle"].Reason; !strings.Contains(r, "hang +10s") || !strings.Contains(r, "crashloop +5s") ||
		strings.Index(r, "hang") > strings.Index(r, "crashloop") {
		t.Errorf("the reason does not name the scenarios, largest first: %q", r)
	}

	bad := append(good, res("churn", false, Metrics{}, Metrics{Rollouts: 4, Reversals: 1}, Metrics{},
		Change{Action: "Apply", Probe: "liveness", Field: "failureThreshold", From: 3, To: 6},
		Change{Action: "Revert", Probe: "liveness", Field: "failureThreshold", From: 6, To: 3}))
	s = summarise(bad)
	verdicts = map[string]Target{}
	for _, tg := range s.Targets {
		verdicts[tg.Name] = tg
	}
	for _, name := range []string{"maxRollouts", "reversals", "noChangeWithoutProbeProblem"} {
		if verdicts[name].Pass || !strings.Contains(verdicts[name].Reason, "churn") {
			t.Errorf("%s: %+v, want a miss naming churn", name, verdicts[name])
		}
	}
	if !strings.Contains(verdicts["reversals"].Reason, "revert@") {
		t.Errorf("the reversal reason does not list the changes: %q", verdicts["reversals"].Reason)
	}
	if len(s.NoProblemChanged) != 1 || s.NoProblemChanged[0] != "churn" {
		t.Errorf("noProblemChanged = %v", s.NoProblemChanged)
	}
}

func TestRatioEdges(t *testing.T) {
	if v := ratio(0, 0); v == nil || *v != 1 {
		t.Errorf("0/0 = %v, want 1", v)
	}
	if v := ratio(5, 0); v != nil {
		t.Errorf("5/0 = %v, want no value", *v)
	}
	s := summarise([]ScenarioResult{{Name: "x", Tuned: Metrics{DetectionSeconds: 5}}})
	for _, tg := range s.Targets {
		if tg.Name == "detectionVsOracle" && (tg.Pass || tg.Value != "n/a") {
			t.Errorf("tuned detection without any oracle detection: %+v", tg)
		}
	}
}
