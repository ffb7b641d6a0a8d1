package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// slowScenario is a 35-40 s start behind the default liveness window; policy and events are appended.
const slowScenario = `name: slow
description: a slow start
duration: 3h
replicas: 2
deployment:
  metadata: {name: slow}
  spec:
    template:
      metadata:
        labels: {app: slow}
        annotations: {sim.probetuner.io/startup: "35s-40s"}
      spec:
        containers:
        - name: app
          image: slow:1
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
`

// at is a virtual time after the start of a run.
func at(d time.Duration) time.Time { return Epoch.Add(d) }

// killedStarts are consecutive killed starts of one pod's container, at the given times.
func killedStarts(pod string, times ...time.Duration) []exitRec {
	var out []exitRec
	for _, d := range times {
		out = append(out, exitRec{pod: pod, container: "app", at: at(d), startKill: true})
	}
	return out
}

func TestSlowStartCheck(t *testing.T) {
	loop := killedStarts("p0", time.Minute, 2*time.Minute, 4*time.Minute)
	cases := []struct {
		name        string
		extra       string // appended to the scenario
		base, tuned runRecord
		applies     bool
		cured       bool
	}{
		{name: "cured at once", base: runRecord{exits: loop},
			tuned:   runRecord{exits: killedStarts("p0", time.Minute, 2*time.Minute), rollouts: []time.Time{at(3 * time.Minute)}},
			applies: true, cured: true},
		{name: "a killed start after 20 minutes", base: runRecord{exits: loop},
			tuned:   runRecord{exits: killedStarts("p0", time.Minute, 22*time.Minute), rollouts: []time.Time{at(3 * time.Minute)}},
			applies: true, cured: false},
		{name: "three rollouts to cure", base: runRecord{exits: loop},
			tuned:   runRecord{exits: killedStarts("p0", time.Minute), rollouts: []time.Time{at(3 * time.Minute), at(8 * time.Minute), at(15 * time.Minute)}},
			applies: true, cured: false},
		{name: "a third rollout after the deadline does not count", base: runRecord{exits: loop},
			tuned:   runRecord{exits: killedStarts("p0", time.Minute), rollouts: []time.Time{at(3 * time.Minute), at(8 * time.Minute), at(2 * time.Hour)}},
			applies: true, cured: true},
		{name: "the tuned run never kills a start", base: runRecord{exits: loop}, applies: true, cured: true},
		{name: "two killed starts are no crash loop", base: runRecord{exits: killedStarts("p0", time.Minute, 2*time.Minute)}},
		{name: "a completed start breaks the loop",
			base: runRecord{exits: append(killedStarts("p0", time.Minute, 2*time.Minute),
				append([]exitRec{{pod: "p0", container: "app", at: at(30 * time.Minute)}}, killedStarts("p0", time.Hour)...)...)}},
		{name: "killed starts of different pods are no loop",
			base: runRecord{exits: append(killedStarts("p0", time.Minute, 2*time.Minute), killedStarts("p1", 3*time.Minute)...)}},
		{name: "a start longer than maxBudgetSeconds", extra: "policy: {startup: {maxBudgetSeconds: 30}}\n", base: runRecord{exits: loop}},
		{name: "a start that never completes", extra: "", base: runRecord{exits: loop}},
		{name: "a release starts a second phase whose loop is not cured",
			extra: "events:\n- {at: 1h, deploy: {annotations: {sim.probetuner.io/startup: \"50s-55s\"}}}\n",
			base:  runRecord{exits: append(loop, killedStarts("p1", 61*time.Minute, 62*time.Minute, 64*time.Minute)...)},
			tuned: runRecord{exits: append(killedStarts("p0", time.Minute), killedStarts("p1", 61*time.Minute, 90*time.Minute)...),
				rollouts: []time.Time{at(3 * time.Minute), at(63 * time.Minute)}},
			applies: true, cured: false},
	}
	for _, tc := range cases {
		doc := slowScenario + tc.extra
		if tc.name == "a start that never completes" {
			doc = strings.Replace(doc, `"35s-40s"`, `"never"`, 1)
		}
		sc := mustParse(t, doc)
		got := slowStartCheck(sc, behaviourPhases(sc), tc.base, tc.tuned)
		if (got != nil) != tc.applies {
			t.Errorf("%s: applies = %v, want %v (%+v)", tc.name, got != nil, tc.applies, got)
			continue
		}
		if got != nil && got.Cured != tc.cured {
			t.Errorf("%s: cured = %v, want %v (%+v)", tc.name, got.Cured, tc.cured, got.Phases)
		}
	}
}

