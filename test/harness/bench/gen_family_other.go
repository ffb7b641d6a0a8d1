package bench

import (
	"fmt"
	"strings"
	"time"
)

// genSharedDependency: a dependency that every replica checks in its liveness probe (or its readiness probe)
// goes down, by scenario outage events or recurring windows. Restarting cannot fix a shared dependency and a
// readiness probe that drops out during an outage is doing its job: no probe problem.
func genSharedDependency(d *draw) *genScenario {
	replicas := pick(d, "replicas", int32(2), 3, 4, 6, 8, 12)
	checkedBy := pick(d, "checked-by", "liveness", "liveness,readiness", "readiness")
	source := pick(d, "outages", "events", "annotation")
	handler := pick(d, "handler", answeringHandlers...)
	dep := oneOf(d, "postgres", "redis", "kafka", "elasticsearch", "vault")
	s := newScenario(d, time.Duration(d.intn(3, 5))*time.Hour, replicas)
	start := quickStart(d)
	latency := fastLatency(d)
	s.annotations["startup"] = start.String()
	s.annotations["health-latency"] = latency.String()
	s.annotations["dependency"] = dep
	s.annotations["dependency-checked-by"] = checkedBy
	c := newContainer(d, s.app, image(s, s.app, 1), handler)
	s.containers = []*genContainer{c}
	sensibleProbes(d, s, c, start.upper(), latency, 0)
	var outages string
	if source == "events" {
		n := d.intn(1, 3)
		var parts []string
		for _, at := range spreadTimes(d, s, n, 0) {
			length := time.Duration(d.intn(3, 30)) * 10 * time.Second
			s.events = append(s.events, outageEvent(at, dep, length))
			parts = append(parts, fmt.Sprintf("%s at %s", fmtDur(length), fmtDur(at)))
		}
		outages = "outages of " + joinAnd(parts)
	} else {
		window := fmt.Sprintf("every %s for %s from %s", fmtDur(time.Duration(d.intn(2, 4))*30*time.Minute),
			fmtDur(time.Duration(d.intn(5, 18))*10*time.Second), fmtDur(time.Duration(d.intn(20, 60))*time.Minute))
		s.annotations["dependency-outage"] = window
		outages = "recurring outages, " + window
	}
	probeTTDPolicy(s)
	effect := "every replica fails liveness at once and is restarted, which cannot help; the right answer is a finding, not a probe change"
	if checkedBy == "readiness" {
		effect = "every replica goes NotReady until it is back, as it should; the right answer is to change nothing"
	}
	s.description = fmt.Sprintf("Generated shared-dependency variant: %d replica(s) whose %s probe(s) check %s (%s probes, liveness %s); "+
		"%s %s: %s.", replicas, checkedBy, dep, handler, probeText(c.liveness), dep, outages, effect)
	return s
}

// genReadinessFlapping: readiness answers slower than a tight readiness timeout, or failing now and then, so
// that pods flap between Ready and NotReady clearly above the policy's tolerance (a probe problem); or the same
// tight probe in front of a fast, reliable endpoint (no problem).
func genReadinessFlapping(d *draw) *genScenario {
	flapping := pick(d, "verdict", true, true, true, false)
	source := pick(d, "source", "latency", "failure-rate")
	handler := pick(d, "handler", answeringHandlers...)
	period := pick(d, "period", int32(2), 5, 10)
	tolerance := pick(d, "tolerance", int32(0), 3, 12)
	s := newScenario(d, time.Duration(d.intn(2, 4))*time.Hour, pick(d, "replicas", int32(2), 3, 4, 6))
	s.policy.flapTolerance = tolerance
	if tolerance == 0 {
		tolerance = 6 // the policy's default
	}
	start := quickStart(d)
	s.annotations["startup"] = start.String()
	liveLatency := boundedLatency(d)
	s.annotations["liveness-latency"] = liveLatency.String()
	c := newContainer(d, s.app, image(s, s.app, 1), handler)
	s.containers = []*genContainer{c}
	c.liveness = &genProbe{}
	startupGuard(d, c, start.upper(), d.chance(0.5))
	ready := &genProbe{period: period, failure: pick(d, "failure", int32(1), 2)}
	c.readiness = ready

	latency, rate := boundedLatency(d), 0.0
	if flapping {
		want := problemFlapFactor * float64(tolerance)
		if source == "latency" {
			latency = logNormalDist(secs(d.uniform(0.15, 0.7)), secs(d.uniform(1.2, 3)))
		} else {
			rate = float64(d.intn(2, 12)) / 100
		}
		if expectedFlapsPerHour(ready, latency, rate) < want {
			ready.failure = 1
		}
		for range 8 { // too rare to flap clearly: more misses
			if expectedFlapsPerHour(ready, latency, rate) >= want {
				break
			}
			if source == "latency" {
				latency = logNormalDist(latency.a*5/4, latency.b*5/4)
			} else {
				rate = min(0.3, rate*1.5)
			}
		}
	}
	s.annotations["readiness-latency"] = latency.String()
	if rate > 0 {
		s.annotations["readiness-failure-rate"] = fmt.Sprint(rate)
	}
	flaps := expectedFlapsPerHour(ready, latency, rate)
	s.problem = flaps >= problemFlapFactor*float64(tolerance)
	cause := fmt.Sprintf("readiness answers in %s", latency)
	if rate > 0 {
		cause = fmt.Sprintf("%.0f%% of readiness checks fail", 100*rate)
	}
	verdict := fmt.Sprintf("about %.0f Ready/NotReady transitions per pod-hour expected against a tolerance of %d: flapping, a probe problem", flaps, tolerance)
	if !s.problem {
		verdict = "the tight probe never misses: the right answer is to change nothing"
	}
	s.description = fmt.Sprintf("Generated readiness-flapping variant: %s behind a tight readiness probe of %s (%s, %d replica(s)); %s.",
		cause, probeText(ready), handler, s.replicas, verdict)
	return s
}

