package recommend

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// newRun is a containerRun for c with the default settings and an empty plan.
func newRun(c Container) *containerRun {
	plan := &Plan{Probes: map[string]probes.Set{}}
	return &containerRun{in: Input{Settings: settings()}, c: c, plan: plan, next: probes.Set{
		Startup: c.Startup.DeepCopy(), Liveness: c.Liveness.DeepCopy(), Readiness: c.Readiness.DeepCopy(),
	}}
}

func ruleNamed(t *testing.T, name string) (rule, int) {
	t.Helper()
	for i, rl := range rules {
		if rl.name == name {
			return rl, i
		}
	}
	t.Fatalf("no rule %q", name)
	return rule{}, -1
}

// TestRulesAlone runs each rule on its own, without the rules before it or its gate.
func TestRulesAlone(t *testing.T) {
	liveness := makeProbe("/healthz").obj()
	readiness := makeProbe("/ready").obj()
	cases := []struct {
		rule      string
		container Container
		findings  []string // finding reasons, in order
		changes   []string // change reasons, in order
		waiting   string   // a text a waiting line contains
	}{
		{rule: "probesMissing", container: makeContainer("app").restarts(observe.CauseOOM, 3).obj(), findings: []string{ReasonNoProbes}},
		{rule: "probesMissing", container: makeContainer("app").readiness(readiness).obj()},
		{rule: "identicalProbes", container: makeContainer("app").liveness(makeProbe("/health").obj()).readiness(makeProbe("/health").obj()).obj(), findings: []string{ReasonIdenticalProbes}},
		{rule: "identicalProbes", container: makeContainer("app").liveness(liveness).readiness(readiness).obj()},
		{rule: "correlatedLiveness", container: makeContainer("app").liveness(liveness).correlated(2).obj(), findings: []string{ReasonCorrelatedLiveness}},
		{rule: "correlatedLiveness", container: makeContainer("app").replicas(5).liveness(liveness).correlated(2).obj()},
		{rule: "stuckNotReady", container: makeContainer("app").readiness(readiness).notReady("app-1", 2*time.Hour, false).obj(), findings: []string{ReasonStuckNotReady}},
		{rule: "stuckNotReady", container: makeContainer("app").readiness(readiness).notReady("app-1", 2*time.Hour, true).obj()},
		{rule: "startupBudget", container: makeContainer("app").liveness(liveness).startsKilled(3, secs(30)).obj(), changes: []string{ReasonStartupKilled}},
		{rule: "startupBudget", container: makeContainer("app").liveness(liveness).startsKilled(2, secs(30)).obj(), waiting: "startup: 0 completed and 2 killed starts observed recently, 3 needed"},
		{rule: "livenessTransient", container: makeContainer("app").liveness(liveness).livenessKills(3, 220, 0).nearMisses(150, 200, 1000).obj(), changes: []string{ReasonLivenessTransient}},
		{rule: "livenessTransient", container: makeContainer("app").liveness(liveness).livenessKills(4, 22, 1).nearMisses(10, 10, 8000).obj(), findings: []string{"LivenessKillsLookLikeHangs"}},
		{rule: "livenessTighten", container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(6).obj()).liveness(makeProbe("/healthz").failure(30).obj()).
			startsCompleted(repeat(secs(5), 6)...).nearMisses(4, 5, 20000).obj(), changes: []string{ReasonLivenessTightened}},
		{rule: "livenessTighten", container: makeContainer("app").liveness(makeProbe("/healthz").failure(30).obj()).nearMisses(4, 5, 20000).obj()},
		{rule: "slowHangDetection", container: makeContainer("app").liveness(makeProbe("/healthz").failure(30).obj()).obj(), findings: []string{ReasonSlowHangDetection}},
		{rule: "slowHangDetection", container: makeContainer("app").liveness(liveness).obj()},
		{rule: "readinessFlapping", container: makeContainer("app").readiness(readiness).flapping(20, 1, 0.1, 25).obj(), changes: []string{ReasonReadinessFlapping}},
		{rule: "readinessFlapping", container: makeContainer("app").readiness(readiness).flapping(5, 1, 1, 5).obj()},
		{rule: "notAProbeProblem", container: makeContainer("app").liveness(liveness).restarts(observe.CauseOOM, 2).obj(), findings: []string{ReasonNotAProbeProblem}},
		{rule: "notAProbeProblem", container: makeContainer("app").liveness(liveness).restarts(observe.CauseOOM, 2).restarts(observe.CauseLiveness, 1).obj()},
	}
	for _, tc := range cases {
		t.Run(tc.rule+"/"+strings.Join(append(tc.findings, tc.changes...), "+"), func(t *testing.T) {
			rl, _ := ruleNamed(t, tc.rule)
			r := newRun(tc.container)
			rl.apply(r)
			var findings, changes []string
			for _, f := range r.plan.Findings {
				findings = append(findings, f.Reason)
			}
			for _, c := range r.changes {
				changes = append(changes, c.Reason)
			}
			if !slices.Equal(findings, tc.findings) {
				t.Errorf("findings = %v, want %v", findings, tc.findings)
			}
			if !slices.Equal(slices.Compact(changes), tc.changes) {
				t.Errorf("change reasons = %v, want %v", changes, tc.changes)
			}
			if waiting := strings.Join(r.plan.Waiting, "\n"); tc.waiting != "" && !strings.Contains(waiting, tc.waiting) || tc.waiting == "" && waiting != "" {
				t.Errorf("waiting = %q, want %q", waiting, tc.waiting)
			}
		})
	}
}

