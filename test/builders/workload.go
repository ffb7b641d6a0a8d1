package builders

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SimPrefix is the prefix of the annotations that set a simulated application's behaviour (docs/simulator.md).
const SimPrefix = "sim.probetuner.io/"

// DeploymentWrapper builds a Deployment.
type DeploymentWrapper struct{ appsv1.Deployment }

// MakeDeployment starts a Deployment named name in namespace ns whose selector and pod template carry the label
// app=name, with no replicas set (the API server's default is 1) and no containers.
func MakeDeployment(name, ns string) *DeploymentWrapper {
	labels := map[string]string{"app": name}
	return &DeploymentWrapper{appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}}},
		},
	}}
}

// Obj returns the Deployment built so far (the wrapper's own object, not a copy).
func (d *DeploymentWrapper) Obj() *appsv1.Deployment { return &d.Deployment }

// Replicas sets spec.replicas.
func (d *DeploymentWrapper) Replicas(n int32) *DeploymentWrapper {
	d.Spec.Replicas = &n
	return d
}

// Label adds a label to the Deployment itself (what a policy's selector matches), not to its pods.
func (d *DeploymentWrapper) Label(key, value string) *DeploymentWrapper {
	d.Labels = set(d.Labels, key, value)
	return d
}

// Annotation adds an annotation to the Deployment itself (probetuner.io/paused, for one), not to its pods.
func (d *DeploymentWrapper) Annotation(key, value string) *DeploymentWrapper {
	d.Annotations = set(d.Annotations, key, value)
	return d
}

// PodAnnotation adds an annotation to the pod template.
func (d *DeploymentWrapper) PodAnnotation(key, value string) *DeploymentWrapper {
	d.Spec.Template.Annotations = set(d.Spec.Template.Annotations, key, value)
	return d
}

// Sim sets the simulated behaviour key of every container of the pods: the pod-template annotation
// sim.probetuner.io/<key> (Sim("startup", "38s-42s")).
func (d *DeploymentWrapper) Sim(key, value string) *DeploymentWrapper {
	return d.PodAnnotation(SimPrefix+key, value)
}

// SimFor sets the simulated behaviour key of one container: the pod-template annotation
// <container>.sim.probetuner.io/<key>.
func (d *DeploymentWrapper) SimFor(container, key, value string) *DeploymentWrapper {
	return d.PodAnnotation(container+"."+SimPrefix+key, value)
}

// Container appends a container to the pod template.
func (d *DeploymentWrapper) Container(c corev1.Container) *DeploymentWrapper {
	d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, c)
	return d
}

// InitContainer appends an init container (a native sidecar when built with Sidecar) to the pod template.
func (d *DeploymentWrapper) InitContainer(c corev1.Container) *DeploymentWrapper {
	d.Spec.Template.Spec.InitContainers = append(d.Spec.Template.Spec.InitContainers, c)
	return d
}

// TerminationGracePeriod sets the pods' terminationGracePeriodSeconds.
func (d *DeploymentWrapper) TerminationGracePeriod(seconds int64) *DeploymentWrapper {
	d.Spec.Template.Spec.TerminationGracePeriodSeconds = &seconds
	return d
}

// PodWrapper builds a bare Pod, for tests that run pods without a Deployment.
type PodWrapper struct{ corev1.Pod }

// MakePod starts a Pod named name in namespace ns with no containers.
func MakePod(name, ns string) *PodWrapper {
	return &PodWrapper{corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
	}}
}

// Obj returns the Pod built so far (the wrapper's own object, not a copy).
func (p *PodWrapper) Obj() *corev1.Pod { return &p.Pod }

// Annotation adds an annotation to the pod.
func (p *PodWrapper) Annotation(key, value string) *PodWrapper {
	p.Annotations = set(p.Annotations, key, value)
	return p
}

// Sim sets the simulated behaviour key of every container of the pod (the annotation sim.probetuner.io/<key>).
func (p *PodWrapper) Sim(key, value string) *PodWrapper { return p.Annotation(SimPrefix+key, value) }

// Container appends a container to the pod.
func (p *PodWrapper) Container(c corev1.Container) *PodWrapper {
	p.Spec.Containers = append(p.Spec.Containers, c)
	return p
}

// set is m with key=value, m made when it is nil.
func set(m map[string]string, key, value string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[key] = value
	return m
}
