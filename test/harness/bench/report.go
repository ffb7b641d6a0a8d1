package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the result as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // evidence reads "30s -> 60s"
	return enc.Encode(r)
}

// WriteTable writes the result for people: one line per scenario with baseline / tuned / oracle values, the
// changes probe-tuner made, the suite's totals and a PASS or MISS line per target.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tPROBLEM\tPROBE RESTARTS b/t/o\tUNAVAILABLE s b/t/o\tHANG DETECTION s b/t/o\tROLLOUTS\tREVERSALS\tLAST CHANGE")
	for _, s := range r.Scenarios {
		problem := "yes"
		if !s.ProbeProblem {
			problem = "no"
		}
		last := "-"
		if s.Tuned.LastChangeSeconds != nil {
			last = clock(*s.Tuned.LastChangeSeconds)
		}
		detect := "-"
		if s.Baseline.Hangs+s.Tuned.Hangs+s.Oracle.Hangs > 0 {
			detect = fmt.Sprintf("%.0f/%.0f/%.0f", s.Baseline.DetectionSeconds, s.Tuned.DetectionSeconds, s.Oracle.DetectionSeconds)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d/%d/%d\t%.0f/%.0f/%.0f\t%s\t%d\t%d\t%s\n", s.Name, problem,
			s.Baseline.ProbeRestarts, s.Tuned.ProbeRestarts, s.Oracle.ProbeRestarts,
			s.Baseline.UnavailableSeconds, s.Tuned.UnavailableSeconds, s.Oracle.UnavailableSeconds,
			detect, s.Tuned.Rollouts, s.Tuned.Reversals, last)
	}
	t := r.Summary.Totals
	fmt.Fprintf(tw, "TOTAL\t\t%d/%d/%d\t%.0f/%.0f/%.0f\t%.0f/%.0f/%.0f\t%d\t%d\t\n",
		t["baseline"].ProbeRestarts, t["tuned"].ProbeRestarts, t["oracle"].ProbeRestarts,
		t["baseline"].UnavailableSeconds, t["tuned"].UnavailableSeconds, t["oracle"].UnavailableSeconds,
		t["baseline"].DetectionSeconds, t["tuned"].DetectionSeconds, t["oracle"].DetectionSeconds,
		t["tuned"].Rollouts, t["tuned"].Reversals)
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nprobe-tuner's changes and findings (tuned run); the oracle's probes:")
	for _, s := range r.Scenarios {
		changes := "no change"
		if len(s.Changes) > 0 {
			changes = changeList(s.Changes)
		}
		if s.NoProblemChanged {
			changes += "  <- not a probe problem"
		}
		fmt.Fprintf(w, "  %s: %s\n", s.Name, changes)
		if len(s.Findings) > 0 {
			fmt.Fprintf(w, "      findings: %s\n", strings.Join(s.Findings, ", "))
		}
		for _, c := range sortedKeys(s.Probes.Oracle) {
			if s.Probes.Oracle[c] != s.Probes.Baseline[c] || s.Probes.Tuned[c] != s.Probes.Baseline[c] {
				fmt.Fprintf(w, "      %s: was %s; tuned %s; oracle %s\n", c, s.Probes.Baseline[c], s.Probes.Tuned[c], s.Probes.Oracle[c])
			}
		}
	}

	sm := r.Summary
	num := func(v *float64) string {
		if v == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.3f", *v)
	}
	fmt.Fprintln(w, "\nsummary:")
	pp := sm.ProbeProblemsOnly
	fmt.Fprintf(w, "  over the probe-problem scenarios only: restartReduction %s, unavailableVsOracle %s, detectionVsOracle %s\n",
		num(pp.RestartReduction), num(pp.UnavailableVsOracle), num(pp.DetectionVsOracle))
	for _, tg := range sm.Targets {
		verdict := "PASS"
		if !tg.Pass {
			verdict = "MISS"
		}
		fmt.Fprintf(w, "  %s %-28s %-8s (goal %s)\n", verdict, tg.Name, tg.Value, tg.Goal)
		if tg.Reason != "" {
			fmt.Fprintf(w, "       why: %s\n", tg.Reason)
		}
	}
	writeChecks(w, sm.CheckSummary)
	return nil
}
