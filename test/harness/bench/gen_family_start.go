package bench

import (
	"fmt"
	"math"
	"time"
)

// Start verdicts of the slow-start family.
const (
	verdictCrashLoop   = "crash-loop"  // the kill window is well below most starts
	verdictComfortable = "comfortable" // the kill window is 1.5-2.5 times the longest start
	verdictCapped      = "capped"      // a crash loop, and the policy's maxBudgetSeconds is below the longest start
	// A capped variant is partial when a budget at the cap would let a good share of the starts complete (a
	// probe problem), or beyond reach when it would let practically none complete (the fault is the start or
	// the cap: changing the probes only rolls the pods again, so the right answer is a finding).
	cappedPartial = "partial"
	cappedBeyond  = "beyond reach"
)

// slowStartScales are the longest starts the slow-start family draws around, from 1 s to 10 min.
var slowStartScales = []time.Duration{time.Second, 4 * time.Second, 12 * time.Second, 30 * time.Second, 75 * time.Second,
	150 * time.Second, 5 * time.Minute, 10 * time.Minute}

// genSlowStart: a start of some shape and length against the window of the probe that kills it (a startup
// probe, or the liveness probe without one), sized well below most starts (a crash loop: a probe problem), well
// above the longest one (no problem), or below it with a policy whose maxBudgetSeconds is below the longest
// start too: a probe problem when a budget at the cap saves at least 30% of the starts, none when it saves
// practically none (at most 0.1%; test/scenarios/start-beyond-max-budget.yaml makes the same call).
func genSlowStart(d *draw) *genScenario {
	shape := pick(d, "shape", "fixed", "uniform", "log-normal", "bimodal", "growing")
	scale := pick(d, "scale", slowStartScales...)
	verdict := pick(d, "verdict", verdictCrashLoop, verdictCrashLoop, verdictComfortable, verdictCapped)
	withStartup := pick(d, "startup-probe", false, true)
	withDelay := pick(d, "delay", false, true)
	handler := pick(d, "handler", allHandlers...)
	replicas := pick(d, "replicas", int32(1), 2, 3, 4, 6, 8, 12, 20)

	longest := min(secs(scale.Seconds()*d.uniform(1, 1.25)), 10*time.Minute)
	duration := 2 * time.Hour
	switch {
	case shape == "growing":
		duration, replicas = 24*time.Hour, min(replicas, 3) // growth shows over a day, at releases
	case longest > 5*time.Minute:
		duration = 4 * time.Hour
	case longest > 75*time.Second:
		duration = 3 * time.Hour
	}
	s := newScenario(d, duration, replicas)
	u := longest.Seconds()
	var start genDist
	var shapeText string
	switch shape {
	case "fixed":
		start = fixedDist(longest)
		shapeText = fmt.Sprintf("a fixed start of %s", fmtDur(start.a))
	case "uniform":
		start = uniformDist(secs(0.6*u), longest)
		shapeText = fmt.Sprintf("a start of %s, uniform", start)
	case "log-normal":
		start = logNormalDist(secs(0.35*u), longest)
		shapeText = fmt.Sprintf("a heavy-tailed start (log-normal, median %s, p99 %s)", fmtDur(start.a), fmtDur(start.b))
	case "bimodal":
		start = mixDist([]float64{0.7, 0.3}, uniformDist(secs(0.08*u), secs(0.15*u)), uniformDist(secs(0.75*u), longest))
		shapeText = fmt.Sprintf("a bimodal start (70%% warm in %s, 30%% cold in %s)", start.parts[0], start.parts[1])
	case "growing":
		start = uniformDist(secs(0.45*u), secs(0.55*u))
		growth := roundDur(secs(0.45 * u * (24 * time.Hour).Seconds() / duration.Seconds()))
		s.annotations["startup-growth"] = fmtDur(growth) + "/24h"
		shapeText = fmt.Sprintf("a start of %s that grows by %s a day as its data grows, released every 6 h", start, fmtDur(growth))
		for i, at := range []time.Duration{6 * time.Hour, 12 * time.Hour, 18 * time.Hour} {
			s.events = append(s.events, deployEvent(at, s.app, image(s, s.app, 2+i), nil))
		}
	}
	s.annotations["startup"] = start.String()
	s.annotations["health-latency"] = fastLatency(d).String()
	upper := start.upper()
	if shape == "growing" {
		upper = start.upper() + secs(0.45*u) // by the end of the run
	}

	// The window, in seconds, of the probe that kills a slow start.
	low := start.quantile(0.2).Seconds() // most starts are longer than this
	if verdict != verdictComfortable && 0.6*low < 2 {
		verdict = verdictComfortable // no window of at least 2 s kills a start this short
	}
	if verdict == verdictCapped && upper < 30*time.Second {
		verdict = verdictCrashLoop // maxBudgetSeconds is at least 10: too close to a short start to be below it
	}
	c := newContainer(d, s.app, image(s, s.app, 1), handler)
	s.containers = []*genContainer{c}
	var window float64
	var guard *genProbe
	if verdict == verdictComfortable {
		window = d.uniform(comfortStart, comfortMax) * upper.Seconds()
		if !withStartup && window > 120 {
			withDelay = true // nobody writes a liveness probe of minutes without an initial delay
		}
		guard = windowProbe(d, window, withDelay, 60, true)
	} else {
		window = max(2, d.uniform(0.15, 0.6)*low)
		if shape == "growing" {
			window = d.uniform(0.6, 0.72) * upper.Seconds() // the start outgrows the window during the run
		}
		guard = windowProbe(d, window, withDelay, 10, false)
	}
	if withStartup {
		c.startup = guard
		c.liveness = &genProbe{}
	} else {
		c.liveness = guard
	}
	if d.chance(0.75) {
		c.readiness = &genProbe{period: 5}
		if !withStartup {
			c.readiness.delay = guard.delay
		}
	}

	if need := int32(math.Ceil(comfortMax * upper.Seconds())); need > 600 || guard.budget() > 600 {
		s.policy.maxBudget = min(3600, roundUp(max(need, guard.budget()), 60))
	} else if d.chance(0.5) {
		s.policy.maxBudget = max(30, roundUp(max(need, guard.budget()), 30))
	}
	capped := ""
	if verdict == verdictCapped {
		lo := max(10, 1.3*float64(guard.budget()))
		partLo, partHi := max(lo, 1.15*start.quantile(0.3).Seconds()), 0.95*upper.Seconds()
		beyondHi := 0.9 * start.quantile(0.001).Seconds()
		partialOK := shape != "growing" && partLo < partHi // a growing start outgrows any cap it once fitted
		beyondOK := lo < beyondHi
		switch {
		case partialOK && (!beyondOK || pick(d, "capped", cappedPartial, cappedBeyond) == cappedPartial):
			capped = cappedPartial
			s.policy.maxBudget = int32(d.uniform(partLo, partHi))
		case beyondOK:
			capped = cappedBeyond
			s.policy.maxBudget = int32(d.uniform(lo, beyondHi))
		default:
			verdict = verdictCrashLoop // no cap below the start leaves a clear verdict
		}
	}
	probeTTDPolicy(s)
	s.problem = verdict == verdictCrashLoop || capped == cappedPartial

	guardText := fmt.Sprintf("a liveness probe of %s without a startup probe", probeText(guard))
	if withStartup {
		guardText = fmt.Sprintf("a startup probe of %s", probeText(guard))
	}
	budgetText := "the default maxBudgetSeconds of 600"
	if s.policy.maxBudget != 0 {
		budgetText = fmt.Sprintf("maxBudgetSeconds %d", s.policy.maxBudget)
	}
	verdictText := map[string]string{
		verdictCrashLoop: "Most starts outlast the window, so the pods are killed before they serve and crash-loop: a probe problem, " +
			"which growing the startup budget (within the policy) cures.",
		verdictComfortable: "The window is 1.5-2.5 times the longest start: no start is killed and the right answer is to change nothing.",
		verdictCapped:      fmt.Sprintf("Most starts outlast the window, and the longest start also exceeds the policy's maxBudgetSeconds (%s): ", capped),
	}[verdict]
	switch capped {
	case cappedPartial:
		verdictText += fmt.Sprintf("a budget at the cap lets %.0f%% of the starts complete, so it is a probe problem that probe-tuner can relieve "+
			"but not cure; it should stop at the bound and say so.", 100*(1-start.tail(time.Duration(s.policy.maxBudget)*time.Second)))
	case cappedBeyond:
		verdictText += "no budget the policy allows lets a start complete; a change only rolls the pods and restarts their starts, " +
			"so the right answer is to change nothing and report that the start exceeds maxBudgetSeconds."
	}
	s.description = fmt.Sprintf("Generated slow-start variant (%s start, %s): %s behind %s (kill window %ds, budget %ds), %s probes, "+
		"%d replica(s), policy %s. %s", shape, verdict, shapeText, guardText, guard.killWindow(), guard.budget(), handler, replicas, budgetText, verdictText)
	return s
}

