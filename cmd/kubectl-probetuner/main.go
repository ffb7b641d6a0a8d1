// Command kubectl-probetuner is probe-tuner's kubectl plugin (`kubectl probetuner ...`). Its audit subcommand
// checks the probes of workload manifests offline, without a cluster:
//
//	kubectl probetuner audit -f deploy.yaml
//	helm template ./chart | kubectl probetuner audit -f - -o sarif > probes.sarif
//
// The checks are documented in docs/audit.md.
package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// The exit codes.
const (
	exitOK = 0
	// exitFindings: a finding at or above the --fail-on severity.
	exitFindings = 1
	// exitUsage: bad arguments, or input that cannot be read.
	exitUsage = 2
	// exitFailed: status, explain or simulate could not do what was asked (the API server refused, the
	// workload is unknown or no policy selects it).
	exitFailed = 1
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs one command line and returns its exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "audit":
		return runAudit(args[1:], stdin, stdout, stderr)
	case "undo":
		return runUndo(args[1:], stdin, stdout, stderr, time.Now())
	case "status":
		return runStatus(args[1:], stdout, stderr)
	case "explain":
		return runExplain(args[1:], stdout, stderr)
	case "simulate":
		return runSimulate(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "kubectl-probetuner: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: kubectl probetuner <command> [flags]

Commands:
  audit      check the probes of workload manifests offline (kubectl probetuner audit -h)
  status     one line per tuned container across ProbePolicies (kubectl probetuner status -h)
  explain    the decision history of one workload: kubectl probetuner explain deploy/NAME
  simulate   a Deployment's probes in virtual time, as written and as probe-tuner would tune them
  undo       undo probe-tuner's last change of a Deployment read from stdin (kubectl probetuner undo -h)
`)
}
