package bench

import (
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/probetuner/probe-tuner/test/harness/sim"
)

// Bounds of the per-scenario checks (docs/benchmark.md, "Per-scenario checks").
const (
	// A tuned run is worse than the baseline with more needless probe restarts, or with more unavailability
	// than worseUnavailableFactor x the baseline's + worseUnavailableSlack replica-seconds (the slack absorbs
	// the rollouts a fix itself costs and random draws that fall out of step).
	worseUnavailableFactor = 1.02
	worseUnavailableSlack  = 30.0
	// crashLoopStarts consecutive killed starts of one container make a crash loop.
	crashLoopStarts = 3
	// cureDeadline and cureRollouts bound the cure of a slow-start crash loop: from the first killed start,
	// no killed start after cureDeadline, and at most cureRollouts rollouts until then.
	cureDeadline = 20 * time.Minute
	cureRollouts = 2
	// checkWorst is how many failing scenarios the table names per check.
	checkWorst = 10
)

// Checks are the per-scenario checks of one scenario.
type Checks struct {
	// WorseThanBaseline: the tuned run has more needless probe restarts than the baseline, or more than
	// 1.02 x the baseline's unavailable replica-seconds + 30.
	WorseThanBaseline bool `json:"worseThanBaseline"`
	// SlowStart is the slow-start crash-loop check; null when it does not apply (the baseline shows no crash
	// loop of killed starts, or no start fits the policy's maxBudgetSeconds).
	SlowStart *SlowStartCheck `json:"slowStart"`
	// Reversal: probe-tuner moved a field back in the direction it came from.
	Reversal bool `json:"reversal"`
	// ChangedWithoutProblem: a probe change in a scenario marked probeProblem: false.
	ChangedWithoutProblem bool `json:"changedWithoutProblem"`
	// Problems is the number of distinct probe problems of a probe-problem scenario: 1 plus its releases that
	// change behaviour annotations (0 for a scenario that is not a probe problem).
	Problems int `json:"problems"`
	// RolloutsPerProblem is the tuned run's rollouts divided by Problems; null without a probe problem.
	RolloutsPerProblem *float64 `json:"rolloutsPerProblem"`
}

// SlowStartCheck judges, per behaviour phase (the run between releases that change behaviour) in which the
// baseline crash-loops on killed starts and the longest start fits maxBudgetSeconds, whether the tuned run
// cured it: from its first killed start of the phase (the onset; the phase's start without one), no start is
// killed more than 20 minutes later within the phase, and at most 2 rollouts happen in the phase up to then.
type SlowStartCheck struct {
	Cured  bool        `json:"cured"`
	Phases []CurePhase `json:"phases"`
}

// CurePhase is one phase the slow-start check judged.
type CurePhase struct {
	FromSeconds float64 `json:"fromSeconds"`
	ToSeconds   float64 `json:"toSeconds"`
	// LongestStartSeconds is the longest start of a container the policy tunes, from its annotations (the
	// upper bound of its startup distribution, the p99 of a log-normal one, plus startup-growth to the phase's
	// end); MaxBudgetSeconds is the policy's bound it fits.
	LongestStartSeconds float64 `json:"longestStartSeconds"`
	MaxBudgetSeconds    int32   `json:"maxBudgetSeconds"`
	// BaselineLoop is the longest run of consecutive killed starts of one container in the baseline.
	BaselineLoop int `json:"baselineLoop"`
	// OnsetSeconds is the tuned run's first killed start in the phase; null without one.
	OnsetSeconds *float64 `json:"onsetSeconds"`
	// KillsAfterDeadline counts the tuned run's killed starts more than 20 minutes after the onset.
	KillsAfterDeadline int `json:"killsAfterDeadline"`
	// RolloutsByDeadline counts the tuned run's rollouts in the phase up to 20 minutes after the onset.
	RolloutsByDeadline int  `json:"rolloutsByDeadline"`
	Cured              bool `json:"cured"`
}

