package podstore

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
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
	got := rec.ToPod()
	if got.Name != full.Name || got.Namespace != full.Namespace || got.UID != full.UID || got.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != "7d9c6b5f4" {
		t.Errorf("identity %s/%s %s %v", got.Namespace, got.Name, got.UID, got.Labels)
	}
	if len(got.Labels) != 1 || len(got.Annotations) != 0 || len(got.ManagedFields) != 0 || got.Spec.Volumes != nil {
		t.Errorf("kept more than observation reads: labels %v, annotations %v", got.Labels, got.Annotations)
	}
	if got.Status.Phase != corev1.PodRunning || len(got.Status.Conditions) != 1 || got.Status.Conditions[0].Type != corev1.PodReady ||
		got.Status.Conditions[0].Status != corev1.ConditionTrue || !got.Status.Conditions[0].LastTransitionTime.Equal(&full.Status.Conditions[2].LastTransitionTime) {
		t.Errorf("phase %s, conditions %+v: want Running and only Ready with its transition time", got.Status.Phase, got.Status.Conditions)
	}
	c := got.Spec.Containers[0]
	want := full.Spec.Containers[0].LivenessProbe
	if c.Name != "app" || c.StartupProbe != nil || c.LivenessProbe == nil || c.ReadinessProbe == nil || c.LivenessProbe.HTTPGet != nil ||
		c.LivenessProbe.PeriodSeconds != want.PeriodSeconds || c.LivenessProbe.FailureThreshold != want.FailureThreshold || c.LivenessProbe.TimeoutSeconds != want.TimeoutSeconds {
		t.Errorf("container spec %+v: want the probes' timing without handlers", c)
	}
	cs, fcs := got.Status.ContainerStatuses[0], full.Status.ContainerStatuses[0]
	if cs.Name != "app" || !cs.Ready || cs.Started == nil || !*cs.Started || cs.RestartCount != 1 || cs.ContainerID != fcs.ContainerID ||
		cs.State.Running == nil || !cs.State.Running.StartedAt.Equal(&fcs.State.Running.StartedAt) || cs.Image != "" {
		t.Errorf("container status %+v", cs)
	}
	lt, flt := cs.LastTerminationState.Terminated, fcs.LastTerminationState.Terminated
	if lt == nil || lt.ExitCode != 137 || lt.Reason != flt.Reason || lt.ContainerID != flt.ContainerID || !lt.FinishedAt.Equal(&flt.FinishedAt) || !lt.StartedAt.Equal(&flt.StartedAt) {
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
		check func(t *testing.T, p *corev1.Pod)
	}{
		{"pending, no status yet", func(p *corev1.Pod) {
			p.Status = corev1.PodStatus{Phase: corev1.PodPending}
		}, func(t *testing.T, p *corev1.Pod) {
			if len(p.Spec.Containers) != 1 || len(p.Status.ContainerStatuses) != 0 || len(p.Status.Conditions) != 0 {
				t.Errorf("spec %d containers, %d statuses, conditions %v", len(p.Spec.Containers), len(p.Status.ContainerStatuses), p.Status.Conditions)
			}
		}},
		{"waiting in back-off, started unknown", func(p *corev1.Pod) {
			cs := &p.Status.ContainerStatuses[0]
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 10s"}}
			cs.Started, cs.Ready = nil, false
		}, func(t *testing.T, p *corev1.Pod) {
			cs := p.Status.ContainerStatuses[0]
			if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" || cs.State.Running != nil || cs.Started != nil {
				t.Errorf("state %+v, started %v", cs.State, cs.Started)
			}
		}},
		{"terminated and being deleted", func(p *corev1.Pod) {
			p.DeletionTimestamp = &now
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", FinishedAt: now}}
		}, func(t *testing.T, p *corev1.Pod) {
			term := p.Status.ContainerStatuses[0].State.Terminated
			if p.DeletionTimestamp == nil || !p.DeletionTimestamp.Equal(&now) || term == nil || term.Reason != "Completed" {
				t.Errorf("deletion %v, terminated %+v", p.DeletionTimestamp, term)
			}
		}},
		{"a sidecar with a startup probe and a status before the app's", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "proxy", StartupProbe: &corev1.Probe{PeriodSeconds: 5, FailureThreshold: 30}})
			p.Status.ContainerStatuses = append([]corev1.ContainerStatus{{Name: "proxy", Ready: true, Started: ptr.To(true)}}, p.Status.ContainerStatuses...)
		}, func(t *testing.T, p *corev1.Pod) {
			if len(p.Spec.Containers) != 2 || p.Spec.Containers[1].Name != "proxy" || p.Spec.Containers[1].StartupProbe == nil ||
				p.Spec.Containers[1].StartupProbe.FailureThreshold != 30 || len(p.Status.ContainerStatuses) != 2 {
				t.Errorf("containers %+v, statuses %+v", p.Spec.Containers, p.Status.ContainerStatuses)
			}
		}},
		{"not owned by a ReplicaSet", func(p *corev1.Pod) {
			p.OwnerReferences[0].Kind = "StatefulSet"
		}, func(t *testing.T, p *corev1.Pod) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := fullPod(1)
			tc.edit(p)
			r, _ := FromPod(p)
			tc.check(t, r.(*Pod).ToPod())
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
		t.Errorf("record %+v", got.KubeletEvent)
	}
	e.Series = &corev1.EventSeries{Count: 5, LastObservedTime: metav1.NewMicroTime(last.Add(time.Minute))}
	r, _ = FromEvent(e)
	if got := r.(*Event); got.Count != 5 || !got.Time.Equal(last.Add(time.Minute)) {
		t.Errorf("a series: count %d, time %v; want the series' count and last observation", got.Count, got.Time)
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

// TestRecordNativeSidecar: a native sidecar is recorded like an app container and comes back among the init
// containers, restartPolicy Always, with its status; a plain init container and its status are dropped.
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
	got := rec.ToPod()
	if len(got.Spec.InitContainers) != 1 || len(got.Status.InitContainerStatuses) != 1 {
		t.Fatalf("init containers %+v, statuses %+v: want the sidecar only", got.Spec.InitContainers, got.Status.InitContainerStatuses)
	}
	sc, st := got.Spec.InitContainers[0], got.Status.InitContainerStatuses[0]
	if sc.Name != "proxy" || sc.RestartPolicy == nil || *sc.RestartPolicy != corev1.ContainerRestartPolicyAlways ||
		sc.LivenessProbe == nil || sc.LivenessProbe.PeriodSeconds != 5 || sc.LivenessProbe.FailureThreshold != 4 {
		t.Errorf("sidecar spec %+v", sc)
	}
	if st.Name != "proxy" || st.RestartCount != 2 || st.ContainerID != "containerd://proxy-2" || st.State.Running == nil ||
		st.LastTerminationState.Terminated == nil || st.LastTerminationState.Terminated.ExitCode != 143 {
		t.Errorf("sidecar status %+v", st)
	}
	if len(got.Spec.Containers) != 1 || len(got.Status.ContainerStatuses) != 1 || got.Spec.Containers[0].Name != "app" {
		t.Errorf("app containers %+v: the sidecar must not be among them", got.Spec.Containers)
	}
	p.Status.InitContainerStatuses[1].RestartCount++
	again, _ := FromPod(p)
	if !restarted(rec, again.(*Pod)) {
		t.Error("a sidecar restart was not taken for a restart")
	}
}