// Container behaviours of the multi-container family.
const (
	behaviourFine      = "fine"
	behaviourSlowStart = "slow-start"
	behaviourTail      = "liveness-tail"
	behaviourFlapping  = "readiness-flapping"
	behaviourOOM       = "oom"
)

// genMultiContainer: a pod of 2-3 containers, each with its own behaviour (per-container annotations) and
// probes. It is a probe problem when a container the policy tunes has one; a problem in a container outside
// the policy's containers list is none, since probe-tuner must leave that container alone.
func genMultiContainer(d *draw) *genScenario {
	n := pick(d, "containers", 2, 3)
	s := newScenario(d, time.Duration(d.intn(2, 4))*time.Hour, pick(d, "replicas", int32(2), 3, 4))
	behaviours := []string{
		pick(d, "main", behaviourFine, behaviourSlowStart, behaviourTail, behaviourFlapping, behaviourOOM),
		pick(d, "sidecar", behaviourFine, behaviourFine, behaviourTail, behaviourSlowStart, behaviourFlapping),
	}
	names := []string{s.app, oneOf(d, "envoy", "oauth-proxy", "cloud-sql-proxy")}
	if n == 3 {
		behaviours = append(behaviours, behaviourFine)
		names = append(names, oneOf(d, "log-shipper", "metrics-agent"))
	}
	scoped := pick(d, "policy-scope", false, false, true)
	var parts []string
	var selected, problems []string
	for i, name := range names {
		h := pick(d, fmt.Sprintf("handler-%d", i), allHandlers...)
		if behaviours[i] == behaviourTail || behaviours[i] == behaviourFlapping {
			h = pick(d, fmt.Sprintf("answering-handler-%d", i), answeringHandlers...) // a TCP probe sees neither
		}
		c := newContainer(d, name, image(s, name, 1+i), h)
		if i == 0 {
			c.port = 8080
		} else if h != handlerTCP && h != handlerGRPC {
			c.port = int32(15000 + i) // the containers share the pod's network: one port each
		}
		s.containers = append(s.containers, c)
		problem, what := containerBehaviour(d, s, c, behaviours[i])
		parts = append(parts, fmt.Sprintf("%s (%s) %s", name, c.handler, what))
		if problem {
			problems = append(problems, name)
		} else {
			selected = append(selected, name)
		}
	}
	scope := "the policy tunes every container"
	s.problem = len(problems) > 0
	if scoped && len(problems) > 0 && len(selected) > 0 {
		s.policy.containers = selected
		s.problem = false
		scope = fmt.Sprintf("the policy tunes only %s, so the problem of %s is not probe-tuner's to fix and the right answer is to change nothing",
			strings.Join(selected, ", "), strings.Join(problems, ", "))
	} else if s.problem {
		scope += fmt.Sprintf("; %s has a probe problem", strings.Join(problems, ", "))
	} else {
		scope += "; no container has a probe problem"
	}
	probeTTDPolicy(s)
	s.description = fmt.Sprintf("Generated multi-container variant: a pod of %d containers, %d replica(s): %s; %s.", n, s.replicas, strings.Join(parts, "; "), scope)
	return s
}

