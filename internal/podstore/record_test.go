package podstore

import (
	"github.com/probetuner/probe-tuner/internal/probes"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestRecordKeepsWhatObservationReads(t *testing.T) {
	full := fullPod(7)
	r, err := FromPod(full)
	if err != nil {
		t.Fatal(err)
	}
	rec := r.(*Pod)
	if rec.Deployment != "w0001-healthy" || rec.TemplateHash != "7d9c6b5f4" {
		t.Errorf("deployment %q, hash %q: want w0001-healthy, 7d9c6b5f4", rec.Deployment, rec.TemplateHash)
	}
	if rec.Name != full.Name || rec.Namespace != full.Namespace || rec.UID != full.UID {
		t.Errorf("identity %s/%s %s", rec.Namespace, rec.Name, rec.UID)
	}
	if rec.Phase != corev1.PodRunning || rec.Ready != corev1.ConditionTrue || !rec.ReadySince.Equal(full.Status.Conditions[2].LastTransitionTime.Time) {
		t.Errorf("phase %s, ready %q since %v: want Running and the Ready condition with its transition time", rec.Phase, rec.Ready, rec.ReadySince)
	}
	if len(rec.Containers) != 1 {
		t.Fatalf("containers %+v, want app only", rec.Containers)
	}
	c, fc := rec.Containers[0], full.Spec.Containers[0]
	if c.Name != "app" || c.Sidecar || c.HasProbe != (probes.ByKind[bool]{Liveness: true, Readiness: true}) ||
		c.Probes.Liveness != probes.Of(fc.LivenessProbe) || c.Probes.Readiness != probes.Of(fc.ReadinessProbe) {
		t.Errorf("container spec %+v: want the probes' timing", c)
	}
	fcs := full.Status.ContainerStatuses[0]
	if !c.HasStatus || !c.Ready || !c.StartedKnown || !c.Started || c.RestartCount != 1 || c.ContainerID != fcs.ContainerID ||
		!c.Running || !c.RunningSince.Equal(fcs.State.Running.StartedAt.Time) || c.Waiting || c.Terminated != nil {
		t.Errorf("container status %+v", c)
	}
	lt, flt := c.LastTerm, fcs.LastTerminationState.Terminated
	if lt == nil || lt.ExitCode != 137 || lt.Reason != flt.Reason || lt.ContainerID != flt.ContainerID || !lt.FinishedAt.Equal(flt.FinishedAt.Time) || !lt.StartedAt.Equal(flt.StartedAt.Time) {
		t.Errorf("last termination %+v, want %+v", lt, flt)
	}
	again, _ := FromPod(rec)
	if again != rec {
		t.Error("a record passed to the transform again was not returned as is")
	}
}

func TestRecordStates(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cases := []struct {
		name  string
		edit  func(p *corev1.Pod)
		check func(t *testing.T, r *Pod)
	}{
		{"pending, no status yet", func(p *corev1.Pod) {
			p.Status = corev1.PodStatus{Phase: corev1.PodPending}
		}, func(t *testing.T, r *Pod) {
			if len(r.Containers) != 1 || r.Containers[0].HasStatus || r.Ready != "" || r.Phase != corev1.PodPending {
				t.Errorf("containers %+v, ready %q, phase %s", r.Containers, r.Ready, r.Phase)
			}
		}},
		{"waiting in back-off, started unknown", func(p *corev1.Pod) {
			cs := &p.Status.ContainerStatuses[0]
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 10s"}}
			cs.Started, cs.Ready = nil, false
		}, func(t *testing.T, r *Pod) {
			c := r.Containers[0]
			if !c.Waiting || c.WaitReason != "CrashLoopBackOff" || c.Running || c.StartedKnown {
				t.Errorf("container %+v", c)
			}
		}},
		{"terminated and being deleted", func(p *corev1.Pod) {
			p.DeletionTimestamp = &now
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", FinishedAt: now}}
		}, func(t *testing.T, r *Pod) {
			term := r.Containers[0].Terminated
			if !r.Deleting.Equal(now.Time) || term == nil || term.Reason != "Completed" {
				t.Errorf("deletion %v, terminated %+v", r.Deleting, term)
			}
		}},
		{"a second container with a startup probe and a status before the app's", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "proxy", StartupProbe: &corev1.Probe{PeriodSeconds: 5, FailureThreshold: 30}})
			p.Status.ContainerStatuses = append([]corev1.ContainerStatus{{Name: "proxy", Ready: true, Started: ptr.To(true)}}, p.Status.ContainerStatuses...)
		}, func(t *testing.T, r *Pod) {
			want := probes.Values{PeriodSeconds: 5, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 30} // defaults applied
			if len(r.Containers) != 2 || r.Containers[1].Name != "proxy" || r.Containers[1].HasProbe != (probes.ByKind[bool]{Startup: true}) ||
				r.Containers[1].Probes.Startup != want || !r.Containers[0].HasStatus || !r.Containers[1].HasStatus {
				t.Errorf("containers %+v", r.Containers)
			}
		}},
		{"not owned by a ReplicaSet", func(p *corev1.Pod) {
			p.OwnerReferences[0].Kind = "StatefulSet"
		}, func(t *testing.T, r *Pod) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := fullPod(1)
			tc.edit(p)
			r, _ := FromPod(p)
			tc.check(t, r.(*Pod))
			if tc.name == "not owned by a ReplicaSet" && r.(*Pod).Deployment != "" {
				t.Errorf("deployment %q for a pod a StatefulSet owns", r.(*Pod).Deployment)
			}
		})
	}
}

