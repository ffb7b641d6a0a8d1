package controllers

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/probetuner/probe-tuner/internal/scheme"
)

// makeReplicaSet returns a ReplicaSet as the Deployment controller makes them: the selector's labels plus the
// template hash, the revision number, controlled by the Deployment with the given UID.
func makeReplicaSet(name, hash, revision string, owner types.UID) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name,
		Labels:          map[string]string{"app": "cache", appsv1.DefaultDeploymentUniqueLabelKey: hash},
		Annotations:     map[string]string{revisionAnnotation: revision},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "cache", UID: owner, Controller: ptr.To(true)}}}}
}

func TestCurrentRevision(t *testing.T) {
	deployment := func(uid types.UID, revision string) *appsv1.Deployment {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "cache", UID: uid, Generation: 1},
			Spec:   appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "cache"}}},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1}}
		if revision != "" {
			d.Annotations = map[string]string{revisionAnnotation: revision}
		}
		return d
	}
	type look struct {
		d         *appsv1.Deployment
		wantHash  string
		wantReads int // ReplicaSet lists so far
	}
	cases := []struct {
		name  string
		sets  []client.Object
		looks []look
	}{
		{name: "read once per revision number", sets: []client.Object{makeReplicaSet("cache-a", "a", "1", "u1"), makeReplicaSet("cache-b", "b", "2", "u1")},
			looks: []look{{deployment("u1", "1"), "a", 1}, {deployment("u1", "1"), "a", 1}, {deployment("u1", "2"), "b", 2}, {deployment("u1", "2"), "b", 2}}},
		{name: "a Deployment re-created under the same name is read afresh", sets: []client.Object{makeReplicaSet("cache-a", "a", "1", "u1"), makeReplicaSet("cache-c", "c", "1", "u2")},
			looks: []look{{deployment("u1", "1"), "a", 1}, {deployment("u2", "1"), "c", 2}}},
		{name: "another Deployment's ReplicaSet under an overlapping selector is not this one's", sets: []client.Object{makeReplicaSet("other-x", "x", "1", "other")},
			looks: []look{{deployment("u1", "1"), "", 1}}},
		{name: "a revision not visible yet is read again at the next look", sets: []client.Object{makeReplicaSet("cache-a", "a", "1", "u1")},
			looks: []look{{deployment("u1", "2"), "", 1}, {deployment("u1", "2"), "", 2}}},
		{name: "no revision number yet: nothing to read", looks: []look{{deployment("u1", ""), "", 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reads := 0
			c := fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(tc.sets...).WithInterceptorFuncs(interceptor.Funcs{
				List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
					reads++
					return c.List(ctx, list, opts...)
				}}).Build()
			r := &ProbePolicyReconciler{Client: c, APIReader: c}
			for i, l := range tc.looks {
				hash, rolling, err := r.currentRevision(context.Background(), policyKey, l.d)
				if err != nil {
					t.Fatal(err)
				}
				if hash != l.wantHash || reads != l.wantReads || rolling {
					t.Errorf("look %d: hash %q after %d reads (rolling out %v), want %q after %d", i, hash, reads, rolling, l.wantHash, l.wantReads)
				}
			}
		})
	}
}

// TestCurrentRevisionForgottenWithTheWorkload: a workload no longer selected has its revision read afresh.
func TestCurrentRevisionForgottenWithTheWorkload(t *testing.T) {
	var l workloadLooks
	l.rememberRevision(policyKey, "cache", knownRevision{uid: "u1", revision: "1", hash: "a"})
	l.rememberRevision(policyKey, "web", knownRevision{uid: "u2", revision: "1", hash: "b"})
	l.prune(policyKey, map[string]bool{"web": true})
	if _, ok := l.revision(policyKey, "cache"); ok {
		t.Error("the unselected workload's revision is still remembered")
	}
	if _, ok := l.revision(policyKey, "web"); !ok {
		t.Error("the selected workload's revision was forgotten")
	}
	l.forgetPolicy(policyKey)
	if _, ok := l.revision(policyKey, "web"); ok {
		t.Error("a deleted policy's revisions are still remembered")
	}
}
