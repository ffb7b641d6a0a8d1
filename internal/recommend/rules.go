package recommend

// A rule is one step of a container's recommendation: it may change the working probes, report findings, or say
// what it waits for. The rules run in the order of the rules list.
type rule struct {
	name string
	// unless gates the rule: it is skipped when an earlier rule made one of these findings for the container.
	// A finding that makes some observations misleading so keeps the rules that would act on them from acting.
	unless []string
	apply  func(*containerRun)
}

// The gates, by what a finding makes untrustworthy.
var (
	// needsProbes: a container without probes has nothing to tune or to explain.
	needsProbes = []string{ReasonNoProbes}
	// needsOwnCause: the restarts and failures of replicas killed together have a shared cause outside the
	// container's probes, so no observation of it says what its probes should be.
	needsOwnCause = []string{ReasonNoProbes, ReasonCorrelatedLiveness}
	// needsOwnLiveness: a liveness probe identical to the readiness probe checks readiness, not liveness; tuning
	// it would tune readiness failures into restarts.
	needsOwnLiveness = []string{ReasonNoProbes, ReasonCorrelatedLiveness, ReasonIdenticalProbes}
)

// rules is the order the rules run in. The findings that gate later rules come first; the startup budget is
// sized before liveness is touched (a start being killed comes first, and the tightening skips a liveness probe
// a rule already changed); slowHangDetection reports what the tightening left.
var rules = []rule{
	{name: "probesMissing", apply: (*containerRun).probesMissing},
	{name: "identicalProbes", unless: needsProbes, apply: (*containerRun).identicalProbes},
	{name: "correlatedLiveness", unless: needsProbes, apply: (*containerRun).correlatedLiveness},
	{name: "stuckNotReady", unless: needsProbes, apply: (*containerRun).stuckNotReady},
	{name: "startupBudget", unless: needsOwnCause, apply: (*containerRun).startupRule},
	{name: "livenessTransient", unless: needsOwnLiveness, apply: (*containerRun).livenessRule},
	{name: "livenessTighten", unless: needsOwnLiveness, apply: (*containerRun).tightenLiveness},
	{name: "slowHangDetection", unless: needsProbes, apply: (*containerRun).slowHangDetection},
	{name: "readinessFlapping", unless: needsOwnCause, apply: (*containerRun).readinessRule},
	{name: "notAProbeProblem", unless: needsProbes, apply: (*containerRun).notAProbeProblem},
}

// applyRule runs rl on the container unless its gate holds; it reports whether the rule ran.
func (r *containerRun) applyRule(rl rule) bool {
	for _, reason := range rl.unless {
		if r.found[reason] {
			return false
		}
	}
	rl.apply(r)
	return true
}
