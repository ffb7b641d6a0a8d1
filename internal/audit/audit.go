// Package audit is the offline static probe audit: the checks a person can act on from a workload's manifest
// alone, without observing it run. Each check has a stable ID (PT001...), a severity and a documentation section
// in docs/audit.md. It is pure: manifests in, findings out; the operator's static findings share its predicates
// through internal/probes.
package audit

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// Severity says how much a finding matters; the command fails on findings at or above a chosen severity.
type Severity string

// The severities, from the least to the most serious.
const (
	Info    Severity = "info"
	Warning Severity = "warning"
	Error   Severity = "error"
)

// Rank orders the severities: Info < Warning < Error; an unknown severity ranks below Info.
func (s Severity) Rank() int {
	switch s {
	case Info:
		return 1
	case Warning:
		return 2
	case Error:
		return 3
	}
	return 0
}

// Workload is one object of a manifest whose pod template the audit reads.
type Workload struct {
	Kind      string
	Namespace string
	Name      string
	// Source names the file the object was read from ("-" for stdin).
	Source string
	Spec   corev1.PodSpec
}

// Finding is one check that failed on one container (and probe, when the check is about one).
type Finding struct {
	ID        string
	Severity  Severity
	Kind      string
	Namespace string
	Name      string
	Container string
	// Probe is the probe kind the finding is about; empty for a finding about the container's probes as a whole.
	Probe   probes.Kind
	Message string
	// Source names the file the workload was read from.
	Source string
}

// Options tunes the checks that have a bound.
type Options struct {
	// MaxTimeToDetectSeconds bounds a liveness probe's time to detect a hang (PT014).
	MaxTimeToDetectSeconds int64
}

// Audit runs every check on every probed container of w: the app containers and the native sidecars, and the
// plain init containers, which may not have probes at all. Findings come in container order, then check order.
func Audit(w Workload, opts Options) []Finding {
	var out []Finding
	for _, c := range probes.Tunable(&w.Spec) {
		t := target{w: &w, c: c, set: probes.ContainerSet(c), opts: opts}
		for _, ch := range Checks {
			for _, f := range ch.run(t) {
				out = append(out, w.finding(ch, c.Name, f))
			}
		}
	}
	for i := range w.Spec.InitContainers {
		if c := &w.Spec.InitContainers[i]; !probes.IsNativeSidecar(c) {
			for _, f := range initContainerProbes(c) {
				out = append(out, w.finding(checkByID(InvalidProbe), c.Name, f))
			}
		}
	}
	return out
}

func (w *Workload) finding(ch Check, container string, f hit) Finding {
	return Finding{ID: ch.ID, Severity: ch.Severity, Kind: w.Kind, Namespace: w.Namespace, Name: w.Name,
		Container: container, Probe: f.probe, Message: f.message, Source: w.Source}
}

// target is what a check looks at: one container of a workload, its probes, and the options.
type target struct {
	w    *Workload
	c    *corev1.Container
	set  probes.Set
	opts Options
}

// hit is one failure of a check: the probe it is about and what to change.
type hit struct {
	probe   probes.Kind
	message string
}
