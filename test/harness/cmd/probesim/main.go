// Command probesim runs Deployments through the kubelet probe simulator in
// virtual time: go run ./cmd/probesim run -f deployment.yaml --duration 30m.
package main

import (
	"os"

	"github.com/probetuner/probe-tuner/test/harness/sim/report"
)

func main() {
	os.Exit(report.Main(os.Args[1:], os.Stdout, os.Stderr))
}