// windowProbe builds the probe that guards a start with a window of about the given seconds: an initial
// delay of 30-70% of it when withDelay, the rest as failureThreshold x periodSeconds with a usual period and at
// most maxFailure failures. atLeast makes the kill window (the earliest kill) at least the window; otherwise
// the budget (the latest kill) is at most the window.
func windowProbe(d *draw, window float64, withDelay bool, maxFailure int32, atLeast bool) *genProbe {
	p := &genProbe{}
	if withDelay {
		p.delay = int32(window * d.uniform(0.3, 0.7))
		if !atLeast {
			p.delay = min(p.delay, int32(window)-1)
		}
	}
	rest := window - float64(p.delay)
	var periods []int32
	for _, c := range []int32{1, 2, 5, 10, 15, 20, 30, 60} {
		if n := rest / float64(c); n >= 1 && n <= float64(maxFailure) {
			periods = append(periods, c)
		}
	}
	p.period = 1
	if len(periods) > 0 {
		p.period = oneOf(d, periods...)
	}
	if atLeast {
		p.failure = int32(math.Ceil(rest/float64(p.period))) + 1
	} else {
		p.failure = max(1, int32(rest/float64(p.period)))
	}
	return p
}

// probeText renders a probe's timing compactly for a description: "6 x 5s after 10s, timeout 1s".
func probeText(p *genProbe) string {
	v := p.values()
	s := fmt.Sprintf("%d x %ds", v.failure, v.period)
	if v.delay > 0 {
		s += fmt.Sprintf(" after %ds", v.delay)
	}
	return s + fmt.Sprintf(", timeout %ds", v.timeout)
}

