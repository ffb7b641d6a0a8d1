package bench

import (
	"fmt"
	"math"
	"time"
)

// genLivenessTail: answers with a median of tens of milliseconds and a tail of seconds, against a tight
// liveness probe (timeout 1 s, failureThreshold 1-2: needless kills expected, a probe problem) or a comfortable
// one whose timeout and threshold make a kill by chance practically impossible (no problem).
func genLivenessTail(d *draw) *genScenario {
	tight := pick(d, "verdict", true, true, false)
	handler := pick(d, "handler", answeringHandlers...)
	tailShape := pick(d, "tail", "log-normal", "gc-pauses")
	period := pick(d, "period", int32(5), 10)
	withStartup := pick(d, "startup-probe", false, true)
	s := newScenario(d, time.Duration(d.intn(3, 4))*time.Hour, pick(d, "replicas", int32(2), 3, 4, 6))
	latency := tailLatency(d, tailShape)
	start := quickStart(d)
	s.annotations["startup"] = start.String()
	c := newContainer(d, s.app, image(s, s.app, 1), handler)
	s.containers = []*genContainer{c}

	live := &genProbe{period: period}
	if tight {
		live.failure = pick(d, "failure", int32(1), 2)
		if expectedKills(s, live, latency, 0) < problemKills {
			live.failure = 1
		}
		for range 8 { // a tail too light to trip even failureThreshold 1 clearly: make it heavier
			if expectedKills(s, live, latency, 0) >= problemKills {
				break
			}
			latency = heavier(latency)
		}
	} else {
		live.failure = 3
		live.timeout = quietTimeout(latency, 0, period, live.failure, s.duration, quietKills/float64(s.replicas))
		for live.failure < 10 && expectedKills(s, live, latency, 0) > quietKills {
			live.failure++
		}
	}
	s.annotations["health-latency"] = latency.String()
	c.liveness = live
	startupGuard(d, c, start.upper(), withStartup)
	c.readiness = &genProbe{period: 5, failure: 3}
	c.readiness.timeout = quietTimeout(latency, 0, 5, 3, s.duration, quietFlapsPerHour/2*s.duration.Hours())
	probeTTDPolicy(s)
	kills := expectedKills(s, live, latency, 0)
	s.problem = kills >= problemKills

	verdict := fmt.Sprintf("a tight liveness probe of %s: about %.0f needless kills expected over the run, a probe problem "+
		"(more failureThreshold or timeout, within maxTimeToDetectSeconds, ends them)", probeText(live), kills)
	if !s.problem {
		verdict = fmt.Sprintf("a comfortable liveness probe of %s: a kill by chance is practically impossible (%.3f expected), "+
			"so the right answer is to change nothing", probeText(live), kills)
	}
	s.description = fmt.Sprintf("Generated liveness-tail variant: a service starting in %s whose health endpoint answers in %s "+
		"(%s: a median of tens of ms, a tail of seconds) behind %s, %s probes, %d replica(s).", start, latency, tailShape, verdict, handler, s.replicas)
	return s
}

// tailLatency is an answer time with a median of tens of milliseconds and a tail of seconds: log-normal, or
// fast answers with rare pauses of seconds (garbage collection, a lock).
func tailLatency(d *draw, shape string) genDist {
	if shape == "gc-pauses" {
		w := math.Round(d.uniform(0.01, 0.04)*1000) / 1000
		return mixDist([]float64{math.Round((1-w)*1000) / 1000, w},
			uniformDist(secs(d.uniform(0.003, 0.01)), secs(d.uniform(0.03, 0.08))),
			uniformDist(secs(d.uniform(0.8, 1.2)), secs(d.uniform(2, 5))))
	}
	return logNormalDist(secs(d.uniform(0.015, 0.06)), secs(d.uniform(1, 4)))
}

// heavier makes a latency tail heavier: a longer p99, or more pauses.
func heavier(g genDist) genDist {
	switch g.shape {
	case shapeLogNormal:
		return logNormalDist(g.a, g.b*3/2)
	case shapeMix:
		w := min(0.2, g.weights[1]*2)
		return mixDist([]float64{math.Round((1-w)*1000) / 1000, math.Round(w*1000) / 1000}, g.parts...)
	}
	return g
}

