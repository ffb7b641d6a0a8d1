//go:build e2e && realnode

package e2e

import (
	"os"
	"testing"

	"github.com/probetuner/probe-tuner/test/harness/localcluster"
)

// TestMain of the real-node build (make test-e2e-real): the local control plane with containerd and a real
// kubelet instead of the simulated one. It needs root and bin/k8s-node (make node-binaries).
func TestMain(m *testing.M) {
	os.Exit(runWithCluster(m, localcluster.Options{RealNode: true}))
}
