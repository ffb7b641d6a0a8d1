package observe

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// benchPods builds n running pods of one revision with one container each.
func benchPods(n int, start time.Time) []*corev1.Pod {
	pods := make([]*corev1.Pod, n)
	for i := range pods {
		started := true
		pods[i] = &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-h1-%05d", i), UID: types.UID(fmt.Sprintf("uid-%d", i)), Labels: map[string]string{"pod-template-hash": "h1"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", LivenessProbe: &corev1.Probe{PeriodSeconds: 10, FailureThreshold: 3},
				ReadinessProbe: &corev1.Probe{}}}},
			Status: corev1.PodStatus{
				Phase:      corev1.PodRunning,
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(start)}},
				ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, Started: &started, ContainerID: fmt.Sprintf("sim://%d", i),
					State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(start)}}}},
			},
		}
	}
	return pods
}

// BenchmarkUpdatePerPodStatusChange measures what one pod-status update costs the operator: one observation of
// the pod's workload (all its pods are folded; one of them flipped readiness). Reported: updates per second on
// one core and allocations per update.
func BenchmarkUpdatePerPodStatusChange(b *testing.B) {
	for _, n := range []int{5, 50, 500} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			pods := FromAPIPods(benchPods(n, start)) // the view is built by whoever gathers the pods, not timed here
			s := &State{}
			cfg := DefaultConfig()
			Update(s, Input{Pods: pods, Revision: "h1", Now: start}, cfg)
			now := start
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				now = now.Add(time.Second)
				cs := pods[i%n].Containers[0].Status
				cs.Ready = !cs.Ready
				Update(s, Input{Pods: pods, Revision: "h1", Now: now}, cfg)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
		})
	}
}
