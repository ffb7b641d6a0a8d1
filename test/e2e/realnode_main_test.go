//go:build e2e && realnode

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

// TestMain of the real-node build (make test-e2e-real): the local control plane with containerd and a real
// kubelet instead of the simulated one. It needs root and bin/k8s-node (make node-binaries).
func TestMain(m *testing.M) {
	os.Exit(runRealNode(m))
}

func runRealNode(m *testing.M) int {
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.InfoLevel)))
	c, err := localcluster.New(localcluster.Options{RealNode: true,
		Logf: func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }})
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting the local cluster with a real node: %v\n", err)
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
