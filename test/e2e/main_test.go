//go:build e2e && !realnode

// Package e2e runs probe-tuner end to end: the local control plane (etcd, kube-apiserver,
// kube-controller-manager), the simulated kubelet as a process, and the operator as a separate process, driving
// the demo's workloads (config/demo) and asserting what a user would check.
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

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.InfoLevel)))
	c, err := localcluster.New(localcluster.Options{SimKubelet: localcluster.SimKubeletProcess, Nodes: 2,
		Logf: func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }})
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
