package simkubelet

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// Field selectors of the two pod informers: pods bound to some node (the kubelet side; filtered to our nodes in
// the handlers) and pods waiting for a node (the scheduler side, as kube-scheduler selects them).
const (
	boundPodsSelector   = "spec.nodeName!="
	pendingPodsSelector = "spec.nodeName=,status.phase!=" + string(corev1.PodSucceeded) + ",status.phase!=" + string(corev1.PodFailed)
)

// stripManagedFields drops managedFields from cached objects: they are large and never read here.
func stripManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// setupInformers creates the pod informers and registers their handlers (they are started by Run).
func (d *Driver) setupInformers() error {
	d.boundFactory = informers.NewSharedInformerFactoryWithOptions(d.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = boundPodsSelector }))
	bound := d.boundFactory.Core().V1().Pods()
	inf := bound.Informer()
	if err := inf.SetTransform(stripManagedFields); err != nil {
		return err
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    d.onBoundAdd,
		UpdateFunc: d.onBoundUpdate,
		DeleteFunc: d.onBoundDelete,
	}); err != nil {
		return fmt.Errorf("watching bound pods: %w", err)
	}
	d.podLister = bound.Lister()
	d.synced = append(d.synced, inf.HasSynced)

	if d.cfg.DisableScheduling {
		return nil
	}
	d.pendingFactory = informers.NewSharedInformerFactoryWithOptions(d.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = pendingPodsSelector }))
	pending := d.pendingFactory.Core().V1().Pods()
	pinf := pending.Informer()
	if err := pinf.SetTransform(stripManagedFields); err != nil {
		return err
	}
	if _, err := pinf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    d.binder.onPending,
		UpdateFunc: func(_, obj any) { d.binder.onPending(obj) },
	}); err != nil {
		return fmt.Errorf("watching pending pods: %w", err)
	}
	d.binder.lister = pending.Lister()
	d.synced = append(d.synced, pinf.HasSynced)
	return nil
}

// ours returns the node of that name if this driver serves it.
func (d *Driver) ours(nodeName string) *node { return d.nodeByName[nodeName] }

func (d *Driver) onBoundAdd(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || d.ours(pod.Spec.NodeName) == nil {
		return
	}
	d.load.assign(pod.UID, pod.Spec.NodeName)
	d.inbox.put(podKey(pod.Namespace, pod.Name), podChange{pod: pod})
}

// onBoundUpdate forwards only the updates the kubelet acts on: a new pod under the same name, and deletion.
// Our own status writes come back here and are dropped cheaply.
func (d *Driver) onBoundUpdate(oldObj, newObj any) {
	old, ok1 := oldObj.(*corev1.Pod)
	pod, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || d.ours(pod.Spec.NodeName) == nil {
		return
	}
	if old.UID == pod.UID && old.Spec.NodeName == pod.Spec.NodeName &&
		(old.DeletionTimestamp == nil) == (pod.DeletionTimestamp == nil) &&
		ptr.Equal(old.DeletionGracePeriodSeconds, pod.DeletionGracePeriodSeconds) {
		return
	}
	d.load.assign(pod.UID, pod.Spec.NodeName)
	d.inbox.put(podKey(pod.Namespace, pod.Name), podChange{pod: pod})
}

func (d *Driver) onBoundDelete(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok || d.ours(pod.Spec.NodeName) == nil {
		return
	}
	d.load.forget(pod.UID)
	d.inbox.put(podKey(pod.Namespace, pod.Name), podChange{uid: pod.UID})
}
