package main

import (
	"fmt"
	"strings"
	"time"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// ago renders a time relative to now for people: "45s ago", "3m ago", "2h ago", "4d ago"; "-" when unknown.
func ago(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	d := now.Sub(*t)
	if d < 0 {
		return "in " + short(-d)
	}
	return short(d) + " ago"
}

func short(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// restartsText renders restarts by cause: "-" unknown, "0" none, else "3 liveness, 1 oom".
func restartsText(r *tuningv1alpha1.RestartCounts) string {
	if r == nil {
		return "-"
	}
	var parts []string
	for _, c := range []struct {
		n    int32
		name string
	}{{r.Liveness, "liveness"}, {r.Startup, "startup"}, {r.OOM, "oom"}, {r.Error, "error"}, {r.Completed, "completed"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.name))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, ", ")
}

// probeValues renders one probe's timing compactly: "10sx3 t1" (period x failures, timeout), with " d30" for an
// initial delay and " s2" for a success threshold; "none" when absent.
func probeValues(p *tuningv1alpha1.ProbeValues) string {
	if p == nil {
		return "none"
	}
	s := fmt.Sprintf("%dsx%d t%d", p.PeriodSeconds, p.FailureThreshold, p.TimeoutSeconds)
	if p.InitialDelaySeconds > 0 {
		s += fmt.Sprintf(" d%d", p.InitialDelaySeconds)
	}
	if p.SuccessThreshold > 1 {
		s += fmt.Sprintf(" s%d", p.SuccessThreshold)
	}
	return s
}

// probesText renders a container's probes, and for each probe the recommendation differs on, "current ->
// recommended": "startup none -> 5sx24 t1; liveness 10sx3 t1".
func probesText(cur tuningv1alpha1.ProbeSet, rec *tuningv1alpha1.ProbeSet) string {
	var parts []string
	for _, k := range []struct {
		name     string
		cur, rec *tuningv1alpha1.ProbeValues
	}{{"startup", cur.Startup, recOf(rec, "startup")}, {"liveness", cur.Liveness, recOf(rec, "liveness")}, {"readiness", cur.Readiness, recOf(rec, "readiness")}} {
		c := probeValues(k.cur)
		if rec != nil {
			if r := probeValues(k.rec); r != c {
				parts = append(parts, k.name+" "+c+" -> "+r)
				continue
			}
		}
		if k.cur != nil {
			parts = append(parts, k.name+" "+c)
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

func recOf(rec *tuningv1alpha1.ProbeSet, kind string) *tuningv1alpha1.ProbeValues {
	if rec == nil {
		return nil
	}
	switch kind {
	case "startup":
		return rec.Startup
	case "liveness":
		return rec.Liveness
	}
	return rec.Readiness
}

// decisionText renders a decision in a line: "Applied readiness timeoutSeconds 1->2 (ReadinessFlapping)".
func decisionText(d tuningv1alpha1.Decision) string {
	what := fmt.Sprintf("%s %s %s->%s", d.Probe, d.Field, orNone(d.From), d.To)
	if d.Field == "probe" {
		what = fmt.Sprintf("%s probe %s", d.Probe, d.To)
	}
	return fmt.Sprintf("%s %s (%s)", d.Action, what, d.Reason)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