// CheckSummary counts the scenarios failing each per-scenario check.
type CheckSummary struct {
	// WorseThanBaseline counts the scenarios whose tuned run is worse than their baseline.
	WorseThanBaseline int `json:"worseThanBaseline"`
	// SlowStartChecked counts the scenarios the slow-start check applies to; SlowStartNotCured those it fails.
	SlowStartChecked  int `json:"slowStartChecked"`
	SlowStartNotCured int `json:"slowStartNotCured"`
	// ScenariosWithReversals counts the scenarios with at least one reversal.
	ScenariosWithReversals int `json:"scenariosWithReversals"`
	// ChangedWithoutProblem counts the scenarios not marked as probe problems that got a probe change.
	ChangedWithoutProblem int `json:"changedWithoutProblem"`
	// MaxRolloutsPerProblem is the largest RolloutsPerProblem over the probe-problem scenarios;
	// RolloutsPerProblemOver counts those above TargetRolloutsPerProblem.
	MaxRolloutsPerProblem  float64 `json:"maxRolloutsPerProblem"`
	RolloutsPerProblemOver int     `json:"rolloutsPerProblemOver"`
	// Checks has a verdict per check, with the worst failing scenarios.
	Checks []Check `json:"checks"`
}

// Check is the verdict of one per-scenario check over the suite.
type Check struct {
	Name string `json:"name"`
	Goal string `json:"goal"`
	// Applied counts the scenarios the check applies to, Failed those that fail it.
	Applied int  `json:"applied"`
	Failed  int  `json:"failed"`
	Pass    bool `json:"pass"`
	// Worst names up to ten failing scenarios, worst first, with the figures that fail them.
	Worst []string `json:"worst"`
}

// checkScenario runs the per-scenario checks of a scenario's result.
func checkScenario(sc *Scenario, r *ScenarioResult, base, tuned runRecord) Checks {
	b, t := r.Baseline, r.Tuned
	c := Checks{
		WorseThanBaseline:     t.ProbeRestarts > b.ProbeRestarts || t.UnavailableSeconds > b.UnavailableSeconds*worseUnavailableFactor+worseUnavailableSlack,
		Reversal:              t.Reversals > 0,
		ChangedWithoutProblem: r.NoProblemChanged,
	}
	phases := behaviourPhases(sc)
	if r.ProbeProblem {
		c.Problems = len(phases)
		v := round3(float64(t.Rollouts) / float64(c.Problems))
		c.RolloutsPerProblem = &v
	}
	c.SlowStart = slowStartCheck(sc, phases, base, tuned)
	return c
}

// phase is a stretch of a run with one behaviour: from the start or a release that changes behaviour
// annotations to the next such release or the end.
type phase struct {
	from, to    time.Duration
	annotations map[string]string
}

// behaviourPhases splits the scenario's run at the releases that change a behaviour annotation.
func behaviourPhases(sc *Scenario) []phase {
	cur := maps.Clone(sc.Deployment.Spec.Template.Annotations)
	out := []phase{{from: 0, annotations: cur}}
	for _, e := range sc.Events {
		if e.Deploy == nil || len(e.Deploy.Annotations) == 0 {
			continue
		}
		next := maps.Clone(cur)
		if next == nil {
			next = map[string]string{}
		}
		for k, v := range e.Deploy.Annotations {
			if v == "" {
				delete(next, k)
			} else {
				next[k] = v
			}
		}
		if maps.Equal(behaviourKeys(cur), behaviourKeys(next)) {
			continue
		}
		out[len(out)-1].to = e.At.Duration
		out = append(out, phase{from: e.At.Duration, annotations: next})
		cur = next
	}
	out[len(out)-1].to = sc.Duration.Duration
	return out
}

// behaviourKeys keeps the simulator's annotations.
func behaviourKeys(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if strings.Contains(k, sim.AnnotationDomain+"/") {
			out[k] = v
		}
	}
	return out
}

// longestStart is the longest start of the containers the policy tunes in a phase, read from its annotations
// with the simulator's parsers; ok is false when a start may never complete.
func longestStart(sc *Scenario, ph phase) (time.Duration, bool) {
	names := sim.ContainerNames(&sc.Deployment.Spec.Template.Spec) // native sidecars start, and are tuned, too
	behaviours, err := sim.ParseBehaviors(ph.annotations, names)
	if err != nil {
		return 0, false // Parse validated every phase's annotations; nothing to judge otherwise
	}
	var longest time.Duration
	for _, n := range names {
		if !sc.settings.SelectsContainer(n) {
			continue
		}
		b := behaviours[n]
		u, ok := b.Startup.Upper()
		if !ok {
			return 0, false
		}
		if b.StartupGrowthPer > 0 {
			u += time.Duration(float64(b.StartupGrowth) * float64(ph.to) / float64(b.StartupGrowthPer))
		}
		longest = max(longest, u)
	}
	return longest, true
}