func TestBehaviourPhasesAndProblems(t *testing.T) {
	cases := []struct {
		name   string
		events string
		want   int
	}{
		{"no release", "", 1},
		{"an image-only release", "events:\n- {at: 1h, deploy: {images: {app: slow:2}}}\n", 1},
		{"a release that changes behaviour", "events:\n- {at: 1h, deploy: {images: {app: slow:2}, annotations: {sim.probetuner.io/startup: \"5s\"}}}\n", 2},
		{"a release that sets what is already set", "events:\n- {at: 1h, deploy: {annotations: {sim.probetuner.io/startup: \"35s-40s\"}}}\n", 1},
		{"two behaviour changes", "events:\n- {at: 1h, deploy: {annotations: {sim.probetuner.io/startup: \"5s\"}}}\n- {at: 2h, deploy: {annotations: {sim.probetuner.io/health-latency: \"1s\"}}}\n", 3},
	}
	for _, tc := range cases {
		sc := mustParse(t, slowScenario+tc.events)
		r := &ScenarioResult{Name: "slow", ProbeProblem: true, Tuned: Metrics{Rollouts: 3}}
		c := checkScenario(sc, r, runRecord{}, runRecord{})
		if c.Problems != tc.want || c.RolloutsPerProblem == nil || *c.RolloutsPerProblem != round3(3/float64(tc.want)) {
			t.Errorf("%s: %d problems, %v rollouts per problem; want %d", tc.name, c.Problems, c.RolloutsPerProblem, tc.want)
		}
	}
	sc := mustParse(t, slowScenario)
	if c := checkScenario(sc, &ScenarioResult{ProbeProblem: false, Tuned: Metrics{Rollouts: 3}}, runRecord{}, runRecord{}); c.Problems != 0 || c.RolloutsPerProblem != nil {
		t.Errorf("no probe problem: %d problems, %v per problem", c.Problems, c.RolloutsPerProblem)
	}
}

func TestWorseThanBaseline(t *testing.T) {
	sc := mustParse(t, slowScenario)
	cases := []struct {
		name                string
		base, tuned         Metrics
		worse               bool
		reversal, noProblem bool
	}{
		{"better", Metrics{ProbeRestarts: 10, UnavailableSeconds: 1000}, Metrics{ProbeRestarts: 1, UnavailableSeconds: 200}, false, false, false},
		{"one more restart", Metrics{ProbeRestarts: 5}, Metrics{ProbeRestarts: 6}, true, false, false},
		{"unavailable at the bound", Metrics{UnavailableSeconds: 1000}, Metrics{UnavailableSeconds: 1050}, false, false, false},
		{"unavailable above the bound", Metrics{UnavailableSeconds: 1000}, Metrics{UnavailableSeconds: 1050.5}, true, false, false},
		{"a reversal", Metrics{}, Metrics{Reversals: 1}, false, true, false},
		{"a change without a problem", Metrics{}, Metrics{Rollouts: 1}, false, false, true},
	}
	for _, tc := range cases {
		r := &ScenarioResult{ProbeProblem: !tc.noProblem, Baseline: tc.base, Tuned: tc.tuned, NoProblemChanged: tc.noProblem}
		c := checkScenario(sc, r, runRecord{}, runRecord{})
		if c.WorseThanBaseline != tc.worse || c.Reversal != tc.reversal || c.ChangedWithoutProblem != tc.noProblem {
			t.Errorf("%s: worse %v, reversal %v, changed without problem %v", tc.name, c.WorseThanBaseline, c.Reversal, c.ChangedWithoutProblem)
		}
	}
}

