package observe

import (
	"strings"
	"time"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// killCause reads a Killing Event's message ("Container app failed liveness probe, will be restarted").
func killCause(message string) (Cause, bool) {
	switch {
	case strings.Contains(message, "failed liveness probe"):
		return CauseLiveness, true
	case strings.Contains(message, "failed startup probe"):
		return CauseStartup, true
	}
	return "", false
}

// unhealthyKind reads which probe an Unhealthy Event's message is about ("Readiness probe failed: ..."); "" for
// none it knows.
func unhealthyKind(message string) probes.Kind {
	switch {
	case strings.HasPrefix(message, "Liveness probe"):
		return probes.Liveness
	case strings.HasPrefix(message, "Readiness probe"):
		return probes.Readiness
	case strings.HasPrefix(message, "Startup probe"):
		return probes.Startup
	}
	return ""
}

// probeErrored reports whether an Unhealthy Event is about a probe that could not run ("Liveness probe errored
// and resulted in unknown state: ..."): the kubelet does not count those towards failureThreshold.
func probeErrored(message string) bool { return strings.Contains(message, " probe errored") }

// isTimeout reports whether a probe failure message says the probe timed out rather than got an error answer.
func isTimeout(message string) bool {
	m := strings.ToLower(message)
	for _, s := range []string{"context deadline exceeded", "timeout", "timed out", "deadline exceeded"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// signalExit reports whether an exit code is that of a process ended by SIGKILL or SIGTERM, as a probe kill is.
func signalExit(code int32) bool { return code == 137 || code == 143 }

// probeKillCause is the cause of a kill by a probe of kind k, and whether the kind kills at all.
func probeKillCause(k probes.Kind) (Cause, bool) {
	switch k {
	case probes.Liveness:
		return CauseLiveness, true
	case probes.Startup:
		return CauseStartup, true
	}
	return "", false
}

// classification is the verdict on one container termination.
type classification struct {
	cause Cause
	// wait says the cause cannot be told yet: a Killing Event may still arrive.
	wait bool
}

// killEvidence is what is known about why a container instance may have been killed.
type killEvidence struct {
	// kills are the Killing Events seen for the container; run is its latest run of probe failures.
	kills []KillMark
	run   FailRun
	// liveness and startup are the container's probes, nil when it has none.
	liveness, startup *Probe
	// everStarted says the instance completed its start (its startup probe, if any, succeeded).
	everStarted bool
	// podGrace is the pod's termination grace period.
	podGrace time.Duration
}

// classify decides why a container instance terminated, from the termination record and the kill evidence.
// A signal exit under a liveness or startup probe is a probe kill once the Killing Event says so, or the
// reported failures show the probe was about to kill; otherwise it waits up to grace for the Event, then
// infers the probe.
func classify(t *Termination, ev killEvidence, now time.Time, grace time.Duration) classification {
	if t.Reason == "OOMKilled" {
		return classification{cause: CauseOOM}
	}
	from := t.StartedAt.Add(-time.Second)
	to := t.FinishedAt.Add(time.Second)
	for _, k := range ev.kills {
		if !k.At.Before(from) && !k.At.After(to) {
			return classification{cause: k.Cause}
		}
	}
	if t.ExitCode == 0 {
		return classification{cause: CauseCompleted}
	}
	hasLiveness, hasStartup := ev.liveness != nil, ev.startup != nil
	if signalExit(t.ExitCode) && (hasLiveness || hasStartup) {
		if cause, ok := ev.runEndedInKill(t); ok {
			return classification{cause: cause}
		}
		if now.Sub(t.FinishedAt) < grace {
			return classification{wait: true}
		}
		// The Killing Event was lost (the kubelet's recorder drops and aggregates): infer the probe.
		if hasStartup && !ev.everStarted {
			return classification{cause: CauseStartup}
		}
		if hasLiveness {
			return classification{cause: CauseLiveness}
		}
	}
	return classification{cause: CauseError}
}

// runEndedInKill reports whether the run of probe failures explains the termination: the kubelet kills at the
// probe's failureThreshold-th consecutive failure, and this instance ended by a signal with at least all but the
// last of those reported (the last is recorded together with the Killing Event, so it is as late), the latest
// within two periods and the termination grace before it finished.
func (ev killEvidence) runEndedInKill(t *Termination) (Cause, bool) {
	r := ev.run
	probe := ev.liveness
	switch {
	case r.Failures == 0:
		return "", false
	case r.Probe == CauseStartup:
		if ev.everStarted {
			return "", false // a started container's startup probe no longer runs
		}
		probe = ev.startup
	case ev.startup != nil && !ev.everStarted:
		return "", false // liveness does not run before the startup probe succeeds
	}
	if probe == nil {
		return "", false
	}
	threshold := probe.FailureThreshold
	grace := ev.podGrace
	if probe.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*probe.TerminationGracePeriodSeconds) * time.Second
	}
	inInstance := !r.First.Before(t.StartedAt.Add(-time.Second)) && !r.Last.After(t.FinishedAt.Add(time.Second))
	recent := t.FinishedAt.Sub(r.Last) <= 2*probePeriod(probe)+grace
	return r.Probe, inInstance && recent && int32(r.Failures) >= max(1, threshold-1)
}
