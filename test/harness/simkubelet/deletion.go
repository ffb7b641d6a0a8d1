package simkubelet

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/probetuner/probe-tuner/test/harness/sim"
)

// requestDeletion starts the graceful termination of a simulated pod whose API object has a
// deletionTimestamp, with the grace period the API server recorded (deletionGracePeriodSeconds). Repeated
// calls are harmless: the simulator applies the first.
func requestDeletion(p *sim.PodSim, pod *corev1.Pod, now time.Time) error {
	if pod.DeletionTimestamp == nil {
		return nil
	}
	return p.Delete(now, pod.DeletionGracePeriodSeconds)
}

// deleteTerminated removes a pod whose containers have all terminated and whose final status has been written,
// as the kubelet's status manager does: grace period 0 and the pod's UID as a precondition, so that a new pod
// of the same name is never deleted by mistake.
func (d *Driver) deleteTerminated(ctx context.Context, ns, name string, uid types.UID) error {
	err := d.client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To(int64(0)),
		Preconditions:      metav1.NewUIDPreconditions(string(uid)),
	})
	switch {
	case err == nil:
		d.stats.deletes.Add(1)
		d.log.V(2).Info("Pod fully terminated and removed from the API server", "pod", podKey(ns, name), "podUID", uid)
		return nil
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		return nil // already gone, or replaced by a pod with another UID
	default:
		return fmt.Errorf("deleting terminated pod: %w", err)
	}
}