// Release kinds of the release family.
const (
	releaseSlower   = "slower-start"
	releaseLatency  = "latency-tail"
	releaseHarmless = "harmless"
)

// genRelease: a healthy service whose probes fit version 1; a release mid-run starts slower than the kill
// window, or answers with a tail the tight liveness probe kills on (both probe problems), or changes its
// behaviour within what the probes tolerate (no problem).
func genRelease(d *draw) *genScenario {
	kind := pick(d, "kind", releaseSlower, releaseSlower, releaseLatency, releaseHarmless)
	at := time.Duration(d.intn(60, 120)) * time.Minute
	s := newScenario(d, at+time.Duration(d.intn(2, 3))*time.Hour, pick(d, "replicas", int32(2), 3, 4, 6))
	handler := pick(d, "handler", allHandlers...)
	if kind == releaseLatency {
		handler = pick(d, "answering-handler", answeringHandlers...)
	}
	c := newContainer(d, s.app, image(s, s.app, 1), handler)
	s.containers = []*genContainer{c}
	start := quickStart(d)
	latency := fastLatency(d)
	if kind == releaseLatency {
		latency = boundedLatency(d) // version 1 must not trip the liveness probe of failureThreshold 1 it gets
	}
	s.annotations["startup"] = start.String()
	s.annotations["health-latency"] = latency.String()
	live := &genProbe{delay: oneOf(d, int32(0), 5, 10, 15), failure: oneOf(d, int32(2), 3)}
	if need := int32(math.Ceil(comfortStart * start.upper().Seconds())); live.killWindow() < need {
		live.delay += need - live.killWindow()
	}
	c.liveness = live
	c.readiness = &genProbe{delay: live.delay, period: 5, timeout: 3}
	after := s.duration - at

	changes := map[string]string{}
	var what string
	switch kind {
	case releaseSlower:
		lo := float64(live.budget()) * d.uniform(1.6, 4)
		slower := uniformDist(secs(lo), secs(lo*1.2))
		changes["startup"] = slower.String()
		what = fmt.Sprintf("starts in %s, beyond the liveness window of %ds: every new pod is killed before it serves and the rollout stalls "+
			"with the old pods serving, a probe problem", slower, live.killWindow())
		s.problem = true
	case releaseLatency:
		live.failure = oneOf(d, int32(1), 2)
		tail := logNormalDist(secs(d.uniform(0.015, 0.06)), secs(d.uniform(1.5, 4)))
		if expectedKills(&genScenario{replicas: s.replicas, duration: after}, live, tail, 0) < problemKills {
			live.failure = 1 // two slow answers in a row are too rare with this tail to be clearly a problem
		}
		changes["health-latency"] = tail.String()
		what = fmt.Sprintf("answers its health checks in %s, a tail of seconds against a liveness timeout of 1 s and failureThreshold %d: "+
			"needless liveness kills, a probe problem", tail, live.failure)
		s.problem = true
	case releaseHarmless:
		if d.chance(0.5) {
			faster := uniformDist(secs(start.upper().Seconds()*0.4), secs(start.upper().Seconds()*0.8))
			changes["startup"] = faster.String()
			what = fmt.Sprintf("starts faster, in %s", faster)
		} else {
			other := fastLatency(d)
			changes["health-latency"] = other.String()
			what = fmt.Sprintf("answers in %s, well within the probes' timeouts", other)
		}
		what += "; nothing the probes mind, so the right answer is to change nothing"
	}
	s.events = append(s.events, deployEvent(at, c.name, image(s, c.name, 2), changes))
	if d.chance(0.3) {
		s.events = append(s.events, deployEvent(at+time.Hour, c.name, image(s, c.name, 3), nil))
	}
	probeTTDPolicy(s)
	s.description = fmt.Sprintf("Generated release variant (%s): version 1 starts in %s and answers in %s behind a liveness probe of %s "+
		"(%s, %d replica(s)); version 2, released at %s, %s.", kind, start, latency, probeText(live), handler, s.replicas, fmtDur(at), what)
	return s
}
