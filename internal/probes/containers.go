package probes

import corev1 "k8s.io/api/core/v1"

// IsNativeSidecar reports whether an init container is a native sidecar: restartPolicy Always makes the kubelet
// keep it running for the pod's lifetime, probe it and restart it like an app container. Any other init container
// runs to completion once, may not have probes, and is never tuned.
func IsNativeSidecar(c *corev1.Container) bool {
	return c != nil && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// Tunable returns the containers of a pod spec whose probes probe-tuner observes and tunes: the app containers,
// then the native sidecars in the order the kubelet starts them. Plain init containers are left out. The
// pointers point into spec.
func Tunable(spec *corev1.PodSpec) []*corev1.Container {
	out := make([]*corev1.Container, 0, len(spec.Containers)+len(spec.InitContainers))
	for i := range spec.Containers {
		out = append(out, &spec.Containers[i])
	}
	for i := range spec.InitContainers {
		if IsNativeSidecar(&spec.InitContainers[i]) {
			out = append(out, &spec.InitContainers[i])
		}
	}
	return out
}

// FindTunable returns the container of that name among Tunable(spec), and whether it is a native sidecar; nil
// when there is none, which includes a plain init container of that name.
func FindTunable(spec *corev1.PodSpec, name string) (c *corev1.Container, sidecar bool) {
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i], false
		}
	}
	for i := range spec.InitContainers {
		if ic := &spec.InitContainers[i]; ic.Name == name && IsNativeSidecar(ic) {
			return ic, true
		}
	}
	return nil, false
}
