package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
)

const genUsage = `Usage: probebench gen --family NAME|all --count N [--seed S] -o DIR
       probebench gen --list

Writes N generated benchmark scenarios, one file per scenario named <family>-<nnn>.yaml, into DIR. The same
arguments write byte-identical files; --family all spreads N over every family. Run them with
probebench -f DIR. See docs/benchmark.md.

Flags:
`

// genMain is `probebench gen`; it returns the process exit code.
func genMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probebench gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	family := fs.String("family", "", "family to generate, or all (see --list)")
	count := fs.Int("count", 0, "number of scenarios to write")
	seed := fs.Uint64("seed", 1, "seed of the generator")
	dir := fs.String("o", "", "directory to write the scenario files into (created when missing)")
	list := fs.Bool("list", false, "list the families and exit")
	fs.Usage = func() {
		fmt.Fprint(stderr, genUsage)
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\nFamilies:")
		writeFamilies(stderr)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "probebench gen: "+format+"\n", a...)
		return 1
	}
	if *list {
		writeFamilies(stdout)
		return 0
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected arguments: %v", fs.Args())
	case *family == "":
		return fail("--family is required (a family name or all; --list lists them)")
	case *count < 1:
		return fail("--count %d: want at least 1", *count)
	case *dir == "":
		return fail("-o DIR is required")
	}
	scs, err := Generate(*family, *count, *seed)
	if err != nil {
		return fail("%v", err)
	}
	if err := WriteGenerated(*dir, scs); err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(stderr, "probebench gen: wrote %d scenarios to %s\n", len(scs), *dir)
	return 0
}

func writeFamilies(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range families {
		fmt.Fprintf(tw, "  %s\t%s\n", f.Name, f.Summary)
	}
	tw.Flush()
}
