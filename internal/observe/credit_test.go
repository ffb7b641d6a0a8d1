package observe

import (
	"math"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestTimeBetweenLooksIsCreditedWhenWatched checks how much of the time between two looks at a ready pod counts
// as the pod's time in service: all of it when the caller watched the pod throughout (it would have looked at
// any change), at most maxGap when it did not (an operator that was down, or looks from before the watch began).
func TestTimeBetweenLooksIsCreditedWhenWatched(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	gap := 10 * time.Minute
	cases := []struct {
		name         string
		watchedSince time.Time
		want         time.Duration
	}{
		{name: "no watch said: capped", want: maxGap},
		{name: "watched since before the first look: all of it", watchedSince: t0.Add(-time.Hour), want: gap},
		{name: "watched since the first look: all of it", watchedSince: t0, want: gap},
		{name: "the watch began after the first look (a restart): capped", watchedSince: t0.Add(time.Minute), want: maxGap},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := readyPod(t0.Add(-time.Minute))
			s := &State{}
			cfg := DefaultConfig()
			// The first look makes the pod known and ready; the second, gap later, credits the time between.
			Update(s, Input{Pods: FromAPIPods([]*corev1.Pod{pod}), Revision: "h1", Now: t0, WatchedSince: tc.watchedSince}, cfg)
			Update(s, Input{Pods: FromAPIPods([]*corev1.Pod{pod}), Revision: "h1", Now: t0.Add(gap), WatchedSince: tc.watchedSince}, cfg)
			rev := s.Revision("h1")
			if rev == nil {
				t.Fatal("no statistics for revision h1")
			}
			if got := rev.PodSeconds; math.Abs(got-tc.want.Seconds()) > 1e-9 {
				t.Errorf("pod seconds = %.1f, want %.1f", got, tc.want.Seconds())
			}
			if got := rev.ServiceSeconds; math.Abs(got-tc.want.Seconds()) > 1e-9 {
				t.Errorf("service seconds = %.1f, want %.1f", got, tc.want.Seconds())
			}
			if got := rev.Containers["app"].InServiceSeconds; math.Abs(got-tc.want.Seconds()) > 1e-9 {
				t.Errorf("in-service seconds of the container = %.1f, want %.1f (the flapping rate's denominator)", got, tc.want.Seconds())
			}
		})
	}
}

// readyPod is a pod of revision h1 whose one container, with a readiness probe, runs and is ready since started.
func readyPod(started time.Time) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", UID: "u1", Labels: map[string]string{"pod-template-hash": "h1"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", ReadinessProbe: &corev1.Probe{PeriodSeconds: 10}}}}}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(started)}}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Ready: true, ContainerID: "c1",
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(started)}}}}
	return p
}
