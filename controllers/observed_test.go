package controllers

import (
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/podstore"
)

// TestObservedPodsMatchTheAPIView: what observation reads of a pod is the same whether the view is built from
// the pod store's record (the operator) or from the API Pod (the benchmark, tests). Grace periods are left out:
// the record does not keep them.
func TestObservedPodsMatchTheAPIView(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Minute))
	base := func() *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-5d8f9-abcde", UID: "u1",
				Labels:          map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: "5d8f9", "app": "web"},
				OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-5d8f9", Controller: ptr.To(true)}}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app",
				LivenessProbe:  &corev1.Probe{PeriodSeconds: 10, FailureThreshold: 3, TimeoutSeconds: 2},
				ReadinessProbe: &corev1.Probe{}}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning,
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: t1}},
				ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, Started: ptr.To(true), RestartCount: 2, ContainerID: "c2",
					State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: t1}},
					LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error",
						ContainerID: "c1", StartedAt: t0, FinishedAt: t1}}}}},
		}
	}
	cases := []struct {
		name string
		edit func(p *corev1.Pod)
	}{
		{"running after a restart", func(*corev1.Pod) {}},
		{"pending, no status yet", func(p *corev1.Pod) { p.Status = corev1.PodStatus{Phase: corev1.PodPending} }},
		{"not ready, started unknown, waiting", func(p *corev1.Pod) {
			p.Status.Conditions[0].Status = corev1.ConditionFalse
			cs := &p.Status.ContainerStatuses[0]
			cs.Ready, cs.Started = false, nil
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
		}},
		{"being deleted", func(p *corev1.Pod) { p.DeletionTimestamp = &t1 }},
		{"a native sidecar and a plain init container", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "setup"},
				{Name: "proxy", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways), StartupProbe: &corev1.Probe{PeriodSeconds: 2, FailureThreshold: 30}}}
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{
				{Name: "setup", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}},
				{Name: "proxy", Started: ptr.To(false), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: t0}}}}
		}},
		{"a second container without a status", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "metrics", LivenessProbe: &corev1.Probe{InitialDelaySeconds: 5}})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			tc.edit(p)
			rec, err := podstore.FromPod(p)
			if err != nil {
				t.Fatal(err)
			}
			got := observedPods([]*podstore.Pod{rec.(*podstore.Pod)})
			if want := observe.FromAPIPod(p); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Errorf("view from the record\n%+v\nwant the view from the API Pod\n%+v", got, want)
			}
		})
	}
}

func TestObservedEventsKeepTheEvent(t *testing.T) {
	at := metav1.NewTime(time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC))
	rec, err := podstore.FromEvent(&corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-1.17f", UID: "ev-1"},
		Reason: "Unhealthy", Count: 4, Message: "Liveness probe failed: HTTP probe failed with statuscode: 500",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-1", FieldPath: "spec.containers{app}"}, LastTimestamp: at})
	if err != nil {
		t.Fatal(err)
	}
	want := observe.KubeletEvent{ID: "ev-1", Count: 4, Pod: "web-1", Container: "app", Reason: "Unhealthy",
		Message: "Liveness probe failed: HTTP probe failed with statuscode: 500", Time: at.Time}
	if got := observedEvents([]*podstore.Event{rec.(*podstore.Event)}); len(got) != 1 || got[0] != want {
		t.Errorf("events %+v, want %+v", got, want)
	}
}
