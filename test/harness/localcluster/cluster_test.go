package localcluster

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/probetuner/probe-tuner/test/builders"
	"github.com/probetuner/probe-tuner/test/testutil"
)

// Without the control-plane binaries, New fails (it does not skip) and says how to build them.
func TestMissingBinariesFail(t *testing.T) {
	t.Setenv("KUBEBUILDER_ASSETS", t.TempDir())
	_, err := New(Options{})
	if err == nil || !strings.Contains(err.Error(), "make control-plane") {
		t.Fatalf("New without binaries: %v, want an error naming make control-plane", err)
	}
}

// A cluster with the in-process simulated kubelet runs a pod, and Stop leaves no process and no directory.
func TestInProcessClusterLifecycle(t *testing.T) {
	c, err := New(Options{SimKubelet: SimKubeletInProcess, Nodes: 1, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = c.Stop()
		}
	}()
	if len(c.Nodes) != 1 || c.SimKubelet == nil {
		t.Fatalf("nodes %v, driver %v", c.Nodes, c.SimKubelet)
	}
	ctx := context.Background()
	pod := builders.MakePod("solo", "default").Sim("startup", "1s").
		Container(builders.MakeContainer("app", "example/app:1").
			Probe(builders.MakeProbe(builders.Readiness).TCPSocket(8080).Period(1)).Obj()).
		Obj()
	if _, err := c.Client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, err := c.Client.CoreV1().Pods("default").Get(ctx, "solo", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Spec.NodeName == c.Nodes[0] && p.Status.Phase == corev1.PodRunning && testutil.PodReady(p) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod not running and Ready on %s within 30s: node %q, status %+v", c.Nodes[0], p.Spec.NodeName, p.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if s := c.SimKubelet.Stats(); s.Pods != 1 || s.Binds != 1 || s.StatusWrites == 0 {
		t.Errorf("driver stats %+v, want 1 pod, 1 bind, some status writes", s)
	}

	pids := c.recordedPIDs()
	if len(pids) != 3 {
		t.Errorf("recorded processes %v, want etcd, kube-apiserver and kube-controller-manager", pids)
	}
	stopped = true
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	for name, pid := range pids {
		if alive(pid) {
			t.Errorf("%s (pid %d) still alive after Stop", name, pid)
		}
	}
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Stop (%v)", c.Dir, err)
	}
}

// crashHelperEnv makes the test binary a helper process of TestWatchdogCleansUpAfterCrash instead of running
// tests: see TestMain.
const crashHelperEnv = "LOCALCLUSTER_CRASH_HELPER"

// TestMain runs the tests, unless the binary was started as the crash helper: then it starts a cluster, prints its
// directory and process ids, and exits with code 3 without stopping it, for the watchdog to clean up (exit code
// 2 and "error ..." when the cluster does not start).
func TestMain(m *testing.M) {
	if os.Getenv(crashHelperEnv) == "" {
		os.Exit(m.Run())
	}
	c, err := New(Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Println("dir", c.Dir)
	for name, pid := range c.recordedPIDs() {
		fmt.Println("pid", name, pid)
	}
	os.Exit(3) // no Stop: the watchdog must clean up
}

// A test process that dies without stopping its cluster leaves nothing behind: the watchdog tears it down.
func TestWatchdogCleansUpAfterCrash(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashHelperEnv+"=1")
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("helper: %v, output:\n%s", err, out)
	}
	var dir string
	pids := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "dir":
			dir = f[1]
		case len(f) == 3 && f[0] == "pid":
			pids[f[1]], _ = strconv.Atoi(f[2])
		}
	}
	if dir == "" || len(pids) != 3 {
		t.Fatalf("helper output:\n%s", out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left []string
		for name, pid := range pids {
			if alive(pid) {
				left = append(left, fmt.Sprintf("%s (pid %d)", name, pid))
			}
		}
		if _, err := os.Stat(dir); err == nil {
			left = append(left, dir)
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("30s after the crash, still there: %s", strings.Join(left, ", "))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
