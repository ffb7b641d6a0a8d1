package simkubelet_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/probetuner/probe-tuner/test/builders"
	"github.com/probetuner/probe-tuner/test/testutil"
)

// SIGTERM stops the simkubelet process cleanly; started again (cluster-up.sh is idempotent), it adopts its
// nodes and the pods bound to them, which start again as after a node reboot. Not parallel: it runs before
// the other tests, which need the kubelet.
func TestSIGTERMAndRestart(t *testing.T) {
	ns := newNamespace(t)
	create(t, simDeployment(ns, "survivor", 1, httpProbe(builders.Readiness, "/ready", 1, 3)))
	available(t, ns, "survivor", 30*time.Second)
	before := pods(t, ns, "survivor")[0]

	pid, err := cluster.PID("simkubelet")
	if err != nil {
		t.Fatal(err)
	}
	if err := cluster.Kill("simkubelet", syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		if cluster.Running("simkubelet") {
			return fmt.Errorf("simkubelet (pid %d) still running after SIGTERM", pid)
		}
		return nil
	})
	log, err := os.ReadFile(cluster.LogPath("simkubelet"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "Simulated kubelet stopping") {
		t.Errorf("no clean shutdown in the simkubelet log")
	}

	if err := cluster.Up(); err != nil {
		t.Fatal(err)
	}
	if again, _ := cluster.PID("simkubelet"); again == pid || !cluster.Running("simkubelet") {
		t.Fatalf("simkubelet not started again (pid %d, before %d)", again, pid)
	}
	eventually(t, 30*time.Second, func() error {
		p, err := kube.CoreV1().Pods(ns).Get(context.Background(), before.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.UID != before.UID {
			return fmt.Errorf("pod %s was replaced", p.Name)
		}
		cs := p.Status.ContainerStatuses
		if len(cs) != 1 || cs[0].ContainerID == before.Status.ContainerStatuses[0].ContainerID || cs[0].RestartCount != 1 || !testutil.PodReady(p) {
			return fmt.Errorf("pod %s after the restart: %+v, want a new container, restartCount 1, Ready", p.Name, cs)
		}
		return nil
	})
	for _, name := range cluster.Nodes {
		l := lease(t, name)
		if age := time.Since(l.Spec.RenewTime.Time); age > 12*time.Second {
			t.Errorf("lease %s renewed %s ago, after the restart", name, age)
		}
	}
}
