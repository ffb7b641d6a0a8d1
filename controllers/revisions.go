package controllers

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// knownRevision is a Deployment's current pod-template-hash as read for one revision number of it.
type knownRevision struct {
	uid      types.UID
	revision string
	hash     string
}

// currentRevision returns the pod-template-hash of the Deployment's current ReplicaSet, and whether the
// Deployment is still rolling out.
//
// The Deployment controller numbers each template it rolls out (the revision annotation, on the Deployment and on
// the ReplicaSet of that template), so a Deployment's current hash changes only with that number. It is read from
// the API server when the number moves and remembered until it moves again, instead of watching every
// ReplicaSet: each pod becoming ready or not updates its ReplicaSet, and those watch events were a quarter of
// what the operator received beyond the pods.
func (r *ProbePolicyReconciler) currentRevision(ctx context.Context, policy types.NamespacedName, d *appsv1.Deployment) (string, bool, error) {
	want := d.Annotations[revisionAnnotation]
	if want == "" {
		return "", rollingOut(d), nil // not yet synced by the Deployment controller: no ReplicaSet is current
	}
	if known, ok := r.looks.revision(policy, d.Name); ok && known.uid == d.UID && known.revision == want {
		return known.hash, rollingOut(d), nil
	}
	hash, err := r.readRevision(ctx, d, want)
	if err != nil {
		return "", false, err
	}
	if hash != "" { // else the ReplicaSet's revision is not visible yet: read again at the next look
		r.looks.rememberRevision(policy, d.Name, knownRevision{uid: d.UID, revision: want, hash: hash})
	}
	return hash, rollingOut(d), nil
}

// readRevision lists the metadata of the Deployment's ReplicaSets and returns the template hash of the one
// carrying the revision number, or "" when none does. It reads the API server's watch cache (resourceVersion 0),
// as an informer's list does: not etcd, whose range read would scan the whole namespace for every Deployment.
func (r *ProbePolicyReconciler) readRevision(ctx context.Context, d *appsv1.Deployment, revision string) (string, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return "", fmt.Errorf("reading the selector of Deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	sets := replicaSetMetadataList()
	if err := r.APIReader.List(ctx, sets, client.InNamespace(d.Namespace), client.MatchingLabelsSelector{Selector: sel},
		&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: "0"}}); err != nil {
		return "", fmt.Errorf("listing the ReplicaSets of Deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	for _, rs := range sets.Items {
		ref := controllerRef(rs.OwnerReferences)
		if ref == nil || ref.Kind != "Deployment" || ref.UID != d.UID {
			continue // another Deployment's, whose selector overlaps this one's
		}
		if rs.Annotations[revisionAnnotation] == revision {
			return rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey], nil
		}
	}
	return "", nil
}
