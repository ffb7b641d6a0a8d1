//go:build e2e && !realnode

// Package e2e runs probe-tuner end to end: the local control plane (etcd, kube-apiserver,
// kube-controller-manager), the simulated kubelet as a process, and the operator as a separate process, driving
// the demo's workloads (config/demo) and asserting what a user would check. With the realnode build tag the
// cluster has a real node instead (realnode_main_test.go).
package e2e

import (
	"os"
	"testing"

	"github.com/probetuner/probe-tuner/test/harness/localcluster"
)

func TestMain(m *testing.M) {
	os.Exit(runWithCluster(m, localcluster.Options{SimKubelet: localcluster.SimKubeletProcess, Nodes: 2}))
}
