package report

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

const usage = `Usage: probesim run -f deployment.yaml [--duration 30m] [--seed 1] [-o table|json] [--events]

Runs the Deployments of a YAML file through the kubelet probe simulator in
virtual time and reports restarts by cause, unavailability and first-ready
times. Application behaviour comes from sim.probetuner.io annotations on the
pod template (see docs/simulator.md).

Flags:
`

// Main is the probesim command line; it returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if err := run(args, stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "probesim: %v\n", err)
		return 1
	}
	return 0
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		newFlags(stderr).PrintDefaults()
		if len(args) == 0 {
			return errors.New("missing command (want: run)")
		}
		return flag.ErrHelp
	}
	if args[0] != "run" {
		return fmt.Errorf("unknown command %q (want: run)", args[0])
	}
	fs := newFlags(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	file := fs.Lookup("f").Value.String()
	if file == "" {
		return errors.New("-f <file> is required")
	}
	dur := fs.Lookup("duration").Value.(flag.Getter).Get().(time.Duration)
	seed := fs.Lookup("seed").Value.(flag.Getter).Get().(uint64)
	out := fs.Lookup("o").Value.String()
	events := fs.Lookup("events").Value.(flag.Getter).Get().(bool)
	if out != "json" && out != "table" {
		return fmt.Errorf("-o %q: want json or table", out)
	}
	if dur <= 0 {
		return fmt.Errorf("--duration %s: must be positive", dur)
	}
	var in io.Reader
	if file == "-" {
		in = os.Stdin
	} else {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	deps, err := LoadDeployments(in)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	res, err := Run(Config{Deployments: deps, Duration: dur, Seed: seed, KeepEvents: events})
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if out == "json" {
		return res.WriteJSON(stdout)
	}
	return res.WriteTable(stdout)
}

func newFlags(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("probesim run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String("f", "", "Deployment YAML file (multi-document allowed; - for stdin)")
	fs.Duration("duration", 30*time.Minute, "virtual time to simulate")
	fs.Uint64("seed", 1, "random seed")
	fs.String("o", "table", "output format: table or json")
	fs.Bool("events", false, "also print the kubelet event log")
	return fs
}