// startupGuard makes sure the probes let a start of the given length complete with room to spare: a
// comfortable startup probe, or an initial delay on the liveness probe.
func startupGuard(d *draw, c *genContainer, start time.Duration, withStartup bool) {
	if withStartup && start >= 5*time.Second {
		c.startup = comfortableStartup(d, start)
		return
	}
	if need := int32(math.Ceil(comfortStart * start.Seconds())); c.liveness.killWindow() < need {
		c.liveness.delay += need - c.liveness.killWindow()
	}
}

// genOverGenerous: a liveness probe far more patient than the policy's maxTimeToDetectSeconds (failureThreshold
// up to 30, periods up to 60 s) and hangs injected into the pods: each hung pod stays in service, failing
// requests, until the probe finally acts. A probe problem: a tighter probe detects the hangs sooner.
func genOverGenerous(d *draw) *genScenario {
	handler := pick(d, "handler", allHandlers...)
	failure := pick(d, "failure", int32(6), 8, 10, 15, 20, 30)
	period := pick(d, "period", int32(15), 20, 30, 45, 60)
	bound := pick(d, "policy-ttd", int32(0), 60, 90, 180)
	s := newScenario(d, time.Duration(d.intn(3, 4))*time.Hour, pick(d, "replicas", int32(2), 3, 4, 6))
	effective := bound
	if effective == 0 {
		effective = 120 // the policy's default
	}
	s.policy.maxTimeToDetect = bound
	if failure*period <= effective*3/2 {
		failure = min(30, int32(math.Ceil(float64(effective)*1.5/float64(period)))+1)
	}
	start := quickStart(d)
	latency := fastLatency(d)
	s.annotations["startup"] = start.String()
	s.annotations["health-latency"] = latency.String()
	if handler == handlerTCP {
		s.annotations["hang-blocks-tcp"] = "true" // otherwise no TCP probe could see the hang at all
	}
	c := newContainer(d, s.app, image(s, s.app, 1), handler)
	s.containers = []*genContainer{c}
	live := &genProbe{period: period, failure: failure}
	live.timeout = quietTimeout(latency, 0, period, failure, s.duration, quietKills)
	c.liveness = live
	startupGuard(d, c, start.upper(), d.chance(0.5))
	c.readiness = &genProbe{period: 5}
	n := d.intn(1, 3)
	for _, at := range spreadTimes(d, s, n, live.timeToDetect()) {
		s.events = append(s.events, hangEvent(at, d.intn(0, int(s.replicas)-1), ""))
	}
	s.problem = true
	s.description = fmt.Sprintf("Generated over-generous-liveness variant: a service starting in %s behind a liveness probe of %s "+
		"(%d s to detect a hang, against the policy's maxTimeToDetectSeconds of %d), %s probes, %d replica(s), and %d injected hang(s): "+
		"each hung pod keeps failing requests until the probe acts. A probe problem: a tighter liveness probe detects the hangs sooner.",
		start, probeText(live), live.timeToDetect(), effective, handler, s.replicas, n)
	return s
}

// genHangs: an app that deadlocks (hang-after, injected hangs, or both) behind sensible probes that catch it:
// the liveness probe's kills are needed, so the right answer is to change nothing.
func genHangs(d *draw) *genScenario {
	source := pick(d, "source", "hang-after", "injected", "both")
	handler := pick(d, "handler", allHandlers...)
	s := newScenario(d, time.Duration(d.intn(4, 6))*time.Hour, pick(d, "replicas", int32(2), 3, 4, 6))
	start := moderateStart(d)
	latency := fastLatency(d)
	s.annotations["startup"] = start.String()
	s.annotations["health-latency"] = latency.String()
	if handler == handlerTCP {
		s.annotations["hang-blocks-tcp"] = "true"
	}
	if d.chance(0.5) {
		s.annotations["shutdown-when-hung"] = "1s-2s"
	}
	c := newContainer(d, s.app, image(s, s.app, 1), handler)
	s.containers = []*genContainer{c}
	sensibleProbes(d, s, c, start.upper(), latency, 0)
	var what []string
	if source != "injected" {
		var hang genDist
		if d.chance(0.5) {
			median := d.uniform(1, 4) * 3600
			hang = logNormalDist(secs(median), secs(median*d.uniform(3, 6)))
		} else {
			lo := d.uniform(0.75, 2) * 3600
			hang = uniformDist(secs(lo), secs(lo*d.uniform(1.5, 2.5)))
		}
		s.annotations["hang-after"] = hang.String()
		what = append(what, fmt.Sprintf("hangs after %s of running", hang))
	}
	if source != "hang-after" {
		n := d.intn(1, 3)
		for _, at := range spreadTimes(d, s, n, c.liveness.timeToDetect()) {
			s.events = append(s.events, hangEvent(at, d.intn(0, int(s.replicas)-1), ""))
		}
		what = append(what, fmt.Sprintf("%d injected hang(s)", n))
	}
	probeTTDPolicy(s)
	s.description = fmt.Sprintf("Generated hangs variant (%s): a service starting in %s that %s, behind sensible %s probes "+
		"(liveness %s, %d replica(s)). The liveness probe ends every hang; its kills are needed, so the right answer is to change nothing.",
		source, start, joinAnd(what), handler, probeText(c.liveness), s.replicas)
	return s
}

