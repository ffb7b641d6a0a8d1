package observe

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// probeKind is the probe a kubelet message is about.
type probeKind int

const (
	probeUnknown probeKind = iota
	probeLiveness
	probeReadiness
	probeStartup
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

// unhealthyKind reads which probe an Unhealthy Event's message is about ("Readiness probe failed: ...").
func unhealthyKind(message string) probeKind {
	switch {
	case strings.HasPrefix(message, "Liveness probe"):
		return probeLiveness
	case strings.HasPrefix(message, "Readiness probe"):
		return probeReadiness
	case strings.HasPrefix(message, "Startup probe"):
		return probeStartup
	}
	return probeUnknown
}

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

// classification is the verdict on one container termination.
type classification struct {
	cause Cause
	// wait says the cause cannot be told yet: a Killing Event may still arrive.
	wait bool
}

// classify decides why a container instance terminated, from the termination record, the Killing Events seen
// for the container, and whether the pod declares liveness and startup probes for it.
func classify(t *corev1.ContainerStateTerminated, kills []KillMark, hasLiveness, hasStartup, everStarted bool, now time.Time, grace time.Duration) classification {
	if t.Reason == "OOMKilled" {
		return classification{cause: CauseOOM}
	}
	from := t.StartedAt.Add(-time.Second)
	to := t.FinishedAt.Add(time.Second)
	for _, k := range kills {
		if !k.At.Before(from) && !k.At.After(to) {
			return classification{cause: k.Cause}
		}
	}
	if t.ExitCode == 0 {
		return classification{cause: CauseCompleted}
	}
	if signalExit(t.ExitCode) && (hasLiveness || hasStartup) {
		if now.Sub(t.FinishedAt.Time) < grace {
			return classification{wait: true}
		}
		// The Killing Event was lost (the kubelet's recorder drops and aggregates): infer the probe.
		if hasStartup && !everStarted {
			return classification{cause: CauseStartup}
		}
		if hasLiveness {
			return classification{cause: CauseLiveness}
		}
	}
	return classification{cause: CauseError}
}

// ContainerFromFieldPath parses an Event's involvedObject.fieldPath ("spec.containers{app}") into the container
// name, or "" when it names none.
func ContainerFromFieldPath(fieldPath string) string {
	open := strings.IndexByte(fieldPath, '{')
	end := strings.LastIndexByte(fieldPath, '}')
	if open < 0 || end <= open {
		return ""
	}
	return fieldPath[open+1 : end]
}
