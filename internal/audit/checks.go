package audit

// The check IDs. An ID is never reused for another check; docs/audit.md has one section per ID.
const (
	ProbesMissing          = "PT001"
	NoLiveness             = "PT002"
	NoReadiness            = "PT003"
	NamedPortMissing       = "PT004"
	PortNotDeclared        = "PT005"
	IdenticalProbes        = "PT006"
	SameHandlerOtherTiming = "PT007"
	ShellExecShortTimeout  = "PT008"
	LivenessEverySecond    = "PT009"
	ReadinessTimeoutPeriod = "PT010"
	LivenessDelayPastStart = "PT011"
	TCPLivenessOnHTTP      = "PT012"
	LivenessOtherHost      = "PT013"
	SlowHangDetection      = "PT014"
	InvalidProbe           = "PT015"
)

// Check is one audit check: a stable ID, a CamelCase name, a severity, a one-line title, and the predicate.
type Check struct {
	ID string
	// Name is the check's CamelCase name; where the operator reports the same finding, its reason.
	Name     string
	Severity Severity
	// Title says in one line what the check finds; it is the SARIF rule's short description.
	Title string
	run   func(target) []hit
}

// Checks lists every check in ID order.
var Checks = []Check{
	{ProbesMissing, "ProbesMissing", Warning, "Container has no probes", probesMissing},
	{NoLiveness, "NoLivenessProbe", Info, "Container has a readiness probe but no liveness probe", noLiveness},
	{NoReadiness, "NoReadinessProbe", Warning, "Container has a liveness probe but no readiness probe", noReadiness},
	{NamedPortMissing, "NamedPortMissing", Error, "Probe uses a named port the container does not declare", namedPortMissing},
	{PortNotDeclared, "PortNotDeclared", Warning, "Probe uses a port number the container does not declare", portNotDeclared},
	{IdenticalProbes, "IdenticalLivenessAndReadiness", Warning, "Liveness and readiness probes are identical", identicalProbes},
	{SameHandlerOtherTiming, "SameEndpointDifferentTimings", Warning, "Liveness and readiness probes check the same endpoint with different timings", sameHandlerOtherTiming},
	{ShellExecShortTimeout, "ShellExecShortTimeout", Warning, "Exec probe runs through a shell with a 1 second timeout", shellExecShortTimeout},
	{LivenessEverySecond, "LivenessEverySecond", Warning, "Liveness probe runs every second", livenessEverySecond},
	{ReadinessTimeoutPeriod, "ReadinessTimeoutAtPeriod", Warning, "Readiness probe timeout is at or above its period", readinessTimeoutPeriod},
	{LivenessDelayPastStart, "LivenessDelayPastStartupBudget", Warning, "Liveness initialDelaySeconds is longer than the startup probe's whole budget", livenessDelayPastStart},
	{TCPLivenessOnHTTP, "TCPLivenessOnHTTP", Warning, "TCP liveness probe on a container that serves HTTP", tcpLivenessOnHTTP},
	{LivenessOtherHost, "LivenessOtherHost", Error, "Liveness probe checks another host", livenessOtherHost},
	{SlowHangDetection, "LivenessExceedsTimeToDetectBound", Warning, "Liveness probe takes too long to detect a hang", slowHangDetection},
	{InvalidProbe, "InvalidProbe", Error, "Probe the API server would reject", invalidProbe},
}

// checkByID returns the check of that ID; the zero Check for an unknown one.
func checkByID(id string) Check {
	for _, c := range Checks {
		if c.ID == id {
			return c
		}
	}
	return Check{}
}