// moderateStart is the start of a typical service: seconds to a minute.
func moderateStart(d *draw) genDist {
	hi := d.logUniform(2, 60)
	return uniformDist(secs(hi*0.6), secs(hi))
}

// genOOM: OOM kills after minutes to hours of running; genCrash: the app exits on its own. Neither is a probe
// problem, unless the variant also starts slower than its liveness window (then it is one).
func genOOM(d *draw) *genScenario   { return genRuntimeFailure(d, "oom") }
func genCrash(d *draw) *genScenario { return genRuntimeFailure(d, "crash") }

func genRuntimeFailure(d *draw, kind string) *genScenario {
	alsoSlow := pick(d, "also-slow-start", false, false, false, true)
	handler := pick(d, "handler", allHandlers...)
	s := newScenario(d, time.Duration(d.intn(3, 5))*time.Hour, pick(d, "replicas", int32(2), 3, 4, 6))
	var after genDist
	switch pick(d, "rate", "log-normal", "uniform", "frequent") {
	case "log-normal":
		median := d.uniform(0.5, 2.5) * 3600
		after = logNormalDist(secs(median), secs(median*d.uniform(2, 5)))
	case "uniform":
		lo := d.uniform(0.5, 1.5) * 3600
		after = uniformDist(secs(lo), secs(lo*d.uniform(1.5, 3)))
	default:
		lo := d.uniform(10, 20) * 60
		after = uniformDist(secs(lo), secs(lo*d.uniform(1.5, 3)))
	}
	c := newContainer(d, s.app, image(s, s.app, 1), handler)
	s.containers = []*genContainer{c}
	latency := fastLatency(d)
	s.annotations["health-latency"] = latency.String()
	what := fmt.Sprintf("is OOM killed after %s of running", after)
	if kind == "oom" {
		s.annotations["oom-after"] = after.String()
	} else {
		code := oneOf(d, int32(1), 2, 0, 134)
		s.annotations["crash-after"] = after.String()
		s.annotations["crash-exit-code"] = fmt.Sprint(code)
		what = fmt.Sprintf("exits on its own with code %d after %s of running", code, after)
	}
	var start genDist
	if alsoSlow {
		u := d.uniform(30, 90)
		start = uniformDist(secs(0.7*u), secs(u))
		sensibleProbes(d, s, c, 0, latency, 0)
		c.startup = nil
		c.liveness = windowProbe(d, d.uniform(0.25, 0.6)*0.7*u, d.chance(0.5), 10, false)
		what += fmt.Sprintf(", and starts in %s behind a liveness probe of %s without a startup probe, so its starts are killed too: "+
			"a probe problem besides the %s, which no probe change helps", start, probeText(c.liveness), kind)
		s.problem = true
	} else {
		start = moderateStart(d)
		sensibleProbes(d, s, c, start.upper(), latency, 0)
		what += fmt.Sprintf(", behind sensible probes (liveness %s): restarts no probe causes or can prevent, so the right answer "+
			"is to change nothing", probeText(c.liveness))
	}
	s.annotations["startup"] = start.String()
	probeTTDPolicy(s)
	s.description = fmt.Sprintf("Generated %s variant: a service (%s probes, %d replica(s)) that %s.", kind, handler, s.replicas, what)
	return s
}

// joinAnd joins phrases with commas and a final "and".
func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	out := parts[0]
	for _, p := range parts[1 : len(parts)-1] {
		out += ", " + p
	}
	return out + " and " + parts[len(parts)-1]
}