// containerBehaviour gives one container of a multi-container pod its behaviour (annotations scoped to it) and
// probes, and reports whether its probes are at fault, with a phrase for the description.
func containerBehaviour(d *draw, s *genScenario, c *genContainer, behaviour string) (bool, string) {
	set := func(key, value string) { s.annotations[c.name+"."+key] = value }
	latency := fastLatency(d)
	switch behaviour {
	case behaviourSlowStart:
		u := d.uniform(30, 90)
		start := uniformDist(secs(0.7*u), secs(u))
		set("startup", start.String())
		set("health-latency", latency.String())
		c.liveness = windowProbe(d, d.uniform(0.25, 0.6)*0.7*u, false, 10, false)
		c.readiness = &genProbe{period: 5}
		return true, fmt.Sprintf("starts in %s behind a liveness probe of %s and no startup probe: its starts are killed", start, probeText(c.liveness))
	case behaviourTail:
		latency = tailLatency(d, oneOf(d, "log-normal", "gc-pauses"))
		start := quickStart(d)
		c.liveness = &genProbe{failure: 1}
		for range 8 {
			if expectedKills(s, c.liveness, latency, 0) >= problemKills {
				break
			}
			latency = heavier(latency)
		}
		set("startup", start.String())
		set("health-latency", latency.String())
		startupGuard(d, c, start.upper(), false)
		c.readiness = &genProbe{period: 5}
		c.readiness.timeout = quietTimeout(latency, 0, 5, 3, s.duration, quietFlapsPerHour/2*s.duration.Hours())
		return true, fmt.Sprintf("answers in %s behind a liveness probe of %s: needless kills (about %.0f expected)", latency, probeText(c.liveness),
			expectedKills(s, c.liveness, latency, 0))
	case behaviourFlapping:
		start := quickStart(d)
		rate := float64(d.intn(4, 12)) / 100
		set("startup", start.String())
		set("health-latency", boundedLatency(d).String())
		set("readiness-failure-rate", fmt.Sprint(rate))
		c.liveness = &genProbe{}
		startupGuard(d, c, start.upper(), false)
		c.readiness = &genProbe{period: 5, failure: 1}
		return true, fmt.Sprintf("fails %.0f%% of its readiness checks behind a readiness probe of %s: about %.0f transitions per pod-hour, flapping",
			100*rate, probeText(c.readiness), expectedFlapsPerHour(c.readiness, boundedLatency(d), rate))
	case behaviourOOM:
		start := moderateStart(d)
		median := d.uniform(0.5, 2) * 3600
		oom := logNormalDist(secs(median), secs(median*d.uniform(2, 4)))
		set("startup", start.String())
		set("health-latency", latency.String())
		set("oom-after", oom.String())
		sensibleProbes(d, s, c, start.upper(), latency, 0)
		return false, fmt.Sprintf("is OOM killed after %s behind sensible probes (not a probe problem)", oom)
	}
	start := quickStart(d)
	set("startup", start.String())
	set("health-latency", latency.String())
	if c.name != s.app && d.chance(0.4) {
		return false, fmt.Sprintf("starts in %s and has no probes", start)
	}
	sensibleProbes(d, s, c, start.upper(), latency, 0)
	return false, fmt.Sprintf("starts in %s behind sensible probes", start)
}

// genWellTuned: a healthy service with sensible probes for its start and answer times, image-only releases and,
// at times, one real hang that its liveness probe catches. The right answer is to change nothing.
func genWellTuned(d *draw) *genScenario {
	handler := pick(d, "handler", allHandlers...)
	s := newScenario(d, time.Duration(d.intn(2, 4))*time.Hour, pick(d, "replicas", int32(2), 3, 4, 6, 8))
	var start genDist
	switch pick(d, "start", "quick", "moderate", "slow") {
	case "quick":
		start = quickStart(d)
	case "moderate":
		start = moderateStart(d)
	default:
		u := d.uniform(60, 240)
		start = uniformDist(secs(0.7*u), secs(u))
	}
	latency := fastLatency(d)
	s.annotations["startup"] = start.String()
	s.annotations["health-latency"] = latency.String()
	c := newContainer(d, s.app, image(s, s.app, 1), handler)
	s.containers = []*genContainer{c}
	sensibleProbes(d, s, c, start.upper(), latency, 0)
	releases := pick(d, "releases", 0, 1, 2)
	for i := range releases {
		at := s.duration * time.Duration(i+1) / time.Duration(releases+1)
		s.events = append(s.events, deployEvent(at.Truncate(time.Minute), c.name, image(s, c.name, 2+i), nil))
	}
	hang := ""
	if d.chance(0.5) {
		if handler == handlerTCP {
			s.annotations["hang-blocks-tcp"] = "true"
		}
		s.events = append(s.events, hangEvent(spreadTimes(d, s, 1, c.liveness.timeToDetect())[0], d.intn(0, int(s.replicas)-1), ""))
		hang = " and one real hang, which the liveness probe catches"
	}
	probeTTDPolicy(s)
	probeBudgetPolicy(s)
	s.description = fmt.Sprintf("Generated well-tuned variant: a service starting in %s and answering in %s behind sensible %s probes "+
		"(%s), %d replica(s), %d image-only release(s)%s. The right answer is to change nothing.",
		start, latency, handler, probeLayout(c), s.replicas, releases, hang)
	return s
}

// probeLayout summarises a container's probes for a description.
func probeLayout(c *genContainer) string {
	var parts []string
	for _, p := range []struct {
		name  string
		probe *genProbe
	}{{"startup", c.startup}, {"liveness", c.liveness}, {"readiness", c.readiness}} {
		if p.probe != nil {
			parts = append(parts, p.name+" "+probeText(p.probe))
		}
	}
	return strings.Join(parts, "; ")
}

// probeBudgetPolicy raises the policy's maxBudgetSeconds when a startup probe of the scenario's own already
// allows more than the default of 600 s: the owner accepted that.
func probeBudgetPolicy(s *genScenario) {
	for _, c := range s.containers {
		if c.startup != nil {
			if b := c.startup.budget(); b > 600 && b > s.policy.maxBudget {
				s.policy.maxBudget = min(3600, roundUp(b, 60))
			}
		}
	}
}
