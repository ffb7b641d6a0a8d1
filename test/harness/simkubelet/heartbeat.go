package simkubelet

import (
	"context"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
)

// runHeartbeats keeps the nodes alive as a kubelet does: the node Lease in kube-node-lease is renewed every
// quarter of its duration (the node lease controller), and the node status is computed every
// NodeStatusUpdateFrequency and written when NodeStatusReportFrequency has passed since the last write (nothing
// else ever changes on a simulated node). The heartbeat client is not rate limited, like the kubelet's.
func (d *Driver) runHeartbeats(ctx context.Context) {
	leases := make(map[string]*coordinationv1.Lease, len(d.nodes))
	reported := make(map[string]time.Time, len(d.nodes))
	for _, n := range d.nodes {
		reported[n.name] = time.Now() // registration wrote a fresh status
	}
	d.renewLeases(ctx, leases)
	leaseTicker := time.NewTicker(d.cfg.LeaseDuration / 4)
	defer leaseTicker.Stop()
	statusTicker := time.NewTicker(d.cfg.NodeStatusUpdateFrequency)
	defer statusTicker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-leaseTicker.C:
			d.renewLeases(ctx, leases)
		case <-statusTicker.C:
			for _, n := range d.nodes {
				if time.Since(reported[n.name]) < d.cfg.NodeStatusReportFrequency {
					continue
				}
				if err := d.reportNodeStatus(ctx, n); err != nil {
					if ctx.Err() == nil {
						d.log.Error(err, "Error updating node status, will retry", "node", n.name)
					}
					continue
				}
				reported[n.name] = time.Now()
			}
		}
	}
}

// renewLeases renews every node's lease, retrying each a few times with a short back-off.
func (d *Driver) renewLeases(ctx context.Context, leases map[string]*coordinationv1.Lease) {
	for _, n := range d.nodes {
		err := wait.ExponentialBackoffWithContext(ctx, wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Steps: 5},
			func(ctx context.Context) (bool, error) {
				l, err := d.renewLease(ctx, n, leases[n.name])
				if err != nil {
					leases[n.name] = nil
					if ctx.Err() == nil {
						d.log.Error(err, "Failed to update lease", "node", n.name)
					}
					return false, nil
				}
				leases[n.name] = l
				return true, nil
			})
		if err == nil {
			d.stats.leaseRenewals.Add(1)
		}
	}
}

// renewLease sets the lease's renewTime to now, creating the lease (owned by the node) when it is missing.
// cached is the lease returned by the previous renewal, or nil.
func (d *Driver) renewLease(ctx context.Context, n *node, cached *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	leasesAPI := d.heartbeatClient.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	renew := func(l *coordinationv1.Lease) *coordinationv1.Lease {
		l = l.DeepCopy()
		l.Spec.HolderIdentity = ptr.To(n.name)
		l.Spec.LeaseDurationSeconds = ptr.To(int32(d.cfg.LeaseDuration / time.Second))
		l.Spec.RenewTime = ptr.To(metav1.NewMicroTime(time.Now()))
		if len(l.OwnerReferences) == 0 && n.uid != "" {
			l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: n.name, UID: n.uid}}
		}
		return l
	}
	if cached != nil {
		l, err := leasesAPI.Update(ctx, renew(cached), metav1.UpdateOptions{})
		if err == nil || !(apierrors.IsConflict(err) || apierrors.IsNotFound(err)) {
			return l, err
		}
	}
	cur, err := leasesAPI.Get(ctx, n.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return leasesAPI.Create(ctx, renew(&coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: n.name, Namespace: corev1.NamespaceNodeLease},
		}), metav1.CreateOptions{})
	}
	if err != nil {
		return nil, err
	}
	return leasesAPI.Update(ctx, renew(cur), metav1.UpdateOptions{})
}

// reportNodeStatus writes a fresh node status (new heartbeat times).
func (d *Driver) reportNodeStatus(ctx context.Context, n *node) error {
	nodes := d.heartbeatClient.CoreV1().Nodes()
	return retryOnConflict(ctx, func() error {
		cur, err := nodes.Get(ctx, n.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Status = n.status(time.Now(), &cur.Status)
		_, err = nodes.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if err == nil {
			d.stats.nodeStatusWrites.Add(1)
		}
		return err
	})
}
