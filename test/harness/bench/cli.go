package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"
)

const usage = `Usage: probebench [-f test/scenarios] [-o table|json] [-parallel N] [-run REGEXP] [-trace NAMES] [-fail-on-miss]
       probebench gen --family NAME|all --count N [--seed S] -o DIR   (writes generated scenarios; gen -h for more)

Runs probe-tuner's benchmark scenarios in virtual time, each three ways: without
tuning (baseline), with probe-tuner's observation and tuning code in the loop
(tuned), and with the best static probes found by searching the settings space
(oracle). Prints a table (or JSON) and a PASS/MISS line per target. See
docs/benchmark.md.

Flags:
`

// Main is the probebench command line; it returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "gen" {
		return genMain(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("probebench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "test/scenarios", "scenario file, or directory of *.yaml scenario files")
	out := fs.String("o", "table", "output format: table or json")
	parallel := fs.Int("parallel", runtime.GOMAXPROCS(0), "scenarios run at the same time")
	filter := fs.String("run", "", "only run the scenarios whose name matches this regular expression")
	failOnMiss := fs.Bool("fail-on-miss", false, "exit with status 3 when a target is missed")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	trace := fs.String("trace", "", "comma-separated scenario names whose tuned run's decisions are written to stderr")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "probebench: %v\n", err)
		return 1
	}
	if fs.NArg() > 0 {
		return fail(fmt.Errorf("unexpected arguments: %v", fs.Args()))
	}
	if *out != "table" && *out != "json" {
		return fail(fmt.Errorf("-o %q: want table or json", *out))
	}
	scs, err := Load(*file)
	if err != nil {
		return fail(err)
	}
	if *filter != "" {
		re, err := regexp.Compile(*filter)
		if err != nil {
			return fail(fmt.Errorf("-run: %w", err))
		}
		kept := scs[:0]
		for _, s := range scs {
			if re.MatchString(s.Name) {
				kept = append(kept, s)
			}
		}
		if len(kept) == 0 {
			return fail(fmt.Errorf("-run %q matches no scenario", *filter))
		}
		scs = kept
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	// The simulations allocate briskly and the heap stays small: trade memory for less collection work.
	debug.SetGCPercent(400)
	start := time.Now()
	opt := Options{Workers: *parallel}
	if *trace != "" {
		opt.Trace, opt.TraceScenarios = stderr, map[string]bool{}
		for _, n := range strings.Split(*trace, ",") {
			opt.TraceScenarios[strings.TrimSpace(n)] = true
		}
	}
	res, err := RunWith(scs, opt)
	if err != nil {
		return fail(err)
	}
	elapsed := time.Since(start)
	if *out == "json" {
		err = res.WriteJSON(stdout)
	} else {
		err = res.WriteTable(stdout)
	}
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stderr, "probebench: %d scenarios in %.1fs with %d workers\n", len(scs), elapsed.Seconds(), max(1, *parallel))
	if *failOnMiss {
		for _, t := range res.Summary.Targets {
			if !t.Pass {
				return 3
			}
		}
	}
	return 0
}
