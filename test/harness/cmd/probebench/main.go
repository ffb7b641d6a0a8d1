// Command probebench scores probe-tuner against the benchmark scenarios in virtual time:
// go run ./cmd/probebench -f test/scenarios [-o json]; `probebench gen` writes generated scenarios
// (go run ./cmd/probebench gen --list). The logic lives in internal/bench.
package main

import (
	"os"

	"github.com/probetuner/probe-tuner/test/harness/bench"
)

func main() {
	os.Exit(bench.Main(os.Args[1:], os.Stdout, os.Stderr))
}