// TestRuleGates checks which earlier findings keep each rule from running.
func TestRuleGates(t *testing.T) {
	gating := []string{ReasonNoProbes, ReasonIdenticalProbes, ReasonCorrelatedLiveness, ReasonStuckNotReady, ReasonNotAProbeProblem}
	blockedBy := map[string][]string{
		"probesMissing":      nil,
		"identicalProbes":    {ReasonNoProbes},
		"correlatedLiveness": {ReasonNoProbes},
		"stuckNotReady":      {ReasonNoProbes},
		"startupBudget":      {ReasonNoProbes, ReasonCorrelatedLiveness},
		"livenessTransient":  {ReasonNoProbes, ReasonIdenticalProbes, ReasonCorrelatedLiveness},
		"livenessTighten":    {ReasonNoProbes, ReasonIdenticalProbes, ReasonCorrelatedLiveness},
		"slowHangDetection":  {ReasonNoProbes},
		"readinessFlapping":  {ReasonNoProbes, ReasonCorrelatedLiveness},
		"notAProbeProblem":   {ReasonNoProbes},
	}
	if len(rules) != len(blockedBy) {
		t.Fatalf("%d rules, %d expected", len(rules), len(blockedBy))
	}
	for name, blockers := range blockedBy {
		rl, _ := ruleNamed(t, name)
		for _, reason := range gating {
			r := newRun(makeContainer("app").obj())
			r.found = map[string]bool{reason: true}
			if ran, want := r.applyRule(rl), !slices.Contains(blockers, reason); ran != want {
				t.Errorf("rule %s after finding %s: ran %v, want %v", name, reason, ran, want)
			}
		}
	}
}

// TestGatingFindingsComeFirst checks that every finding a gate names is made by a rule before the gated one,
// on a container that makes all of them.
func TestGatingFindingsComeFirst(t *testing.T) {
	same := makeProbe("/health").obj()
	for _, c := range []Container{
		makeContainer("app").obj(), // no probes
		makeContainer("app").liveness(same).readiness(same).correlated(3).obj(),
	} {
		r := newRun(c)
		madeBy := map[string]int{}
		for i, rl := range rules {
			rl.apply(r) // ungated: every rule that can make its finding does
			for _, f := range r.plan.Findings {
				if _, ok := madeBy[f.Reason]; !ok {
					madeBy[f.Reason] = i
				}
			}
		}
		for i, rl := range rules {
			for _, reason := range rl.unless {
				if at, ok := madeBy[reason]; ok && at >= i {
					t.Errorf("rule %s is gated on %s, which rule %s makes only after it", rl.name, reason, rules[at].name)
				}
			}
		}
		if len(madeBy) == 0 {
			t.Errorf("no finding made for %+v", c)
		}
	}
}

// TestRecommendGates checks the gates end to end: findings that make observations misleading keep every rule
// they gate from changing or explaining anything.
func TestRecommendGates(t *testing.T) {
	same := makeProbe("/health").obj()
	cases := []struct {
		name      string
		container Container
		findings  []string
		changes   []string
	}{
		{
			name:      "a container without probes gets no other finding",
			container: makeContainer("app").restarts(observe.CauseOOM, 3).notReady("app-1", 2*time.Hour, false).obj(),
			findings:  []string{ReasonNoProbes},
		},
		{
			name: "correlated kills keep startup and readiness as they are, but not the advice",
			container: makeContainer("app").liveness(makeProbe("/healthz").failure(30).obj()).readiness(makeProbe("/ready").obj()).correlated(3).
				startsKilled(3, secs(30)).flapping(20, 1, 0.1, 25).restarts(observe.CauseOOM, 1).obj(),
			findings: []string{ReasonCorrelatedLiveness, ReasonSlowHangDetection},
		},
		{
			name:      "identical probes keep liveness as it is, but not startup or readiness",
			container: makeContainer("app").liveness(same).readiness(same).livenessKills(3, 220, 0).nearMisses(150, 200, 1000).flapping(20, 1, 0.1, 25).obj(),
			findings:  []string{ReasonIdenticalProbes},
			changes:   []string{ReasonReadinessFlapping},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := Recommend(Input{Settings: settings(), Containers: []Container{tc.container}})
			var findings, changes []string
			for _, f := range plan.Findings {
				findings = append(findings, f.Reason)
			}
			for _, c := range plan.Changes {
				changes = append(changes, c.Reason)
			}
			if !slices.Equal(findings, tc.findings) {
				t.Errorf("findings = %v, want %v", findings, tc.findings)
			}
			if !slices.Equal(slices.Compact(changes), tc.changes) {
				t.Errorf("change reasons = %v, want %v", changes, tc.changes)
			}
		})
	}
}
