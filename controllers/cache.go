package controllers

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// Cache indexes.
const (
	// indexRSDeployment indexes ReplicaSets by the name of the Deployment that owns them.
	indexRSDeployment = "probetuner.io/rs-deployment"
)

// CacheOptions slims what the manager caches: of ReplicaSets and Deployments only the fields probe-tuner reads, of
// ProbePolicies all but their managed fields.
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
			replicaSetMetadata():          {Transform: slimReplicaSet},
			&appsv1.Deployment{}:          {Transform: slimDeployment},
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

// replicaSetMetadata is a ReplicaSet's metadata alone: the cache watches ReplicaSets through the metadata API,
// because every pod becoming ready or not changes its ReplicaSet's status, and decoding each such update whole (its
// pod template with it) cost more than decoding the pods themselves.
func replicaSetMetadata() *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"}}
}

// replicaSetMetadataList lists what replicaSetMetadata caches.
func replicaSetMetadataList() *metav1.PartialObjectMetadataList {
	return &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSetList"}}
}

// slimReplicaSet keeps what tells a Deployment's current revision: owner, template hash and revision.
func slimReplicaSet(obj any) (any, error) {
	rs, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return obj, nil
	}
	out := &metav1.PartialObjectMetadata{TypeMeta: rs.TypeMeta}
	out.Name, out.Namespace, out.UID, out.ResourceVersion, out.CreationTimestamp = rs.Name, rs.Namespace, rs.UID, rs.ResourceVersion, rs.CreationTimestamp
	if h, ok := rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; ok {
		out.Labels = map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: h}
	}
	if v, ok := rs.Annotations[revisionAnnotation]; ok {
		out.Annotations = map[string]string{revisionAnnotation: v}
	}
	if ref := controllerRef(rs.OwnerReferences); ref != nil {
		out.OwnerReferences = []metav1.OwnerReference{*ref}
	}
	return out, nil
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

// SetupIndexes registers the cache indexes the controllers query.
func SetupIndexes(indexer client.FieldIndexer) error {
	ctx := context.Background()
	if err := indexer.IndexField(ctx, replicaSetMetadata(), indexRSDeployment, replicaSetDeployment); err != nil {
		return fmt.Errorf("indexing replicasets by deployment: %w", err)
	}
	return nil
}

// replicaSetDeployment is the index function of indexRSDeployment: the name of the Deployment controlling the
// ReplicaSet.
func replicaSetDeployment(o client.Object) []string {
	if ref := controllerRef(o.GetOwnerReferences()); ref != nil && ref.Kind == "Deployment" {
		return []string{ref.Name}
	}
	return nil
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
