package bench

import (
	"fmt"
	"math"
	"time"
)

// Thresholds the generator labels by. A variant is a probe problem when its probes are expected to cause
// clearly more than noise (problemKills needless kills, problemFlapFactor times the flapping tolerance), and
// free of one when they are expected to cause practically nothing (quietKills, quietFlapsPerHour). Variants in
// between are not generated: their label would be a matter of luck.
const (
	problemKills      = 8.0
	quietKills        = 0.05
	problemFlapFactor = 3.0
	quietFlapsPerHour = 0.1
	// comfortStart and comfortMax bound a sensible startup window: 1.5 to 2.5 times the longest start.
	comfortStart = 1.5
	comfortMax   = 2.5
)

// workload names, for readable scenarios; drawn at random, they carry no meaning.
var (
	appNames   = []string{"api", "checkout", "search", "ledger", "catalog", "billing", "gateway", "orders", "inventory", "profile", "notifier", "reports", "indexer", "pricing", "auth"}
	namespaces = []string{"shop", "payments", "data", "platform", "ml", "ops", "web"}
)

// newScenario starts a scenario with a random workload name, seed and the given duration and replicas.
func newScenario(d *draw, duration time.Duration, replicas int32) *genScenario {
	app := oneOf(d, appNames...)
	return &genScenario{
		app: app, ns: oneOf(d, namespaces...), duration: duration, replicas: replicas,
		seed: uint64(d.intn(1, 999_999)), annotations: map[string]string{"shutdown": "1s-3s"},
	}
}

// newContainer returns a container with a port that suits its handler.
func newContainer(d *draw, name, image string, h handlerKind) *genContainer {
	port := int32(8080)
	switch h {
	case handlerTCP:
		port = oneOf(d, int32(5432), 6379, 9000, 11211)
	case handlerGRPC:
		port = oneOf(d, int32(9090), 50051)
	}
	return &genContainer{name: name, image: image, handler: h, port: port}
}

// image names a container image of the scenario's workload.
func image(s *genScenario, container string, version int) string {
	return fmt.Sprintf("%s/%s:%d.%d", s.ns, container, 1+version/10, version%10)
}

// quietTimeout is the smallest usual timeoutSeconds (at most the period) with which a probe of this period and
// failureThreshold sees a run of failures less than runs times over the probes of one replica in d.
func quietTimeout(latency genDist, failureRate float64, period, failure int32, d time.Duration, runs float64) int32 {
	for _, t := range []int32{1, 2, 3, 5, 10} {
		if t > period {
			break
		}
		if expectedRuns(probesIn(d, period), missRate(latency, t, failureRate), failure) <= runs {
			return t
		}
	}
	return period
}

// sensibleProbes gives a container the probes a careful owner writes for an app whose longest start is start
// and whose health endpoint answers with latency (and failureRate): a startup probe of 1.5-2.5 times the start
// when the start is not short (none otherwise: the liveness window covers it), a liveness probe of 3 x 10 s and
// a readiness probe of 3 x 5-10 s, each with the smallest usual timeout that leaves needless failure runs
// negligible (quietKills over the scenario's replicas and duration).
func sensibleProbes(d *draw, s *genScenario, c *genContainer, start time.Duration, latency genDist, failureRate float64) {
	live := &genProbe{period: 10, failure: 3}
	replicas := float64(max(1, s.replicas))
	live.timeout = quietTimeout(latency, failureRate, live.period, live.failure, s.duration, quietKills/replicas)
	c.liveness = live
	if start >= 5*time.Second {
		c.startup = comfortableStartup(d, start)
	} else if need := int32(math.Ceil(comfortStart * start.Seconds())); live.killWindow() < need {
		live.delay = need
	}
	ready := &genProbe{period: oneOf(d, int32(5), 10), failure: 3}
	ready.timeout = quietTimeout(latency, failureRate, ready.period, ready.failure, s.duration, quietKills/replicas)
	c.readiness = ready
	for _, p := range []*genProbe{live, ready} {
		if p.timeout == 1 {
			p.timeout = 0 // the API default, as people leave it
		}
	}
}

