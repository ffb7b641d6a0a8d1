package controllers

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// CacheOptions slims what the manager caches: of Deployments only the fields probe-tuner reads, of ProbePolicies all
// but their managed fields. ReplicaSets are not cached: a Deployment's current one is read when its revision
// number moves (currentRevision).
// Pods and the kubelet's Events are not in this cache at all: the pod store (internal/podstore) keeps compact
// records of them, which is what keeps memory per watched pod small.
// With namespaces, the cache watches only those (a namespace-scoped install); without, every namespace.
func CacheOptions(namespaces ...string) cache.Options {
	var byNS map[string]cache.Config
	for _, ns := range namespaces {
		if byNS == nil {
			byNS = map[string]cache.Config{}
		}
		byNS[ns] = cache.Config{}
	}
	return cache.Options{
		DefaultNamespaces: byNS,
		ByObject: map[client.Object]cache.ByObject{
			// A Deployment read from the cache shares its maps, slices and pointers with the cache's object: a
			// reconcile reads every Deployment its policy selects, and deep copies of them were a tenth of what the
			// operator allocated. Nothing modifies what it reads (TestStepWorkload checks the step); a write starts
			// from a fresh read from the API server (write.go).
			&appsv1.Deployment{}:          {Transform: slimDeployment, UnsafeDisableDeepCopy: ptr.To(true)},
			&tuningv1alpha1.ProbePolicy{}: {Transform: dropManagedFields},
		},
	}
}

// dropManagedFields drops an object's managed fields, which probe-tuner never reads: a ProbePolicy's are as large
// as its status.
func dropManagedFields(obj any) (any, error) {
	if o, ok := obj.(client.Object); ok {
		o.SetManagedFields(nil)
	}
	return obj, nil
}

// replicaSetMetadataList lists ReplicaSets through the metadata API: their templates are never read.
func replicaSetMetadataList() *metav1.PartialObjectMetadataList {
	return &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSetList"}}
}

// slimDeployment drops what probe-tuner never reads of a Deployment: managed fields, the last-applied
// annotation, and container fields other than names, images and probes. Init containers keep their names and
// restart policies too: native sidecars (restartPolicy Always) are tuned like containers, and a plain init
// container must be known as one to be left alone.
func slimDeployment(obj any) (any, error) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return obj, nil
	}
	d.ManagedFields = nil
	if _, ok := d.Annotations[corev1.LastAppliedConfigAnnotation]; ok {
		anns := make(map[string]string, len(d.Annotations))
		for k, v := range d.Annotations {
			if k != corev1.LastAppliedConfigAnnotation {
				anns[k] = v
			}
		}
		d.Annotations = anns
	}
	spec := &d.Spec.Template.Spec
	spec.Volumes = nil
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			c := &list[i]
			c.Env, c.EnvFrom, c.VolumeMounts, c.Command, c.Args, c.Resources = nil, nil, nil, nil, nil, corev1.ResourceRequirements{}
		}
	}
	return d, nil
}

// controllerRef returns the controlling owner reference, or nil.
func controllerRef(refs []metav1.OwnerReference) *metav1.OwnerReference {
	for i := range refs {
		if refs[i].Controller != nil && *refs[i].Controller {
			return &refs[i]
		}
	}
	return nil
}

// revisionAnnotation is the Deployment controller's revision number, on Deployments and their ReplicaSets.
const revisionAnnotation = "deployment.kubernetes.io/revision"