func TestEventRecord(t *testing.T) {
	last := metav1.NewTime(time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC))
	e := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-1.17f", UID: "ev-1"}, Reason: "Killing", Count: 3,
		Message:        "Container app failed liveness probe, will be restarted" + string(make([]byte, 300)),
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-1", FieldPath: "spec.containers{app}"},
		FirstTimestamp: metav1.NewTime(last.Add(-time.Minute)), LastTimestamp: last}
	r, _ := FromEvent(e)
	got := r.(*Event)
	if got.ID != "ev-1" || got.Count != 3 || got.Pod != "web-1" || got.Container != "app" || got.Reason != "Killing" || !got.Time.Equal(last.Time) || len(got.Message) != maxEventMessage {
		t.Errorf("record %+v", got)
	}
	e.Series = &corev1.EventSeries{Count: 5, LastObservedTime: metav1.NewMicroTime(last.Add(time.Minute))}
	r, _ = FromEvent(e)
	if got := r.(*Event); got.Count != 5 || !got.Time.Equal(last.Add(time.Minute)) {
		t.Errorf("a series: count %d, time %v; want the series' count and last observation", got.Count, got.Time)
	}
}

func TestContainerFromFieldPath(t *testing.T) {
	for path, want := range map[string]string{
		"spec.containers{app}":     "app",
		"spec.initContainers{prx}": "prx",
		"spec.containers{}":        "",
		"spec.containers":          "",
		"":                         "",
		"}{":                       "",
	} {
		if got := ContainerFromFieldPath(path); got != want {
			t.Errorf("ContainerFromFieldPath(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestStoreServesPodsAndEventsByDeployment(t *testing.T) {
	a1, a2, b1 := fullPod(0), fullPod(1), fullPod(5) // pods 0-4 are w0000-healthy, 5-9 w0001-healthy
	other := fullPod(2)
	other.Namespace = "elsewhere"
	kill := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: "k1", UID: "k1"}, Reason: "Killing",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: a2.Name, FieldPath: "spec.containers{app}"}}
	s := NewStatic([]*corev1.Pod{a2, b1, other, a1}, []*corev1.Event{kill})

	pods, err := s.PodsOf("bench", "w0000-healthy")
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 2 || pods[0].Name != a1.Name || pods[1].Name != a2.Name {
		t.Fatalf("pods of w0000-healthy: %d, want %s and %s in that order", len(pods), a1.Name, a2.Name)
	}
	events, err := s.EventsOf("bench", pods)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Pod != a2.Name || events[0].Reason != "Killing" {
		t.Errorf("events %+v, want the one Killing Event of %s", events, a2.Name)
	}
	if d := s.DeploymentOfPod("bench", b1.Name); d != "w0001-healthy" {
		t.Errorf("deployment of %s = %q", b1.Name, d)
	}
	if d := s.DeploymentOfPod("bench", "gone"); d != "" {
		t.Errorf("deployment of an unknown pod = %q", d)
	}
}

func TestRestartedTellsRestartsFromReadinessFlips(t *testing.T) {
	record := func(edit func(p *corev1.Pod)) *Pod {
		p := fullPod(3)
		edit(p)
		r, _ := FromPod(p)
		return r.(*Pod)
	}
	base := record(func(*corev1.Pod) {})
	cases := []struct {
		name string
		edit func(p *corev1.Pod)
		want bool
	}{
		{"readiness flipped", func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].Ready = false
			p.Status.Conditions[2].Status = corev1.ConditionFalse
		}, false},
		{"container restarted", func(p *corev1.Pod) { p.Status.ContainerStatuses[0].RestartCount++ }, true},
		{"container terminated", func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137}}
		}, true},
		{"pod being deleted", func(p *corev1.Pod) { now := metav1.Now(); p.DeletionTimestamp = &now }, true},
	}
	for _, tc := range cases {
		if got := restarted(base, record(tc.edit)); got != tc.want {
			t.Errorf("%s: restarted = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRecordNativeSidecar: a native sidecar is recorded like an app container, marked a sidecar, with its
// status; a plain init container and its status are dropped.
func TestRecordNativeSidecar(t *testing.T) {
	p := fullPod(4)
	p.Spec.InitContainers = []corev1.Container{
		{Name: "setup", Image: "example.com/setup:1"},
		{Name: "proxy", Image: "example.com/proxy:1", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways),
			LivenessProbe: &corev1.Probe{PeriodSeconds: 5, FailureThreshold: 4}},
	}
	p.Status.InitContainerStatuses = []corev1.ContainerStatus{
		{Name: "setup", Ready: true, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}},
		{Name: "proxy", Ready: true, Started: ptr.To(true), RestartCount: 2, ContainerID: "containerd://proxy-2",
			State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 143, Reason: "Error"}}},
	}
	r, _ := FromPod(p)
	rec := r.(*Pod)
	if len(rec.Containers) != 2 || rec.Containers[0].Name != "app" || rec.Containers[0].Sidecar {
		t.Fatalf("containers %+v: want the app container, then the sidecar only", rec.Containers)
	}
	sc := rec.Containers[1]
	if sc.Name != "proxy" || !sc.Sidecar || !sc.HasProbe.Liveness || sc.Probes.Liveness.PeriodSeconds != 5 || sc.Probes.Liveness.FailureThreshold != 4 {
		t.Errorf("sidecar spec %+v", sc)
	}
	if !sc.HasStatus || sc.RestartCount != 2 || sc.ContainerID != "containerd://proxy-2" || !sc.Running || sc.LastTerm == nil || sc.LastTerm.ExitCode != 143 {
		t.Errorf("sidecar status %+v", sc)
	}
	p.Status.InitContainerStatuses[1].RestartCount++
	again, _ := FromPod(p)
	if !restarted(rec, again.(*Pod)) {
		t.Error("a sidecar restart was not taken for a restart")
	}
}
