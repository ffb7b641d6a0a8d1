package simkubelet

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
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
	var err error
	d.boundFactory, d.podLister, err = d.podInformer(boundPodsSelector, "bound", cache.ResourceEventHandlerFuncs{
		AddFunc:    d.onBoundAdd,
		UpdateFunc: d.onBoundUpdate,
		DeleteFunc: d.onBoundDelete,
	})
	if err != nil || d.cfg.DisableScheduling {
		return err
	}
	d.pendingFactory, d.binder.lister, err = d.podInformer(pendingPodsSelector, "pending", cache.ResourceEventHandlerFuncs{
		AddFunc:    d.binder.onPending,
		UpdateFunc: func(_, obj any) { d.binder.onPending(obj) },
	})
	return err
}

// podInformer creates an informer factory for the pods matching fieldSelector, without their managedFields, with
// the handlers registered and its sync tracked in d.synced.
func (d *Driver) podInformer(fieldSelector, what string, handlers cache.ResourceEventHandler) (informers.SharedInformerFactory, corelisters.PodLister, error) {
	factory := informers.NewSharedInformerFactoryWithOptions(d.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = fieldSelector }))
	pods := factory.Core().V1().Pods()
	inf := pods.Informer()
	if err := inf.SetTransform(stripManagedFields); err != nil {
		return nil, nil, err
	}
	if _, err := inf.AddEventHandler(handlers); err != nil {
		return nil, nil, fmt.Errorf("watching %s pods: %w", what, err)
	}
	d.synced = append(d.synced, inf.HasSynced)
	return factory, pods.Lister(), nil
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
