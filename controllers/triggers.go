package controllers

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/probetuner/probe-tuner/internal/podstore"
)

// podBatchDelay is how long a policy waits after a change to one of its pods before it is reconciled. A policy
// covers many pods whose updates come in bursts (a rollout, a crash loop across replicas): one reconcile per
// burst instead of one per pod update keeps CPU per update low, at the cost of this much decision latency.
const podBatchDelay = time.Second

// kubeletSource feeds the controller from the pod store: a pod change (in a field observation reads) or a
// Killing Event (the cause of a restart, which a decision may wait for) enqueues the policies of the pod's
// Deployment, podBatchDelay later; the work queue folds the requests for one policy that arrive meanwhile into a
// single reconcile.
type kubeletSource struct {
	store *podstore.Store
	r     *ProbePolicyReconciler
}

var _ source.TypedSyncingSource[reconcile.Request] = kubeletSource{}

// Start implements source.Source: it starts the store's informers.
func (s kubeletSource) Start(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	enqueue := func(namespace, deployment string) {
		if deployment == "" {
			return
		}
		for _, req := range s.r.policiesForDeploymentName(ctx, namespace, deployment) {
			q.AddAfter(req, podBatchDelay)
		}
	}
	return s.store.Start(ctx, podstore.Handlers{
		PodChanged: func(p *podstore.Pod) { enqueue(p.Namespace, p.Deployment) },
		Killing:    func(e *podstore.Event) { enqueue(e.Namespace, s.store.DeploymentOfPod(e.Namespace, e.Pod)) },
	})
}

// WaitForSync implements source.SyncingSource: the controller's workers start once the store has listed.
func (s kubeletSource) WaitForSync(ctx context.Context) error { return s.store.WaitForSync(ctx) }

// policiesForDeploymentName maps a Deployment, by name, to its policies.
func (r *ProbePolicyReconciler) policiesForDeploymentName(ctx context.Context, namespace, name string) []reconcile.Request {
	var d appsv1.Deployment
	if err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &d); err != nil {
		return nil
	}
	return r.policiesForDeployment(ctx, &d)
}
