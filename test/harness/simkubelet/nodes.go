package simkubelet

import (
	"context"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// KubeletVersion is the version the fake nodes report.
const KubeletVersion = "v1.37.1"

// SimulatedNodeLabel marks the nodes registered by a simulated kubelet.
const SimulatedNodeLabel = "node.probetuner.io/simulated"

// node is one fake node served by the driver.
type node struct {
	name   string
	ip     string
	labels map[string]string
	uid    types.UID // set once registered
}

// makeNodes returns the driver's nodes: prefix1 .. prefixN with loopback addresses 127.0.x.y.
func makeNodes(c Config) []*node {
	nodes := make([]*node, c.Nodes)
	for i := range nodes {
		name := fmt.Sprintf("%s%d", c.NodePrefix, i+1)
		nodes[i] = &node{
			name: name,
			ip:   nodeIP(i + 1),
			labels: map[string]string{
				corev1.LabelHostname:   name,
				corev1.LabelOSStable:   "linux",
				corev1.LabelArchStable: "amd64",
				SimulatedNodeLabel:     "true",
			},
		}
	}
	return nodes
}

// nodeIP returns the address of the i-th node (1-based): 127.0.0.2 for the first, 250 per third octet.
func nodeIP(i int) string {
	return fmt.Sprintf("127.0.%d.%d", i/250, i%250+1)
}

// nodeResources is what every fake node offers: enough for thousands of pods.
func nodeResources() (capacity, allocatable corev1.ResourceList) {
	capacity = corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("256"),
		corev1.ResourceMemory:           resource.MustParse("1Ti"),
		corev1.ResourcePods:             resource.MustParse("10000"),
		corev1.ResourceEphemeralStorage: resource.MustParse("10Ti"),
	}
	allocatable = corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("255"),
		corev1.ResourceMemory:           resource.MustParse("1023Gi"),
		corev1.ResourcePods:             resource.MustParse("10000"),
		corev1.ResourceEphemeralStorage: resource.MustParse("10Ti"),
	}
	return capacity, allocatable
}

// status returns the node status a healthy kubelet reports at now. Transition times are kept from prev when the
// condition's status did not change (as the kubelet's setters do).
func (n *node) status(now time.Time, prev *corev1.NodeStatus) corev1.NodeStatus {
	capacity, allocatable := nodeResources()
	hb := metav1.NewTime(now)
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		c := corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: hb, LastTransitionTime: hb}
		if prev != nil {
			for _, p := range prev.Conditions {
				if p.Type == t && p.Status == s {
					c.LastTransitionTime = p.LastTransitionTime
				}
			}
		}
		return c
	}
	return corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: allocatable,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status (simulated by probe-tuner's simkubelet)"),
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: n.ip},
			{Type: corev1.NodeHostName, Address: n.name},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID:               idHex("machine/" + n.name),
			SystemUUID:              idHex("system/" + n.name),
			BootID:                  idHex("boot/" + n.name),
			KernelVersion:           "6.8.0-simulated",
			OSImage:                 "probe-tuner simulated node",
			ContainerRuntimeVersion: "containerd://2.1.0-simulated",
			KubeletVersion:          KubeletVersion,
			OperatingSystem:         "linux",
			Architecture:            "amd64",
		},
	}
}

// register creates the node, or adopts an existing one of the same name (a restarted kubelet): our labels are
// set on it and its status is replaced by a fresh, Ready one.
func (n *node) register(ctx context.Context, c kubernetes.Interface, now time.Time) error {
	obj := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        n.name,
			Labels:      maps.Clone(n.labels),
			Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0"},
		},
		Status: n.status(now, nil),
	}
	created, err := c.CoreV1().Nodes().Create(ctx, obj, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("registering node %s: %w", n.name, err)
	}
	if err == nil {
		n.uid = created.UID
		if len(created.Status.Conditions) > 0 {
			return nil
		}
	}
	// An existing node (or one created without its status): reconcile labels, then write the status.
	return retryOnConflict(ctx, func() error {
		cur, err := c.CoreV1().Nodes().Get(ctx, n.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cur.Labels == nil {
			cur.Labels = map[string]string{}
		}
		changed := false
		for k, v := range n.labels {
			if cur.Labels[k] != v {
				cur.Labels[k] = v
				changed = true
			}
		}
		if changed {
			if cur, err = c.CoreV1().Nodes().Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
		cur.Status = n.status(now, &cur.Status)
		updated, err := c.CoreV1().Nodes().UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		n.uid = updated.UID
		return nil
	})
}

// registerNodes registers every node, retrying (like the kubelet) until it succeeds or ctx ends.
func (d *Driver) registerNodes(ctx context.Context) error {
	for _, n := range d.nodes {
		err := wait.ExponentialBackoffWithContext(ctx, wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Cap: 7 * time.Second, Steps: 1 << 30},
			func(ctx context.Context) (bool, error) {
				if err := n.register(ctx, d.heartbeatClient, time.Now()); err != nil {
					d.log.Error(err, "Unable to register node with API server, will retry", "node", n.name)
					return false, nil
				}
				return true, nil
			})
		if err != nil {
			return fmt.Errorf("registering node %s: %w", n.name, err)
		}
		d.log.Info("Successfully registered node", "node", n.name, "address", n.ip)
	}
	return nil
}
