package sim

import (
	"encoding/json"
	"fmt"
	"hash/fnv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TemplateHash returns a stable pod-template-hash for a pod template: an
// FNV-32a hash of its JSON form, written with the Kubernetes name-suffix
// alphabet. (The real ReplicaSet hash uses a different serialisation, so the
// values differ from a cluster's; they are stable and change when the template
// changes, which is what matters here.)
func TemplateHash(t *corev1.PodTemplateSpec) string {
	data, err := json.Marshal(t)
	if err != nil {
		data = []byte(t.String())
	}
	h := fnv.New32a()
	_, _ = h.Write(data)
	v := h.Sum32()
	var b []byte
	for v > 0 || len(b) < 5 {
		b = append(b, suffixAlphabet[v%uint32(len(suffixAlphabet))])
		v /= uint32(len(suffixAlphabet))
	}
	return string(b)
}

// PodFromTemplate builds the pod a ReplicaSet of deployment d would create:
// template labels plus pod-template-hash, template annotations, an owner
// reference to the ReplicaSet, name "<rs>-<suffix>" and defaulted spec.
func PodFromTemplate(d *appsv1.Deployment, hash, suffix string) *corev1.Pod {
	rs := d.Name + "-" + hash
	t := d.Spec.Template.DeepCopy()
	labels := map[string]string{}
	for k, v := range t.Labels {
		labels[k] = v
	}
	labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	ns := d.Namespace
	if ns == "" {
		ns = corev1.NamespaceDefault
	}
	yes := true
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        rs + "-" + suffix,
			Namespace:   ns,
			Labels:      labels,
			Annotations: t.Annotations,
			Generation:  1,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs,
				Controller: &yes, BlockOwnerDeletion: &yes,
			}},
		},
		Spec: t.Spec,
	}
	ApplyDefaults(&pod.Spec)
	return pod
}

// DeploymentPods returns spec.replicas (default 1) pods for a deployment, with
// name suffixes drawn deterministically from seed and the deployment name.
func DeploymentPods(d *appsv1.Deployment, seed uint64) ([]*corev1.Pod, error) {
	if d.Name == "" {
		return nil, fmt.Errorf("deployment has no name")
	}
	if len(d.Spec.Template.Spec.Containers) == 0 {
		return nil, fmt.Errorf("deployment %s: pod template has no containers", d.Name)
	}
	n := int32(1)
	if d.Spec.Replicas != nil {
		n = *d.Spec.Replicas
	}
	if n < 0 {
		return nil, fmt.Errorf("deployment %s: negative replicas %d", d.Name, n)
	}
	hash := TemplateHash(&d.Spec.Template)
	r := newRand(seed, "names", d.Namespace, d.Name)
	seen := map[string]bool{}
	pods := make([]*corev1.Pod, 0, n)
	for len(pods) < int(n) {
		s := randomSuffix(r, 5)
		if seen[s] {
			continue
		}
		seen[s] = true
		pods = append(pods, PodFromTemplate(d, hash, s))
	}
	return pods, nil
}