// slowStartCheck judges the phases in which the baseline crash-loops on killed starts and the longest start
// fits the policy's maxBudgetSeconds; nil when there is none.
func slowStartCheck(sc *Scenario, phases []phase, base, tuned runRecord) *SlowStartCheck {
	budget := sc.settings.Startup.MaxBudgetSeconds
	var out *SlowStartCheck
	for _, ph := range phases {
		longest, ok := longestStart(sc, ph)
		if !ok || longest > time.Duration(budget)*time.Second {
			continue
		}
		loop := longestKillRun(sc, base.exits, ph)
		if loop < crashLoopStarts {
			continue
		}
		p := CurePhase{FromSeconds: ph.from.Seconds(), ToSeconds: ph.to.Seconds(), LongestStartSeconds: round1(longest.Seconds()),
			MaxBudgetSeconds: budget, BaselineLoop: loop}
		from, to := Epoch.Add(ph.from), Epoch.Add(ph.to)
		killed := func(e exitRec) bool {
			return e.startKill && sc.settings.SelectsContainer(e.container) && e.at.Before(to)
		}
		onset, found := from, false
		for _, e := range tuned.exits {
			if killed(e) && !e.at.Before(from) && (!found || e.at.Before(onset)) {
				onset, found = e.at, true
			}
		}
		if found {
			v := round1(onset.Sub(Epoch).Seconds())
			p.OnsetSeconds = &v
		}
		deadline := onset.Add(cureDeadline)
		for _, e := range tuned.exits {
			if killed(e) && e.at.After(deadline) {
				p.KillsAfterDeadline++
			}
		}
		for _, at := range tuned.rollouts {
			if !at.Before(from) && !at.After(deadline) {
				p.RolloutsByDeadline++
			}
		}
		p.Cured = p.KillsAfterDeadline == 0 && p.RolloutsByDeadline <= cureRollouts
		if out == nil {
			out = &SlowStartCheck{Cured: true}
		}
		out.Phases = append(out.Phases, p)
		out.Cured = out.Cured && p.Cured
	}
	return out
}

// longestKillRun is the longest run of consecutive killed starts of one container of one pod (containers the
// policy tunes), counted at the kills that fall in the phase.
func longestKillRun(sc *Scenario, exits []exitRec, ph phase) int {
	runs := map[string]int{}
	longest := 0
	from, to := Epoch.Add(ph.from), Epoch.Add(ph.to)
	for _, e := range exits {
		if !sc.settings.SelectsContainer(e.container) {
			continue
		}
		key := e.pod + "/" + e.container
		if !e.startKill {
			runs[key] = 0
			continue
		}
		runs[key]++
		if !e.at.Before(from) && e.at.Before(to) {
			longest = max(longest, runs[key])
		}
	}
	return longest
}

