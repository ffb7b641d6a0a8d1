package observe

import (
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Each case runs a Deployment through the kubelet simulator and checks what the observer learned, against what
// the kubelet's rules imply by hand.
func TestObserveFromSimulatedKubelet(t *testing.T) {
	cases := []struct {
		name     string
		yaml     string
		duration time.Duration
		drop     bool
		check    func(t *testing.T, s Signals)
	}{
		{
			// 45 s start, default liveness (3 x 10 s): every start is killed near 30 s, none completes.
			name:     "a 45s start under the default liveness probe yields only censored starts",
			yaml:     deployment(3, map[string]string{"sim.probetuner.io/startup": "45s"}, defaultLivenessYAML+readinessYAML),
			duration: 5 * time.Minute,
			check: func(t *testing.T, s Signals) {
				if s.Startup.Count != 0 {
					t.Errorf("completed starts = %d, want 0", s.Startup.Count)
				}
				if s.CensoredStarts < 6 {
					t.Errorf("censored starts = %d, want at least 6 (3 replicas, several kills each)", s.CensoredStarts)
				}
				if lb := s.StartLowerBound; lb < 25*time.Second || lb > 35*time.Second {
					t.Errorf("start lower bound = %s, want about 30s (the liveness window)", lb)
				}
				if s.Restarts[CauseLiveness] != s.KillsBeforeReady || s.KillsAfterReady != 0 {
					t.Errorf("liveness restarts %d, kills before ready %d, after ready %d: want all before ready", s.Restarts[CauseLiveness], s.KillsBeforeReady, s.KillsAfterReady)
				}
			},
		},
		{
			// Without a readiness probe a container is Ready the moment it runs; a kill at the liveness
			// budget is still a start that never completed.
			name:     "a 35s start under the default liveness probe and no readiness probe is censored too",
			yaml:     deployment(2, map[string]string{"sim.probetuner.io/startup": "35s"}, defaultLivenessYAML),
			duration: 4 * time.Minute,
			check: func(t *testing.T, s Signals) {
				if s.CensoredStarts < 4 || s.KillsAfterReady != 0 {
					t.Errorf("censored %d, kills after start %d: want every kill counted as a start that never completed", s.CensoredStarts, s.KillsAfterReady)
				}
			},
		},
		{
			// A killed container keeps running through its shutdown, past the liveness budget: a look in that
			// window must not take the start for completed (and the kill for one of a started container).
			name: "a start killed by a fast tcp liveness window is censored even when seen running through its shutdown",
			yaml: deployment(3, map[string]string{"sim.probetuner.io/startup": "22s-26s", "sim.probetuner.io/shutdown": "4s-6s"},
				"        livenessProbe: {tcpSocket: {port: 8080}, periodSeconds: 3, failureThreshold: 2}\n"),
			duration: 4 * time.Minute,
			check: func(t *testing.T, s Signals) {
				if s.CensoredStarts < 6 || s.KillsAfterReady != 0 || s.CorrelatedKills != 0 {
					t.Errorf("censored %d, kills after start %d, correlated %d: want every kill counted as a start that never completed",
						s.CensoredStarts, s.KillsAfterReady, s.CorrelatedKills)
				}
			},
		},
		{
			name:     "the same start behind a 5s x 12 startup probe completes at 45-50s",
			yaml:     deployment(3, map[string]string{"sim.probetuner.io/startup": "45s"}, "        startupProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 5, failureThreshold: 12}\n"+defaultLivenessYAML+readinessYAML),
			duration: 3 * time.Minute,
			check: func(t *testing.T, s Signals) {
				if s.Startup.Count != 3 {
					t.Fatalf("completed starts = %d, want 3", s.Startup.Count)
				}
				if p50 := s.Startup.Quantile(0.5); p50 < 44*time.Second || p50 > 52*time.Second {
					t.Errorf("p50 start = %s, want 45-50s", p50)
				}
				if n := s.Restarts[CauseLiveness] + s.Restarts[CauseStartup]; n != 0 {
					t.Errorf("probe restarts = %d, want 0", n)
				}
			},
		},
		{
			name:     "a start without a startup probe is measured to the first ready",
			yaml:     deployment(2, map[string]string{"sim.probetuner.io/startup": "12s"}, readinessYAML),
			duration: time.Minute,
			check: func(t *testing.T, s Signals) {
				if s.Startup.Count != 2 {
					t.Fatalf("completed starts = %d, want 2", s.Startup.Count)
				}
				if p := s.Startup.Quantile(0.99); p < 12*time.Second || p > 23*time.Second {
					t.Errorf("p99 start = %s, want 12s plus at most one readiness period", p)
				}
			},
		},
		{
			// A 1 s readiness timeout against answers around 1 s flaps (modelplaneai/modelplane#206).
			name:     "readiness answering around its timeout flaps, and the failures are timeouts",
			yaml:     deployment(2, map[string]string{"sim.probetuner.io/health-latency": "700ms-1300ms"}, "        readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 5}\n"),
			duration: 30 * time.Minute,
			check: func(t *testing.T, s Signals) {
				if s.Transitions < 10 || s.TransitionsPerHour < 20 {
					t.Errorf("transitions = %d (%.1f/h), want many", s.Transitions, s.TransitionsPerHour)
				}
				if s.ReadinessTimeoutShare < 0.9 {
					t.Errorf("timeout share = %.2f, want the failures to be timeouts", s.ReadinessTimeoutShare)
				}
				if s.InServiceHours < 0.9 || s.InServiceHours > 1.01 {
					t.Errorf("in-service hours = %.2f, want about 2 x 30 min", s.InServiceHours)
				}
			},
		},
		{
			name:     "OOM kills are counted as such, not as probe restarts",
			yaml:     deployment(1, map[string]string{"sim.probetuner.io/oom-after": "2m"}, defaultLivenessYAML),
			duration: 10 * time.Minute,
			check: func(t *testing.T, s Signals) {
				if s.Restarts[CauseOOM] < 2 || s.Restarts[CauseLiveness] != 0 {
					t.Errorf("restarts = %v, want OOM kills only", s.Restarts)
				}
			},
		},
		{
			name:     "an application that exits with an error is a crash",
			yaml:     deployment(1, map[string]string{"sim.probetuner.io/crash-after": "1m", "sim.probetuner.io/crash-exit-code": "3"}, defaultLivenessYAML),
			duration: 6 * time.Minute,
			check: func(t *testing.T, s Signals) {
				if s.Restarts[CauseError] < 2 || s.Restarts[CauseLiveness] != 0 {
					t.Errorf("restarts = %v, want crashes only", s.Restarts)
				}
			},
		},
		{
			// kubernetes/kubernetes#66230: a dependency checked by liveness fails every replica at once.
			name: "a dependency outage checked by liveness kills replicas together",
			yaml: deployment(4, map[string]string{"sim.probetuner.io/dependency-outage": "at 3m for 2m"},
				defaultLivenessYAML+readinessYAML),
			duration: 8 * time.Minute,
			check: func(t *testing.T, s Signals) {
				if s.CorrelatedKills < 3 {
					t.Errorf("correlated kills = %d, want most of the 4 replicas", s.CorrelatedKills)
				}
				if s.KillsAfterReady < 4 {
					t.Errorf("kills after ready = %d, want every replica", s.KillsAfterReady)
				}
			},
		},
		{
			name:     "a cache that never loads behind a readiness-only probe stays running and not ready",
			yaml:     deployment(2, map[string]string{"sim.probetuner.io/startup": "never"}, readinessYAML),
			duration: 12 * time.Minute,
			check: func(t *testing.T, s Signals) {
				if len(s.NotReady) != 2 {
					t.Fatalf("not-ready pods = %+v, want 2", s.NotReady)
				}
				for _, p := range s.NotReady {
					if p.EverReady || p.For < 11*time.Minute {
						t.Errorf("pod %s: not ready for %s (ever ready %v), want about 12m and never", p.Pod, p.For, p.EverReady)
					}
				}
				if len(s.Restarts) != 0 {
					t.Errorf("restarts = %v, want none", s.Restarts)
				}
			},
		},
		{
			name:     "a hang after running is one liveness kill of a ready container after exactly failureThreshold failures",
			yaml:     deployment(1, map[string]string{"sim.probetuner.io/hang-after": "10m"}, defaultLivenessYAML+readinessYAML),
			duration: 11 * time.Minute,
			check: func(t *testing.T, s Signals) {
				if s.KillsAfterReady != 1 || s.Restarts[CauseLiveness] != 1 {
					t.Errorf("kills after ready = %d, liveness restarts = %d, want 1 and 1", s.KillsAfterReady, s.Restarts[CauseLiveness])
				}
				if s.LivenessFailures != 3 {
					t.Errorf("liveness failures = %d, want 3 (the failureThreshold)", s.LivenessFailures)
				}
			},
		},
		{
			name:     "with every Event lost, probe kills are still inferred from the exit code",
			yaml:     deployment(2, map[string]string{"sim.probetuner.io/startup": "45s"}, defaultLivenessYAML),
			duration: 4 * time.Minute,
			drop:     true,
			check: func(t *testing.T, s Signals) {
				if s.Restarts[CauseLiveness] < 4 || s.Restarts[CauseError] != 0 {
					t.Errorf("restarts = %v, want liveness kills inferred", s.Restarts)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newSimRun(t, tc.yaml, 7)
			r.dropEvents = tc.drop
			r.run(tc.duration)
			tc.check(t, r.signals("app"))
		})
	}
}

// TestCheckpointRoundTrip checks that a State survives JSON, as it does through the operator's checkpoint, and
// that observation continues from it as if nothing happened.
func TestCheckpointRoundTrip(t *testing.T) {
	yaml := deployment(2, map[string]string{"sim.probetuner.io/startup": "45s"}, defaultLivenessYAML)
	a := newSimRun(t, yaml, 3)
	b := newSimRun(t, yaml, 3)
	a.run(3 * time.Minute)
	b.run(3 * time.Minute)
	data, err := json.Marshal(b.state)
	if err != nil {
		t.Fatal(err)
	}
	restored := &State{}
	if err := json.Unmarshal(data, restored); err != nil {
		t.Fatal(err)
	}
	b.state = restored
	a.run(2 * time.Minute)
	b.run(2 * time.Minute)
	sa, sb := a.signals("app"), b.signals("app")
	if sa.CensoredStarts != sb.CensoredStarts || sa.Restarts[CauseLiveness] != sb.Restarts[CauseLiveness] || sa.StartLowerBound != sb.StartLowerBound {
		t.Errorf("after a checkpoint: %+v\nwithout: %+v", sb, sa)
	}
	if sa.Restarts[CauseLiveness] == 0 {
		t.Error("the scenario produced no restarts; the test checks nothing")
	}
}

func TestAggregatedEventsCountOnce(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", UID: "u1", Labels: map[string]string{"pod-template-hash": "h1"}}}
	s := &State{}
	ev := KubeletEvent{ID: "e1", Count: 1, Pod: "web-1", Container: "app", Reason: "Unhealthy", Message: "Readiness probe failed: HTTP probe failed with statuscode: 503", Time: now}
	Update(s, Input{Pods: FromAPIPods([]*corev1.Pod{pod}), Events: []KubeletEvent{ev}, Revision: "h1", Now: now}, DefaultConfig())
	ev.Count = 4
	Update(s, Input{Pods: FromAPIPods([]*corev1.Pod{pod}), Events: []KubeletEvent{ev}, Revision: "h1", Now: now.Add(time.Second)}, DefaultConfig())
	Update(s, Input{Pods: FromAPIPods([]*corev1.Pod{pod}), Events: []KubeletEvent{ev}, Revision: "h1", Now: now.Add(2 * time.Second)}, DefaultConfig())
	if got := ContainerSignals(s, "app", "h1", now, DefaultConfig()).ReadinessFailures; got != 4 {
		t.Errorf("readiness failures = %d, want 4 (an Event aggregated to count 4, seen three times)", got)
	}
}

// TestRecheckWhileAKillingEventIsAwaited checks that a probe-like termination whose Killing Event has not arrived
// asks to be looked at again when the grace ends, and that the Event settling it clears the request.
func TestRecheckWhileAKillingEventIsAwaited(t *testing.T) {
	cfg := DefaultConfig()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := func(restarts int32, containerID string, finished time.Time) *corev1.Pod {
		return signalRestartedPod(restarts, containerID, t0, finished)
	}
	s := &State{}
	Update(s, Input{Pods: FromAPIPods([]*corev1.Pod{pod(0, "c1", t0)}), Revision: "h1", Now: t0}, cfg)
	if !s.RecheckAt.IsZero() {
		t.Fatalf("RecheckAt = %v with nothing pending", s.RecheckAt)
	}
	killed := t0.Add(30 * time.Second)
	Update(s, Input{Pods: FromAPIPods([]*corev1.Pod{pod(1, "c2", killed)}), Revision: "h1", Now: killed.Add(time.Second)}, cfg)
	if want := killed.Add(cfg.EventGrace); !s.RecheckAt.Equal(want) {
		t.Fatalf("RecheckAt = %v, want %v (the end of the wait for the Killing Event)", s.RecheckAt, want)
	}
	kill := KubeletEvent{ID: "k1", Count: 1, Pod: "web-1", Container: "app", Reason: "Killing",
		Message: "Container app failed liveness probe, will be restarted", Time: killed}
	Update(s, Input{Pods: FromAPIPods([]*corev1.Pod{pod(1, "c2", killed)}), Events: []KubeletEvent{kill}, Revision: "h1", Now: killed.Add(2 * time.Second)}, cfg)
	if !s.RecheckAt.IsZero() {
		t.Errorf("RecheckAt = %v after the Killing Event settled the cause", s.RecheckAt)
	}
	if got := ContainerSignals(s, "app", "h1", killed.Add(2*time.Second), cfg).Restarts[CauseLiveness]; got != 1 {
		t.Errorf("liveness restarts = %d, want 1", got)
	}
}

// TestFailureRunSettlesAKillWithoutItsEvent checks that a signal exit preceded by the liveness failures that lead
// to a kill is counted as a liveness kill at once, without waiting for the Killing Event, and that the run does not
// carry over to the next instance.
func TestFailureRunSettlesAKillWithoutItsEvent(t *testing.T) {
	cfg := DefaultConfig()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := signalRestartedPod
	failure := func(id string, count int32, at time.Time) KubeletEvent {
		return KubeletEvent{ID: id, Count: count, Pod: "web-1", Container: "app", Reason: "Unhealthy",
			Message: `Liveness probe failed: Get "http://10.0.0.1:8080/healthz": dial tcp 10.0.0.1:8080: connect: connection refused`, Time: at}
	}
	s := &State{}
	Update(s, Input{Pods: FromAPIPods([]*corev1.Pod{pod(0, "c1", t0, t0)}), Revision: "h1", Now: t0}, cfg)
	// Two of the three failures arrive (as one aggregated Event); the third and the Killing Event are late.
	Update(s, Input{Pods: FromAPIPods([]*corev1.Pod{pod(0, "c1", t0, t0)}), Events: []KubeletEvent{failure("u1", 1, t0.Add(10*time.Second))}, Revision: "h1", Now: t0.Add(11 * time.Second)}, cfg)
	Update(s, Input{Pods: FromAPIPods([]*corev1.Pod{pod(0, "c1", t0, t0)}), Events: []KubeletEvent{failure("u1", 2, t0.Add(20*time.Second))}, Revision: "h1", Now: t0.Add(21 * time.Second)}, cfg)
	killed := t0.Add(30 * time.Second)
	Update(s, Input{Pods: FromAPIPods([]*corev1.Pod{pod(1, "c2", t0, killed)}), Revision: "h1", Now: killed.Add(time.Second)}, cfg)
	if !s.RecheckAt.IsZero() {
		t.Errorf("RecheckAt = %v: the failure run should have settled the cause", s.RecheckAt)
	}
	if got := ContainerSignals(s, "app", "h1", killed.Add(time.Second), cfg).Restarts[CauseLiveness]; got != 1 {
		t.Fatalf("liveness restarts = %d, want 1", got)
	}
	// The next instance dies by a signal with no failure reported: its cause waits for an Event.
	again := killed.Add(40 * time.Second)
	Update(s, Input{Pods: FromAPIPods([]*corev1.Pod{pod(2, "c3", killed, again)}), Revision: "h1", Now: again.Add(time.Second)}, cfg)
	if want := again.Add(cfg.EventGrace); !s.RecheckAt.Equal(want) {
		t.Errorf("RecheckAt = %v, want %v: the earlier run must not explain a later kill", s.RecheckAt, want)
	}
}

// signalRestartedPod is pod web-1 of revision h1, one container "app" under a 10 s x 3 liveness probe, running as
// containerID since finished; with restarts, its last instance ran from started to finished and ended by SIGKILL.
func signalRestartedPod(restarts int32, containerID string, started, finished time.Time) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", UID: "u1", Labels: map[string]string{"pod-template-hash": "h1"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", LivenessProbe: &corev1.Probe{PeriodSeconds: 10, FailureThreshold: 3}}}}}
	cs := corev1.ContainerStatus{Name: "app", RestartCount: restarts, ContainerID: containerID,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(finished)}}}
	if restarts > 0 {
		cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error",
			StartedAt: metav1.NewTime(started), FinishedAt: metav1.NewTime(finished)}
	}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{cs}
	return p
}