// comfortableStartup is a startup probe whose kill window is at least comfortStart times the longest start and
// whose budget is at most comfortMax times it (or two periods more, for short starts).
func comfortableStartup(d *draw, start time.Duration) *genProbe {
	period := int32(10)
	switch {
	case start < 10*time.Second:
		period = 2
	case start < 60*time.Second:
		period = 5
	}
	lo := comfortStart * start.Seconds()
	hi := max(comfortMax*start.Seconds(), lo+2*float64(period))
	failure := int32(math.Ceil(d.uniform(lo, hi)/float64(period))) + 1
	return &genProbe{period: period, failure: max(failure, 3)}
}

// expectedKills is the expected number of liveness kills of ready containers, over the scenario's replicas and
// duration, from answers that miss the timeout or fail.
func expectedKills(s *genScenario, p *genProbe, latency genDist, failureRate float64) float64 {
	v := p.values()
	return float64(s.replicas) * expectedRuns(probesIn(s.duration, v.period), missRate(latency, v.timeout, failureRate), v.failure)
}

// expectedFlapsPerHour is the expected number of Ready/NotReady transitions per running hour of one pod: two
// per run of failureThreshold failures.
func expectedFlapsPerHour(p *genProbe, latency genDist, failureRate float64) float64 {
	v := p.values()
	return 2 * expectedRuns(probesIn(time.Hour, v.period), missRate(latency, v.timeout, failureRate), v.failure)
}

// boundedLatency is the answer time of a healthy endpoint that never takes longer than 60 ms.
func boundedLatency(d *draw) genDist {
	return uniformDist(secs(d.uniform(0.001, 0.005)), secs(d.uniform(0.02, 0.06)))
}

// fastLatency is the answer time of a healthy endpoint: a few milliseconds, at times a tail of a few hundred.
func fastLatency(d *draw) genDist {
	if d.chance(0.5) {
		return boundedLatency(d)
	}
	median := d.uniform(0.004, 0.02)
	return logNormalDist(secs(median), secs(median*d.uniform(8, 20)))
}

// quickStart is the start of a service that serves within seconds.
func quickStart(d *draw) genDist {
	hi := d.uniform(2, 12)
	return uniformDist(secs(hi*0.6), secs(hi))
}

// probeTTDPolicy raises the policy's maxTimeToDetectSeconds when the scenario's own liveness probe needs more
// than the default of 120 s: the owner accepted that, and it is not what the scenario is about.
func probeTTDPolicy(s *genScenario) {
	for _, c := range append(append([]*genContainer(nil), s.initContainers...), s.containers...) {
		if c.liveness != nil {
			if t := c.liveness.timeToDetect(); t > 120 && t > s.policy.maxTimeToDetect {
				s.policy.maxTimeToDetect = min(3600, roundUp(t, 30))
			}
		}
	}
}

// roundUp rounds v up to a multiple of step.
func roundUp(v, step int32) int32 { return (v + step - 1) / step * step }

// spreadTimes draws n event times (hangs, outages), one in each of n equal slices of the run from minute 20,
// each at least settle seconds (a probe's time to detect) and 15 minutes before the end.
func spreadTimes(d *draw, s *genScenario, n int, settle int32) []time.Duration {
	first := 20 * time.Minute
	last := s.duration - time.Duration(settle)*time.Second - 15*time.Minute
	var out []time.Duration
	for i := range n {
		lo := first + (last-first)*time.Duration(i)/time.Duration(n)
		hi := first + (last-first)*time.Duration(i+1)/time.Duration(n)
		out = append(out, (lo + time.Duration(d.r.Int64N(int64(max(hi-lo, time.Minute))))).Truncate(time.Minute))
	}
	return out
}
