// Package simkubelet_test runs the simulated kubelet (the bin/simkubelet process, built for the test) against a
// real local control plane (kube-apiserver, etcd, kube-controller-manager) started by test/localcluster, and
// checks what Kubernetes users see: nodes and leases, scheduling, probe kills and CrashLoopBackOff, readiness,
// scale-down and rollouts.
package simkubelet_test

import (
	"fmt"
	"os"
	"testing"

	"k8s.io/client-go/kubernetes"

	"github.com/probetuner/probe-tuner/test/harness/localcluster"
)

var (
	cluster *localcluster.Cluster
	kube    kubernetes.Interface
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	cluster, err = localcluster.New(localcluster.Options{
		SimKubelet:      localcluster.SimKubeletProcess,
		Nodes:           2,
		SimKubeletFlags: []string{"--stats-interval=5s"},
		Logf: func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, format+"\n", args...)
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "simkubelet tests: %v\n", err)
		return 1
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping the local cluster: %v\n", err)
		}
	}()
	kube = cluster.Client
	code := m.Run()
	if code != 0 {
		cluster.DumpLogs(os.Stderr, 60)
	}
	return code
}
