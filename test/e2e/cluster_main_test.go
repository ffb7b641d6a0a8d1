//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/zap/zapcore"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/probetuner/probe-tuner/test/harness/localcluster"
)

var cluster *localcluster.Cluster

// runWithCluster starts the local cluster of opts, runs the tests, dumps the components' logs when one failed,
// and stops the cluster.
func runWithCluster(m *testing.M, opts localcluster.Options) int {
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.InfoLevel)))
	opts.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	c, err := localcluster.New(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting the local cluster: %v\n", err)
		return 1
	}
	cluster = c
	code := m.Run()
	if code != 0 {
		c.DumpLogs(os.Stderr, 40)
	}
	if err := c.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping the local cluster: %v\n", err)
		return 1
	}
	return code
}
