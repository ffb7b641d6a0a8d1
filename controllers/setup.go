// Package controllers holds probe-tuner's reconcilers. They are thin: they gather objects from the API server,
// hand them to the pure packages under internal/ to decide, and write the results back.
package controllers

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/podstore"
)

// FieldManager is the server-side apply field manager probe-tuner writes with, in its own objects and in the
// Deployments it tunes.
const FieldManager = "probe-tuner"

// Options configure the controllers.
type Options struct {
	// MaxConcurrentReconciles is the number of workers per controller.
	MaxConcurrentReconciles int
	// Clock is the time source; the real clock when nil.
	Clock clock.PassiveClock
	// SkipNameValidation lets tests register the controllers in several managers of one process.
	SkipNameValidation bool
	// ObserveConfig tunes observation; observe.DefaultConfig() when zero.
	ObserveConfig observe.Config
	// Namespaces are the namespaces the pod store watches (a namespace-scoped install); every namespace when
	// empty. The manager's cache must be given the same (CacheOptions).
	Namespaces []string
}

// SetupWithManager registers every probe-tuner controller with mgr. The manager's cache
// must be configured with CacheOptions.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.ObserveConfig == (observe.Config{}) {
		opts.ObserveConfig = observe.DefaultConfig()
	}
	// Pods and Events are decoded by the thousand: protobuf costs a fraction of JSON's CPU.
	cfg := rest.CopyConfig(mgr.GetConfig())
	cfg.ContentType, cfg.AcceptContentTypes = runtime.ContentTypeProtobuf, runtime.ContentTypeProtobuf+","+runtime.ContentTypeJSON
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating the pod store's client: %w", err)
	}
	pods, err := podstore.New(clientset, opts.Namespaces...)
	if err != nil {
		return err
	}
	statusWriter, err := NewStatusWriter(mgr.GetConfig(), mgr.GetHTTPClient(), mgr.GetScheme())
	if err != nil {
		return err
	}
	checkpointWriter, err := NewCheckpointWriter(mgr.GetConfig(), mgr.GetHTTPClient(), mgr.GetScheme())
	if err != nil {
		return err
	}
	rec := mgr.GetEventRecorder("probe-tuner")
	r := &ProbePolicyReconciler{
		Client:        mgr.GetClient(),
		Pods:          pods,
		APIReader:     mgr.GetAPIReader(),
		Clock:         opts.Clock,
		Recorder:      rec,
		States:        &StateStore{Reader: mgr.GetAPIReader(), Writer: checkpointWriter, Recorder: rec},
		ObserveConfig: opts.ObserveConfig,
		StatusWriter:  statusWriter,
	}
	if err := r.SetupWithManager(mgr, controller.Options{MaxConcurrentReconciles: opts.MaxConcurrentReconciles, SkipNameValidation: &opts.SkipNameValidation}); err != nil {
		return fmt.Errorf("probepolicy controller: %w", err)
	}
	return nil
}

// SetupWithManager watches ProbePolicies, the Deployments they may select, and (through the pod store) those
// Deployments' pods and the kubelet's Killing Events about them. The Deployment and ProbePolicy events also keep
// the policy index current; the workers start only once every handler has seen the objects listed at start, so
// the index is complete before the first reconcile.
func (r *ProbePolicyReconciler) SetupWithManager(mgr ctrl.Manager, opts controller.Options) error {
	r.index.fed = true
	r.looks.tracked = true
	return ctrl.NewControllerManagedBy(mgr).
		For(&tuningv1alpha1.ProbePolicy{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&tuningv1alpha1.ProbePolicy{}, policyIndexHandler{index: &r.index, looks: &r.looks}).
		Watches(&appsv1.Deployment{}, batchedMapHandler{mapFn: r.policiesForDeployment, delay: podBatchDelay,
			urgent: deploymentChanged, urgentDelay: restartBatchDelay, matters: deploymentUpdateMatters,
			gone: func(obj client.Object) { r.index.deleteDeployment(obj.GetNamespace(), obj.GetName()) }}).
		WatchesRawSource(kubeletSource{store: r.Pods, r: r}).
		WithOptions(opts).
		Named("probepolicy").
		Complete(r)
}

// policiesForDeployment maps a Deployment to the policies in its namespace whose selector matches it, and to the
// policies that still track it (so a Deployment that stops matching is released), through the index; its labels
// go into the index first (matched against the selectors only when they changed). Each of those policies has the
// workload marked changed.
func (r *ProbePolicyReconciler) policiesForDeployment(_ context.Context, obj client.Object) []reconcile.Request {
	r.index.setDeployment(obj.GetNamespace(), obj.GetName(), obj.GetLabels())
	return r.changedFor(obj.GetName(), r.index.requests(obj.GetNamespace(), obj.GetName()))
}

// changedFor marks the Deployment changed for each policy requested, and returns the requests.
func (r *ProbePolicyReconciler) changedFor(deployment string, reqs []reconcile.Request) []reconcile.Request {
	for _, req := range reqs {
		r.looks.changed(req.NamespacedName, deployment)
	}
	return reqs
}
