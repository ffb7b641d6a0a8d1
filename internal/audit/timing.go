package audit

import (
	"fmt"
	"path"
	"strings"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// shells are the programs that run a "-c" script.
var shells = map[string]bool{"sh": true, "bash": true, "ash": true, "dash": true, "zsh": true, "ksh": true, "busybox": true}

// shellExecShortTimeout: starting a shell and the programs of its script can take more than a second on a busy
// node, and an exec probe that times out fails; with the default 1 s timeout the probe fails under load.
func shellExecShortTimeout(t target) []hit {
	var out []hit
	for _, k := range probes.Kinds {
		p := t.set.Get(k)
		if p == nil || p.Exec == nil || !runsShellScript(p.Exec.Command) || probes.Of(p).TimeoutSeconds > 1 {
			continue
		}
		out = append(out, hit{probe: k, message: fmt.Sprintf("the %s probe runs a shell script (%s -c) with a timeout of 1s: a shell and its commands can take longer than that on a busy node, "+
			"and the timeout counts as a failure. Raise timeoutSeconds to at least 3, or exec the check program directly", k, p.Exec.Command[0])})
	}
	return out
}

// runsShellScript reports whether a command is a shell given a script with -c (or a flag group such as -ec),
// directly or through env.
func runsShellScript(cmd []string) bool {
	if len(cmd) > 1 && path.Base(cmd[0]) == "env" {
		cmd = cmd[1:]
	}
	if len(cmd) < 2 || !shells[path.Base(cmd[0])] {
		return false
	}
	args := cmd[1:]
	if path.Base(cmd[0]) == "busybox" && len(args) > 0 && shells[args[0]] {
		args = args[1:]
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "c") {
			return true
		}
	}
	return false
}

// livenessEverySecond: a liveness probe every second loads the container with checks and, with a low
// failureThreshold, restarts it on a pause of a few seconds (a garbage collection, a slow disk).
func livenessEverySecond(t target) []hit {
	if l := t.set.Liveness; l == nil || probes.Of(l).PeriodSeconds != 1 {
		return nil
	}
	return []hit{{probe: probes.Liveness, message: "the liveness probe runs every second: it adds load, and a pause of a few seconds (a garbage collection, a slow disk) restarts the container. " +
		"Use periodSeconds 10 (the default) and set failureThreshold for the time to detect a hang you want"}}
}

// readinessTimeoutPeriod: a readiness timeout at or above its period means a slow answer overlaps the next
// probe; the probe stops measuring anything useful.
func readinessTimeoutPeriod(t target) []hit {
	r := t.set.Readiness
	if r == nil {
		return nil
	}
	v := probes.Of(r)
	if v.TimeoutSeconds < v.PeriodSeconds {
		return nil
	}
	return []hit{{probe: probes.Readiness, message: fmt.Sprintf("the readiness probe's timeoutSeconds (%d) is at or above its periodSeconds (%d): a slow answer runs into the next probe. "+
		"Lower timeoutSeconds below periodSeconds (or raise periodSeconds)", v.TimeoutSeconds, v.PeriodSeconds)}}
}

// livenessDelayPastStart: liveness does not run until the startup probe succeeds, so a liveness initial delay
// longer than every start the startup probe allows only postpones the detection of a hang.
func livenessDelayPastStart(t target) []hit {
	s, l := t.set.Startup, t.set.Liveness
	if s == nil || l == nil {
		return nil
	}
	budget := probes.Of(s).Budget()
	if l.InitialDelaySeconds <= budget {
		return nil
	}
	return []hit{{probe: probes.Liveness, message: fmt.Sprintf("the liveness probe's initialDelaySeconds (%d) is longer than the startup probe's whole budget (%ds): "+
		"the startup probe already covers the start, and the delay only postpones the detection of a hang. Set initialDelaySeconds to 0", l.InitialDelaySeconds, budget)}}
}

// slowHangDetection: failureThreshold x periodSeconds + timeoutSeconds above the bound leaves a hung container
// in place that long. The bound defaults to the ProbePolicy's maxTimeToDetectSeconds default.
func slowHangDetection(t target) []hit {
	l := t.set.Liveness
	if l == nil || t.opts.MaxTimeToDetectSeconds <= 0 {
		return nil
	}
	v := probes.Of(l)
	detect := v.TimeToDetect()
	if detect <= t.opts.MaxTimeToDetectSeconds {
		return nil
	}
	return []hit{{probe: probes.Liveness, message: fmt.Sprintf("the liveness probe takes up to %ds to detect a hang (failureThreshold %d x periodSeconds %ds + timeoutSeconds %ds), above %ds. "+
		"Lower failureThreshold or periodSeconds; cover slow starts with a startup probe instead", detect, v.FailureThreshold, v.PeriodSeconds, v.TimeoutSeconds, t.opts.MaxTimeToDetectSeconds)}}
}