// summariseChecks counts the failures of each check and names the worst scenarios.
func summariseChecks(rs []ScenarioResult) CheckSummary {
	var s CheckSummary
	type failure struct {
		score float64
		text  string
	}
	collect := func(name, goal string, applies func(ScenarioResult) bool, fails func(ScenarioResult) (bool, float64, string)) Check {
		ch := Check{Name: name, Goal: goal, Worst: []string{}}
		var fs []failure
		for _, r := range rs {
			if !applies(r) {
				continue
			}
			ch.Applied++
			if bad, score, text := fails(r); bad {
				ch.Failed++
				fs = append(fs, failure{score, r.Name + ": " + text})
			}
		}
		sort.SliceStable(fs, func(i, j int) bool { return fs[i].score > fs[j].score })
		for i := 0; i < len(fs) && i < checkWorst; i++ {
			ch.Worst = append(ch.Worst, fs[i].text)
		}
		ch.Pass = ch.Failed == 0
		return ch
	}
	all := func(ScenarioResult) bool { return true }

	s.Checks = append(s.Checks, collect("worseThanBaseline", fmt.Sprintf("no scenario with more probe restarts than the baseline, or unavailability above %.2f x baseline + %.0fs", worseUnavailableFactor, worseUnavailableSlack), all,
		func(r ScenarioResult) (bool, float64, string) {
			b, t := r.Baseline, r.Tuned
			excess := WeightRestart*float64(t.ProbeRestarts-b.ProbeRestarts) + WeightUnavailable*(t.UnavailableSeconds-b.UnavailableSeconds)
			return r.Checks.WorseThanBaseline, excess, fmt.Sprintf("probe restarts %d -> %d, unavailable %.0fs -> %.0fs", b.ProbeRestarts, t.ProbeRestarts, b.UnavailableSeconds, t.UnavailableSeconds)
		}))
	s.Checks = append(s.Checks, collect("slowStartCured", fmt.Sprintf("every baseline crash loop of killed starts that fits maxBudgetSeconds cured within %d rollouts and %s", cureRollouts, fmtDur(cureDeadline)),
		func(r ScenarioResult) bool { return r.Checks.SlowStart != nil },
		func(r ScenarioResult) (bool, float64, string) {
			c := r.Checks.SlowStart
			var parts []string
			score := 0.0
			for _, p := range c.Phases {
				if p.Cured {
					continue
				}
				onset := "no killed start"
				if p.OnsetSeconds != nil {
					onset = "first killed start at " + clock(*p.OnsetSeconds)
				}
				parts = append(parts, fmt.Sprintf("phase %s-%s (start up to %.0fs, baseline loop of %d): %s, %d killed starts after %s later, %d rollouts by then",
					clock(p.FromSeconds), clock(p.ToSeconds), p.LongestStartSeconds, p.BaselineLoop, onset, p.KillsAfterDeadline, fmtDur(cureDeadline), p.RolloutsByDeadline))
				score += float64(p.KillsAfterDeadline) + float64(p.RolloutsByDeadline)/100
			}
			return !c.Cured, score, strings.Join(parts, "; ")
		}))
	s.Checks = append(s.Checks, collect("noReversal", "no field moved back in the direction it came from", all,
		func(r ScenarioResult) (bool, float64, string) {
			return r.Checks.Reversal, float64(r.Tuned.Reversals), fmt.Sprintf("%d reversal(s): %s", r.Tuned.Reversals, changeList(r.Changes))
		}))
	s.Checks = append(s.Checks, collect("noChangeWithoutProblem", "no probe change in a scenario that is not a probe problem",
		func(r ScenarioResult) bool { return !r.ProbeProblem },
		func(r ScenarioResult) (bool, float64, string) {
			return r.Checks.ChangedWithoutProblem, float64(r.Tuned.Rollouts), changeList(r.Changes)
		}))
	s.Checks = append(s.Checks, collect("rolloutsPerProblem", fmt.Sprintf("at most %d rollouts per distinct probe problem (1 + releases that change behaviour)", TargetRolloutsPerProblem),
		func(r ScenarioResult) bool { return r.Checks.RolloutsPerProblem != nil },
		func(r ScenarioResult) (bool, float64, string) {
			v := *r.Checks.RolloutsPerProblem
			return v > TargetRolloutsPerProblem, v, fmt.Sprintf("%d rollouts for %d problem(s): %s", r.Tuned.Rollouts, r.Checks.Problems, changeList(r.Changes))
		}))

	for _, r := range rs {
		if r.Checks.RolloutsPerProblem != nil {
			s.MaxRolloutsPerProblem = max(s.MaxRolloutsPerProblem, *r.Checks.RolloutsPerProblem)
		}
	}
	s.WorseThanBaseline = s.Checks[0].Failed
	s.SlowStartChecked, s.SlowStartNotCured = s.Checks[1].Applied, s.Checks[1].Failed
	s.ScenariosWithReversals = s.Checks[2].Failed
	s.ChangedWithoutProblem = s.Checks[3].Failed
	s.RolloutsPerProblemOver = s.Checks[4].Failed
	return s
}

// writeChecks writes the per-scenario checks for people: a PASS or MISS line per check with its count, and
// the worst failing scenarios.
func writeChecks(w io.Writer, s CheckSummary) {
	fmt.Fprintf(w, "\nper-scenario checks (maxRolloutsPerProblem %.2f):\n", s.MaxRolloutsPerProblem)
	for _, c := range s.Checks {
		verdict := "PASS"
		if !c.Pass {
			verdict = "MISS"
		}
		fmt.Fprintf(w, "  %s %-24s %d of %d scenarios fail  (goal %s)\n", verdict, c.Name, c.Failed, c.Applied, c.Goal)
		for _, line := range c.Worst {
			fmt.Fprintf(w, "       %s\n", line)
		}
		if c.Failed > len(c.Worst) {
			fmt.Fprintf(w, "       and %d more\n", c.Failed-len(c.Worst))
		}
	}
}