// TestSummariseChecks: a scenario failing a check is counted and named with its figures; one passing every
// check is named nowhere.
func TestSummariseChecks(t *testing.T) {
	perProblem := func(v float64) *float64 { return &v }
	good := ScenarioResult{Name: "good", ProbeProblem: true, Baseline: Metrics{ProbeRestarts: 9}, Tuned: Metrics{Rollouts: 1},
		Checks: Checks{Problems: 1, RolloutsPerProblem: perProblem(1), SlowStart: &SlowStartCheck{Cured: true, Phases: []CurePhase{{Cured: true}}}}}
	onset := 30.0
	failing := []ScenarioResult{
		{Name: "worse", ProbeProblem: true, Baseline: Metrics{ProbeRestarts: 2}, Tuned: Metrics{ProbeRestarts: 7},
			Checks: Checks{WorseThanBaseline: true, Problems: 1, RolloutsPerProblem: perProblem(0)}},
		{Name: "uncured", ProbeProblem: true, Checks: Checks{Problems: 1, RolloutsPerProblem: perProblem(0),
			SlowStart: &SlowStartCheck{Phases: []CurePhase{{ToSeconds: 3600, OnsetSeconds: &onset, KillsAfterDeadline: 4, RolloutsByDeadline: 1}}}}},
		{Name: "reversed", ProbeProblem: true, Tuned: Metrics{Reversals: 2},
			Changes: []Change{{Action: "Apply", Probe: "liveness", Field: "failureThreshold", From: 3, To: 6}},
			Checks:  Checks{Reversal: true, Problems: 1, RolloutsPerProblem: perProblem(0)}},
		{Name: "meddled", ProbeProblem: false, Tuned: Metrics{Rollouts: 1}, NoProblemChanged: true, Checks: Checks{ChangedWithoutProblem: true}},
		{Name: "churn", ProbeProblem: true, Tuned: Metrics{Rollouts: 8}, Checks: Checks{Problems: 2, RolloutsPerProblem: perProblem(4)}},
	}
	s := summariseChecks(append([]ScenarioResult{good}, failing...))
	want := map[string]string{"worseThanBaseline": "worse", "slowStartCured": "uncured", "noReversal": "reversed",
		"noChangeWithoutProblem": "meddled", "rolloutsPerProblem": "churn"}
	if len(s.Checks) != len(want) {
		t.Fatalf("%d checks, want %d", len(s.Checks), len(want))
	}
	for _, c := range s.Checks {
		if c.Pass || c.Failed != 1 || len(c.Worst) != 1 || !strings.HasPrefix(c.Worst[0], want[c.Name]+": ") {
			t.Errorf("%s: %+v, want one failure naming %s", c.Name, c, want[c.Name])
		}
		if strings.Contains(strings.Join(c.Worst, " "), "good") {
			t.Errorf("%s names the passing scenario: %v", c.Name, c.Worst)
		}
	}
	if s.WorseThanBaseline != 1 || s.SlowStartChecked != 2 || s.SlowStartNotCured != 1 || s.ScenariosWithReversals != 1 ||
		s.ChangedWithoutProblem != 1 || s.MaxRolloutsPerProblem != 4 || s.RolloutsPerProblemOver != 1 {
		t.Errorf("counts: %+v", s)
	}
	if w := s.Checks[0].Worst[0]; !strings.Contains(w, "probe restarts 2 -> 7") {
		t.Errorf("worse-than-baseline figures: %q", w)
	}
	if w := s.Checks[1].Worst[0]; !strings.Contains(w, "4 killed starts after 20m later") {
		t.Errorf("slow-start figures: %q", w)
	}

	clean := summariseChecks([]ScenarioResult{good})
	for _, c := range clean.Checks {
		if !c.Pass || c.Failed != 0 || len(c.Worst) != 0 {
			t.Errorf("%s: %+v for a passing suite", c.Name, c)
		}
	}
}

func TestWorstListIsCappedAndOrdered(t *testing.T) {
	var rs []ScenarioResult
	for i := range 14 {
		rs = append(rs, ScenarioResult{Name: string(rune('a' + i)), ProbeProblem: true,
			Baseline: Metrics{ProbeRestarts: 0}, Tuned: Metrics{ProbeRestarts: i + 1}, Checks: Checks{WorseThanBaseline: true}})
	}
	c := summariseChecks(rs).Checks[0]
	if c.Failed != 14 || len(c.Worst) != checkWorst || !strings.HasPrefix(c.Worst[0], "n: ") || !strings.HasPrefix(c.Worst[9], "e: ") {
		t.Errorf("worst = %v (failed %d)", c.Worst, c.Failed)
	}
	tableOf(t, &Result{Scenarios: rs, Summary: summarise(rs)},
		"per-scenario checks", "MISS worseThanBaseline", "14 of 14 scenarios fail", "and 4 more", "PASS noReversal")
}

// tableOf writes the result's table and fails the test for each of want the table lacks; it returns the table.
func tableOf(t *testing.T, res *Result, want ...string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := res.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the table lacks %q:\n%s", w, out)
		}
	}
	return out
}

// TestSlowStartCheckOnRealRuns: a crash loop that nobody tunes (Recommend mode writes nothing) is reported as
// not cured; probe-tuner in Auto mode cures it.
func TestSlowStartCheckOnRealRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs simulations")
	}
	for _, mode := range []tuningv1alpha1.Mode{tuningv1alpha1.ModeRecommend, tuningv1alpha1.ModeAuto} {
		sc := mustParse(t, strings.Replace(slowScenario, "duration: 3h", "duration: 1h", 1)+"policy: {mode: "+string(mode)+"}\n")
		res, err := Run([]*Scenario{sc}, 2)
		if err != nil {
			t.Fatal(err)
		}
		c := res.Scenarios[0].Checks.SlowStart
		if c == nil {
			t.Fatalf("%s: the slow-start check does not apply to a crash loop (baseline %+v)", mode, res.Scenarios[0].Baseline)
		}
		if untuned := mode == tuningv1alpha1.ModeRecommend; c.Cured == untuned {
			t.Errorf("%s: cured = %v: %+v", mode, c.Cured, c.Phases)
		}
	}
}
