package simkubelet

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// adopt handles a pod whose containers had already run, under a previous run of this driver: the simulator
// starts it from the beginning, as after a node reboot, so each container that had run counts one more
// restart on top of its previous restartCount (restart counts never go down).
func (l *worldLoop) adopt(pod *corev1.Pod) {
	a := &adoption{restarts: map[string]int32{}}
	for _, cs := range statusPointers(&pod.Status) {
		if cs.ContainerID != "" {
			a.restarts[cs.Name] = cs.RestartCount + 1
			a.salt += cs.ContainerID
		}
	}
	if a.salt != "" {
		l.adopted[pod.UID] = a
		l.d.log.V(2).Info("Pod had run before; its containers start again as after a node reboot", "pod", podKey(pod.Namespace, pod.Name))
	}
}

// adoption adjusts the simulated status of an adopted pod: restart counts continue from the API's, and
// container IDs differ from those of the previous run (the simulator derives them from the pod and the
// restart number, which start over).
type adoption struct {
	restarts map[string]int32
	salt     string
}

func (a *adoption) apply(st *corev1.PodStatus) {
	rename := func(id string) string {
		if id == "" {
			return ""
		}
		rt, _, _ := strings.Cut(id, "://")
		return rt + "://" + fullHex(id+"/after/"+a.salt)
	}
	for _, cs := range statusPointers(st) {
		cs.RestartCount += a.restarts[cs.Name]
		cs.ContainerID = rename(cs.ContainerID)
		if t := cs.State.Terminated; t != nil {
			t.ContainerID = rename(t.ContainerID)
		}
		if t := cs.LastTerminationState.Terminated; t != nil {
			t.ContainerID = rename(t.ContainerID)
		}
	}
}

// statusPointers returns the pod's init and app container statuses, to change in place (init container names
// differ from app container names, so one restarts map serves both).
func statusPointers(st *corev1.PodStatus) []*corev1.ContainerStatus {
	out := make([]*corev1.ContainerStatus, 0, len(st.InitContainerStatuses)+len(st.ContainerStatuses))
	for i := range st.InitContainerStatuses {
		out = append(out, &st.InitContainerStatuses[i])
	}
	for i := range st.ContainerStatuses {
		out = append(out, &st.ContainerStatuses[i])
	}
	return out
}
