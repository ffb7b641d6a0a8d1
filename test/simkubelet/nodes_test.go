package simkubelet_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The simulated nodes look like a kubelet's: Ready, with capacity, addresses and version, and their Leases in
// kube-node-lease are renewed every 10s.
func TestNodesReadyAndLeasesRenewed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, name := range []string{"sim-node-1", "sim-node-2"} {
		n, err := kube.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("node %s: %v", name, err)
		}
		ready := false
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		if !ready {
			t.Errorf("node %s is not Ready: %+v", name, n.Status.Conditions)
		}
		if v := n.Status.NodeInfo.KubeletVersion; v != "v1.37.1" {
			t.Errorf("node %s: kubeletVersion %q", name, v)
		}
		if pods := n.Status.Allocatable[corev1.ResourcePods]; pods.Value() < 1000 {
			t.Errorf("node %s: allocatable pods %s", name, pods.String())
		}
		if len(n.Status.Addresses) == 0 || !strings.HasPrefix(n.Status.Addresses[0].Address, "127.0.0.") {
			t.Errorf("node %s: addresses %+v", name, n.Status.Addresses)
		}
	}

	first := map[string]time.Time{}
	for _, name := range []string{"sim-node-1", "sim-node-2"} {
		l := lease(t, name)
		if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != name || l.Spec.LeaseDurationSeconds == nil || *l.Spec.LeaseDurationSeconds != 40 {
			t.Errorf("lease %s: spec %+v", name, l.Spec)
		}
		if len(l.OwnerReferences) != 1 || l.OwnerReferences[0].Kind != "Node" || l.OwnerReferences[0].Name != name {
			t.Errorf("lease %s: owner references %+v", name, l.OwnerReferences)
		}
		first[name] = l.Spec.RenewTime.Time
	}
	eventually(t, 25*time.Second, func() error {
		for name, at := range first {
			l := lease(t, name)
			if !l.Spec.RenewTime.After(at) {
				return fmt.Errorf("lease %s not renewed since %s", name, at.Format(time.RFC3339Nano))
			}
			if age := time.Since(l.Spec.RenewTime.Time); age > 15*time.Second {
				return fmt.Errorf("lease %s renewed %s ago", name, age)
			}
		}
		return nil
	})
}

func lease(t *testing.T, name string) *coordinationv1.Lease {
	t.Helper()
	l, err := kube.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("lease %s: %v", name, err)
	}
	if l.Spec.RenewTime == nil {
		t.Fatalf("lease %s has no renewTime", name)
	}
	return l
}
