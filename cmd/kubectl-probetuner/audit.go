package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/probetuner/probe-tuner/internal/audit"
	"github.com/probetuner/probe-tuner/internal/policy"
)

// auditFlags are the audit subcommand's flags.
type auditFlags struct {
	files    []string
	output   string
	failOn   string
	maxTTD   int64
	renderer renderer
}

// runAudit reads the manifests, audits every workload in them, prints the findings and returns the exit code.
func runAudit(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fl, err := parseAuditFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-probetuner audit: %v\n", err)
		return exitUsage
	}
	workloads, err := readSources(fl.files, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-probetuner audit: %v\n", err)
		return exitUsage
	}
	var findings []audit.Finding
	for _, w := range workloads {
		findings = append(findings, audit.Audit(w, audit.Options{MaxTimeToDetectSeconds: fl.maxTTD})...)
	}
	if err := fl.renderer(stdout, findings, len(workloads)); err != nil {
		fmt.Fprintf(stderr, "kubectl-probetuner audit: writing the report: %v\n", err)
		return exitUsage
	}
	return exitCode(findings, fl.failOn)
}

func parseAuditFlags(args []string, stderr io.Writer) (auditFlags, error) {
	var fl auditFlags
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Func("f", "a manifest `FILE`, a DIR (its .yaml, .yml and .json files, recursively) or - for stdin; repeatable", func(s string) error {
		fl.files = append(fl.files, s)
		return nil
	})
	fs.StringVar(&fl.output, "o", "text", "output `format`: text, json or sarif")
	fs.StringVar(&fl.failOn, "fail-on", string(audit.Error), "exit 1 when a finding at or above this `severity` exists: warning, error, or none")
	fs.Int64Var(&fl.maxTTD, "max-time-to-detect", policy.DefaultMaxTimeToDetectSeconds,
		"the longest a liveness probe may take to detect a hang, in `seconds` (PT014); the ProbePolicy's maxTimeToDetectSeconds default")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: kubectl probetuner audit -f FILE|DIR|- [-o text|json|sarif] [--fail-on warning|error|none]\n\n"+
			"Checks the probes of the Deployments, StatefulSets, DaemonSets and Pods in the manifests; other kinds are skipped.\n"+
			"Exit codes: 0 no finding at or above --fail-on, 1 such a finding, 2 usage or input error. The checks: docs/audit.md.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return fl, err
	}
	if fs.NArg() > 0 {
		return fl, fmt.Errorf("unexpected arguments %s (manifests are given with -f)", strings.Join(fs.Args(), " "))
	}
	if len(fl.files) == 0 {
		return fl, errors.New("no manifests: give -f FILE, -f DIR or -f - for stdin")
	}
	r, ok := renderers[fl.output]
	if !ok {
		return fl, fmt.Errorf("unknown output format %q: want text, json or sarif", fl.output)
	}
	fl.renderer = r
	if fl.failOn != "none" && audit.Severity(fl.failOn).Rank() < audit.Warning.Rank() {
		return fl, fmt.Errorf("unknown --fail-on %q: want warning, error or none", fl.failOn)
	}
	if fl.maxTTD < 1 {
		return fl, fmt.Errorf("--max-time-to-detect %d must be at least 1", fl.maxTTD)
	}
	return fl, nil
}

// exitCode is exitFindings when a finding is at or above the failOn severity ("none" never fails).
func exitCode(findings []audit.Finding, failOn string) int {
	if failOn == "none" {
		return exitOK
	}
	bar := audit.Severity(failOn).Rank()
	for _, f := range findings {
		if f.Severity.Rank() >= bar {
			return exitFindings
		}
	}
	return exitOK
}