// TestRestartsOfAContainerFirstSeenWithoutStatus checks whose restarts count when a container shows up restarted:
// those of a pod looked at before while it had no container status (still scheduled or pulled) happened while it
// was watched and count, however few looks came between, and so do those of a pod created after the watch began;
// those of an older pod first looked at now, or seen before a break in the watch, are its past and do not.
func TestRestartsOfAContainerFirstSeenWithoutStatus(t *testing.T) {
	cfg := DefaultConfig()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	killed := t0.Add(90 * time.Second)
	kill := KubeletEvent{ID: "k1", Count: 3, Pod: "web-1", Container: "app", Reason: "Killing",
		Message: "Container app failed liveness probe, will be restarted", Time: killed}
	pending := signalRestartedPod(0, "", t0, t0)
	pending.Status.ContainerStatuses = nil
	cases := []struct {
		name         string
		firstLook    *time.Time // the earlier look at the pod without container status; nil: none
		watchedSince time.Time
		created      time.Time // the pod's creation; zero: unknown
		now          time.Time
		want         int
	}{
		{name: "a pod seen pending and watched since: its 3 restarts count", firstLook: &t0, watchedSince: t0, now: killed.Add(time.Second), want: 3},
		{name: "a pod seen pending a minute before, not watched throughout: the look is close enough", firstLook: &t0, now: killed.Add(time.Second), want: 3},
		{name: "a pod first looked at now: its restarts are its past", now: killed.Add(time.Second), watchedSince: killed, want: 0},
		{name: "a pod created after the watch began and first looked at now: it has no past, its 3 restarts count",
			created: t0.Add(time.Second), watchedSince: t0, now: killed.Add(time.Second), want: 3},
		{name: "a pod created before the watch began and first looked at now: its restarts are its past",
			created: t0.Add(-time.Second), watchedSince: t0, now: killed.Add(time.Second), want: 0},
		{name: "a pod seen pending before a break in the watch: its restarts are not known to be new", firstLook: &t0,
			watchedSince: killed.Add(time.Hour), now: killed.Add(time.Hour), want: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &State{}
			if tc.firstLook != nil {
				Update(s, Input{Pods: FromAPIPods([]*corev1.Pod{pending}), Revision: "h1", Now: *tc.firstLook, WatchedSince: *tc.firstLook}, cfg)
			}
			restarted := signalRestartedPod(3, "c4", killed.Add(-30*time.Second), killed)
			restarted.CreationTimestamp = metav1.NewTime(tc.created)
			Update(s, Input{Pods: FromAPIPods([]*corev1.Pod{restarted}), Events: []KubeletEvent{kill}, Revision: "h1", Now: tc.now, WatchedSince: tc.watchedSince}, cfg)
			if got := ContainerSignals(s, "app", "h1", tc.now, cfg).Restarts[CauseLiveness]; got != tc.want {
				t.Errorf("liveness restarts = %d, want %d", got, tc.want)
			}
		})
	}
}
