package bench

import (
	"errors"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// The oracle is the best static probe configuration for a scenario: it knows the true behaviour (it can run
// the scenario as often as it likes, on other seeds than the scenario's) and picks, by coordinate descent over
// the values below, the probes that minimise the mean cost of a whole run without probe-tuner. It searches the
// same space probe-tuner acts in: the timing fields probe-tuner changes (never periodSeconds) and a startup
// probe added with the liveness probe's handler; it adds no other probe.
var (
	oracleBudgets           = []int32{10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 450, 600}
	oracleLivenessFailures  = []int32{1, 2, 3, 4, 5, 6, 8, 10}
	oracleLivenessTimeouts  = []int32{1, 2, 3, 5, 10}
	oracleReadinessTimeouts = []int32{1, 2, 3, 5}
	oracleReadinessFailures = []int32{1, 2, 3, 4, 6}
	oracleReadinessSuccess  = []int32{1, 2, 3}
)

// oraclePasses bounds the rounds of coordinate descent; a round that improves nothing ends the search.
const oraclePasses = 3

// OracleTrainingSeeds is how many seeds, other than the scenario's own, the oracle averages a candidate's cost
// over. Choosing on other seeds and reporting on the scenario's seed keeps the oracle from exploiting one
// random realisation (a failureThreshold of 1 where, by chance, no slow answer happened).
const OracleTrainingSeeds = 3

// trainingSeed is the i-th seed (from 1) the oracle chooses on.
func trainingSeed(seed uint64, i int) uint64 { return seed + uint64(i)*7919 }

// candidate is a complete probe configuration: the probes of every container.
type candidate map[string]probes.Set

func (c candidate) key() string {
	names := sortedKeys(c)
	k := ""
	for _, n := range names {
		set := c[n]
		k += n + "{" + probeSummary(set) + "}"
		for _, p := range []*corev1.Probe{set.Startup, set.Liveness, set.Readiness} {
			if p != nil {
				k += "/" + p.ProbeHandler.String()
			}
		}
	}
	return k
}

func (c candidate) clone() candidate {
	out := candidate{}
	for n, s := range c {
		out[n] = probes.Set{Startup: s.Startup.DeepCopy(), Liveness: s.Liveness.DeepCopy(), Readiness: s.Readiness.DeepCopy()}
	}
	return out
}

// oracle searches the best static probes of one scenario.
type oracle struct {
	sc   *Scenario
	lim  limiter
	orig candidate

	mu    sync.Mutex
	memo  map[string]float64
	evals int
}

// dimension produces the variants of a candidate along one axis.
type dimension func(cur candidate) []candidate

// searchOracle searches from the scenario's own probes by coordinate descent, choosing on the training seeds,
// and returns the best probes, their run on the scenario's seed (the baseline run when they are the scenario's
// own probes) and how many runs the search made.
func searchOracle(sc *Scenario, baseline *runResult, lim limiter) (candidate, *runResult, int, error) {
	o := &oracle{sc: sc, lim: lim, orig: candidate{}, memo: map[string]float64{}}
	for _, c := range probes.Tunable(&sc.Deployment.Spec.Template.Spec) {
		o.orig[c.Name] = probes.Set{Startup: c.StartupProbe.DeepCopy(), Liveness: c.LivenessProbe.DeepCopy(), Readiness: c.ReadinessProbe.DeepCopy()}
	}
	best := o.orig
	start, err := o.evalAll([]candidate{best})
	if err != nil {
		return nil, nil, o.evals, err
	}
	bestCost := start[0]
	dims := o.dimensions()
	for pass := 0; pass < oraclePasses; pass++ {
		improved := false
		for _, dim := range dims {
			var dimBest candidate
			dimCost := bestCost
			cands := dim(best)
			costs, err := o.evalAll(cands)
			if err != nil {
				return nil, nil, o.evals, err
			}
			for i, c := range costs { // in candidate order, so that ties resolve the same way every time
				if c < dimCost-1e-6 {
					dimBest, dimCost = cands[i], c
				}
			}
			if dimBest != nil {
				best, bestCost, improved = dimBest, dimCost, true
			}
		}
		if !improved {
			break
		}
	}
	if best.key() == o.orig.key() {
		return best, baseline, o.evals, nil
	}
	var res *runResult
	lim.do(func() { res, err = runScenario(sc, runOptions{probes: best}) })
	o.evals++
	return best, res, o.evals, err
}

// evalAll returns the candidates' mean costs over the training seeds, running what is not known yet in
// parallel.
func (o *oracle) evalAll(cands []candidate) ([]float64, error) {
	costs := make([]float64, len(cands))
	type job struct {
		cand, seed int
	}
	var jobs []job
	sums := map[int][]float64{}
	o.mu.Lock()
	for i, c := range cands {
		if v, ok := o.memo[c.key()]; ok {
			costs[i] = v
			continue
		}
		sums[i] = make([]float64, OracleTrainingSeeds)
		for s := 1; s <= OracleTrainingSeeds; s++ {
			jobs = append(jobs, job{i, s})
		}
	}
	o.mu.Unlock()
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for j, jb := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.lim.do(func() {
				r, err := runScenario(o.sc, runOptions{probes: cands[jb.cand], seed: trainingSeed(o.sc.Seed, jb.seed)})
				if err != nil {
					errs[j] = err
					return
				}
				sums[jb.cand][jb.seed-1] = r.Metrics.Cost
			})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.evals += len(jobs)
	for i, runs := range sums {
		var sum float64
		for _, c := range runs { // a fixed order: the mean does not depend on which run finished first
			sum += c
		}
		costs[i] = sum / OracleTrainingSeeds
		o.memo[cands[i].key()] = costs[i]
	}
	return costs, nil
}

// dimensions lists the axes of the search for every container the policy tunes.
func (o *oracle) dimensions() []dimension {
	s := o.sc.settings
	var dims []dimension
	for _, name := range sortedKeys(o.orig) {
		if !s.SelectsContainer(name) {
			continue
		}
		dims = append(dims,
			o.startupBudget(name),
			o.field(name, probeLiveness, "failureThreshold", clampValues(oracleLivenessFailures, s.Liveness.MinFailureThreshold, s.Liveness.MaxFailureThreshold)),
			o.field(name, probeLiveness, "timeoutSeconds", clampValues(oracleLivenessTimeouts, 1, s.Liveness.MaxTimeoutSeconds)),
			o.field(name, probeReadiness, "timeoutSeconds", clampValues(oracleReadinessTimeouts, 1, s.Readiness.MaxTimeoutSeconds)),
			o.field(name, probeReadiness, "failureThreshold", clampValues(oracleReadinessFailures, s.Readiness.MinFailureThreshold, s.Readiness.MaxFailureThreshold)),
			o.field(name, probeReadiness, "successThreshold", clampValues(oracleReadinessSuccess, 1, s.Readiness.MaxSuccessThreshold)),
		)
	}
	return dims
}

func clampValues(vs []int32, lo, hi int32) []int32 {
	var out []int32
	for _, v := range vs {
		if v >= lo && v <= hi {
			out = append(out, v)
		}
	}
	return out
}

const (
	probeLiveness  = "liveness"
	probeReadiness = "readiness"
)

// field varies one timing field of one probe over values (and the scenario's own value), within the policy's
// bounds: a timeout never above the period, a liveness time to detect never above maxTimeToDetectSeconds.
func (o *oracle) field(container, probe, name string, values []int32) dimension {
	s := o.sc.settings
	return func(cur candidate) []candidate {
		get := func(set probes.Set) *corev1.Probe {
			if probe == probeLiveness {
				return set.Liveness
			}
			return set.Readiness
		}
		p := get(cur[container])
		if p == nil {
			return nil
		}
		vals := values
		if op := get(o.orig[container]); op != nil {
			vals = append(slices.Clone(values), fieldOf(op, name))
		}
		var out []candidate
		seen := map[int32]bool{fieldOf(p, name): true}
		for _, v := range vals {
			if seen[v] {
				continue
			}
			seen[v] = true
			c := cur.clone()
			q := get(c[container])
			setField(q, name, v)
			if q.TimeoutSeconds > q.PeriodSeconds && name == "timeoutSeconds" {
				continue
			}
			if probe == probeLiveness && q.FailureThreshold*q.PeriodSeconds+q.TimeoutSeconds > s.Liveness.MaxTimeToDetectSeconds && v != fieldOf(get(o.orig[container]), name) {
				continue
			}
			out = append(out, c)
		}
		return out
	}
}

// startupBudget varies the time a starting container has before it is killed: the startup probe's
// failureThreshold when the container has one; otherwise either the liveness probe's initialDelaySeconds or an
// added startup probe (the policy's period, the liveness handler) with the liveness delay dropped.
func (o *oracle) startupBudget(container string) dimension {
	s := o.sc.settings
	var budgets []int32
	for _, b := range oracleBudgets {
		if b <= s.Startup.MaxBudgetSeconds {
			budgets = append(budgets, b)
		}
	}
	return func(cur candidate) []candidate {
		set := cur[container]
		orig := o.orig[container]
		var out []candidate
		add := func(c candidate) { out = append(out, c) }
		switch {
		case orig.Startup != nil && set.Startup != nil:
			for _, b := range append(slices.Clone(budgets), probes.Of(orig.Startup).Budget()) {
				c := cur.clone()
				st := c[container].Startup
				st.FailureThreshold = max(1, ceilDiv(b-st.InitialDelaySeconds, st.PeriodSeconds))
				add(c)
			}
		case set.Liveness != nil:
			for _, b := range budgets {
				c := cur.clone()
				cs := c[container]
				cs.Startup = nil
				cs.Liveness.InitialDelaySeconds = max(0, b-cs.Liveness.FailureThreshold*cs.Liveness.PeriodSeconds)
				c[container] = cs
				add(c)
			}
			c := cur.clone()
			cs := c[container]
			cs.Startup = nil
			if orig.Liveness != nil {
				cs.Liveness.InitialDelaySeconds = orig.Liveness.InitialDelaySeconds
			}
			c[container] = cs
			add(c)
			if s.Startup.AddWhenMissing && orig.Startup == nil {
				period := s.Startup.PeriodSeconds
				for _, b := range budgets {
					c := cur.clone()
					cs := c[container]
					cs.Startup = &corev1.Probe{
						ProbeHandler:     *cs.Liveness.ProbeHandler.DeepCopy(),
						PeriodSeconds:    period,
						TimeoutSeconds:   cs.Liveness.TimeoutSeconds,
						SuccessThreshold: 1,
						FailureThreshold: max(1, ceilDiv(b, period)),
					}
					cs.Liveness.InitialDelaySeconds = 0
					c[container] = cs
					add(c)
				}
			}
		}
		// Drop the variants equal to the current point and duplicates.
		seen := map[string]bool{cur.key(): true}
		kept := out[:0]
		for _, c := range out {
			if k := c.key(); !seen[k] {
				seen[k] = true
				kept = append(kept, c)
			}
		}
		return kept
	}
}

func ceilDiv(a, b int32) int32 {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}

// fieldOf reads a probe timing field, with the API defaults applied.
func fieldOf(p *corev1.Probe, name string) int32 {
	v, _ := probes.Of(p).Field(probes.Field(name))
	return v
}

// setField writes a probe timing field (the others take their API defaults explicitly).
func setField(p *corev1.Probe, name string, value int32) {
	if v, err := probes.Of(p).WithField(probes.Field(name), value); err == nil {
		v.Apply(p)
	}
}
