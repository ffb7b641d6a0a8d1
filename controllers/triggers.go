package controllers

import (
	"context"
	"maps"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/podstore"
)

// How long a policy waits after a change to one of its pods before it is reconciled. A policy covers many pods
// whose updates come in bursts (a rollout, a crash loop across replicas, readiness flapping): one reconcile per
// burst instead of one per pod update keeps CPU per update low. A restart may complete the evidence for a
// decision, so it waits little; readiness going up and down is counted over minutes, so it can wait longer.
const (
	restartBatchDelay = time.Second
	podBatchDelay     = 5 * time.Second
)

// kubeletSource feeds the controller from the pod store: a pod change (in a field observation reads) or a
// Killing Event (the cause of a restart, which a decision may wait for) enqueues the policies of the pod's
// Deployment a batch delay later; the work queue folds the requests for one policy that arrive meanwhile into a
// single reconcile.
type kubeletSource struct {
	store *podstore.Store
	r     *ProbePolicyReconciler
}

var _ source.TypedSyncingSource[reconcile.Request] = kubeletSource{}

// Start implements source.Source: it starts the store's informers.
func (s kubeletSource) Start(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	enqueue := func(namespace, deployment string, delay time.Duration) {
		if deployment == "" {
			return
		}
		// A request already waiting keeps the earlier of its times: a restart is not held back by a flap.
		for _, req := range s.r.policiesForDeploymentName(ctx, namespace, deployment) {
			q.AddAfter(req, delay)
		}
	}
	return s.store.Start(ctx, podstore.Handlers{
		PodChanged: func(p *podstore.Pod, restarted bool) {
			delay := podBatchDelay
			if restarted {
				delay = restartBatchDelay
			}
			enqueue(p.Namespace, p.Deployment, delay)
		},
		Killing: func(e *podstore.Event) {
			enqueue(e.Namespace, s.store.DeploymentOfPod(e.Namespace, e.Pod), restartBatchDelay)
		},
	})
}

// WaitForSync implements source.SyncingSource: the controller's workers start once the store has listed.
func (s kubeletSource) WaitForSync(ctx context.Context) error { return s.store.WaitForSync(ctx) }

// batchedMapHandler enqueues the requests mapFn returns a delay after the event, so that a burst of events makes
// one reconcile. An update that urgent reports as such waits only urgentDelay; one that matters, when set,
// reports as not mattering enqueues nothing.
type batchedMapHandler struct {
	mapFn       handler.MapFunc
	delay       time.Duration
	urgent      func(old, cur client.Object) bool
	urgentDelay time.Duration
	matters     func(old, cur client.Object) bool
	// gone, when set, is told about a deleted object once its requests are enqueued.
	gone func(client.Object)
}

var _ handler.EventHandler = batchedMapHandler{}

func (h batchedMapHandler) add(ctx context.Context, obj client.Object, delay time.Duration, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	for _, req := range h.mapFn(ctx, obj) {
		q.AddAfter(req, delay)
	}
}

func (h batchedMapHandler) Create(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.add(ctx, e.Object, h.urgentDelay, q)
}

func (h batchedMapHandler) Update(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	if h.matters != nil && !h.matters(e.ObjectOld, e.ObjectNew) {
		return
	}
	delay := h.delay
	if h.urgent != nil && h.urgent(e.ObjectOld, e.ObjectNew) {
		delay = h.urgentDelay
	}
	h.add(ctx, e.ObjectNew, delay, q)
}

func (h batchedMapHandler) Delete(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.add(ctx, e.Object, h.urgentDelay, q)
	if h.gone != nil {
		h.gone(e.Object)
	}
}

func (h batchedMapHandler) Generic(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.add(ctx, e.Object, h.urgentDelay, q)
}

// deploymentChanged tells a Deployment's own changes (its spec, labels or annotations: a new template, a
// selection change, a pause) from its status following its pods.
func deploymentChanged(old, cur client.Object) bool {
	return old.GetGeneration() != cur.GetGeneration() || !maps.Equal(old.GetLabels(), cur.GetLabels()) ||
		!maps.Equal(old.GetAnnotations(), cur.GetAnnotations())
}

// policiesForDeploymentName maps a Deployment, by name, to its policies: through the index, which knows every
// Deployment once the watches have started; one it does not know yet (its pod's event came first) is read from
// the cache.
func (r *ProbePolicyReconciler) policiesForDeploymentName(ctx context.Context, namespace, name string) []reconcile.Request {
	if r.index.knows(namespace, name) {
		return r.changedFor(name, r.index.requests(namespace, name))
	}
	var d appsv1.Deployment
	if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &d); err != nil {
		return nil
	}
	return r.policiesForDeployment(ctx, &d)
}

// policyIndexHandler keeps the policy index current from the ProbePolicy events, status updates included (they
// say which workloads a policy still tracks). When a policy starts or stops selecting Deployments, or its
// deletion or age changes which policy acts on them, the other policies selecting them are enqueued: one of
// them may act now, or stop acting.
type policyIndexHandler struct {
	index *policyIndex
	looks *workloadLooks
}

var _ handler.EventHandler = policyIndexHandler{}

func (h policyIndexHandler) set(obj client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	if p, ok := obj.(*tuningv1alpha1.ProbePolicy); ok {
		h.others(p.Namespace, p.Name, h.index.setPolicy(p), q)
	}
}

// others enqueues the policies other than the named one that select or track the given Deployments.
func (h policyIndexHandler) others(ns, policy string, deployments []string, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	for _, d := range deployments {
		for _, req := range h.index.requestsExcept(ns, d, policy) {
			h.looks.changed(req.NamespacedName, d)
			q.AddAfter(req, restartBatchDelay)
		}
	}
}

func (h policyIndexHandler) Create(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.set(e.Object, q)
}

func (h policyIndexHandler) Update(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.set(e.ObjectNew, q)
}

func (h policyIndexHandler) Delete(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	key := types.NamespacedName{Namespace: e.Object.GetNamespace(), Name: e.Object.GetName()}
	h.others(key.Namespace, key.Name, h.index.deletePolicy(key), q)
}

func (h policyIndexHandler) Generic(context.Context, event.GenericEvent, workqueue.TypedRateLimitingInterface[reconcile.Request]) {
}
