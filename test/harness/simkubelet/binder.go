package simkubelet

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
)

// binder is the scheduler half of the driver: it binds pending pods of its scheduler name to the least-loaded
// of our nodes whose labels match the pod's nodeSelector, through the pods/binding subresource. Affinity,
// taints, tolerations and resource fit are not considered.
type binder struct {
	d        *Driver
	lister   corelisters.PodLister
	queue    workqueue.TypedRateLimitingInterface[string]
	recorder record.EventRecorder
	all      []string // names of our nodes
}

func newBinder(d *Driver) *binder {
	b := &binder{
		d: d,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](100*time.Millisecond, 30*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "simkubelet-binder"}),
	}
	for _, n := range d.nodes {
		b.all = append(b.all, n.name)
	}
	return b
}

// wants reports whether the binder should place the pod.
func (b *binder) wants(pod *corev1.Pod) bool {
	name := pod.Spec.SchedulerName
	if name == "" {
		name = corev1.DefaultSchedulerName
	}
	return name == b.d.cfg.SchedulerName && pod.Spec.NodeName == "" && pod.DeletionTimestamp == nil &&
		pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}

// onPending is the pending-pod informer's add and update handler.
func (b *binder) onPending(obj any) {
	if pod, ok := obj.(*corev1.Pod); ok && b.wants(pod) {
		b.queue.Add(podKey(pod.Namespace, pod.Name))
	}
}

// run binds queued pods with the given number of workers until ctx ends.
func (b *binder) run(ctx context.Context, workers int) {
	runWorkers(ctx, b.queue, workers, b.d.log, "Binding failed, will retry", b.bind)
}

// candidates returns our nodes whose labels match the pod's nodeSelector.
func (b *binder) candidates(pod *corev1.Pod) []string {
	if len(pod.Spec.NodeSelector) == 0 {
		return b.all
	}
	var out []string
	for _, n := range b.d.nodes {
		match := true
		for k, v := range pod.Spec.NodeSelector {
			if n.labels[k] != v {
				match = false
				break
			}
		}
		if match {
			out = append(out, n.name)
		}
	}
	return out
}

// bind places one pod.
func (b *binder) bind(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		utilruntime.HandleError(err)
		return nil
	}
	pod, err := b.lister.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !b.wants(pod) {
		return nil
	}
	cands := b.candidates(pod)
	if len(cands) == 0 {
		msg := fmt.Sprintf("0/%d nodes are available: %d node(s) didn't match Pod's node selector.", len(b.all), len(b.all))
		b.recorder.Event(pod, corev1.EventTypeWarning, "FailedScheduling", msg)
		b.d.log.V(2).Info("No node matches the pod's node selector", "pod", key)
		return nil // an update of the pod queues it again
	}
	target := b.d.load.leastLoaded(cands)
	err = b.d.client.CoreV1().Pods(ns).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: target},
	}, metav1.CreateOptions{})
	switch {
	case err == nil:
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		return nil // deleted, or already bound (by another scheduler, or a retry of ours)
	default:
		b.d.stats.bindErrors.Add(1)
		return fmt.Errorf("binding %s to %s: %w", key, target, err)
	}
	b.d.load.assign(pod.UID, target)
	b.d.stats.binds.Add(1)
	b.recorder.Eventf(pod, corev1.EventTypeNormal, "Scheduled", "Successfully assigned %s/%s to %s", ns, name, target)
	b.d.log.V(4).Info("Bound pod", "pod", key, "node", target)
	return nil
}
