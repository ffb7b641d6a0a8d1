package sim

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// restartDelays returns the delay before every restart (the first start is
// not a restart).
func restartDelays(p *PodSim) []time.Duration {
	var out []time.Duration
	for _, s := range p.Stats().Starts {
		if s.Restart {
			out = append(out, s.Delay)
		}
	}
	return out
}

func startOffsets(p *PodSim) []time.Duration {
	var out []time.Duration
	for _, s := range p.Stats().Starts {
		out = append(out, s.At.Sub(epoch))
	}
	return out
}

// TestLivenessKillsSlowStarter encodes the classic slow-start crash loop
// (treeverse/charts#143): an app that needs 45s to serve, under the default
// liveness probe (httpGet, period 10, failureThreshold 3, no initial delay).
//
// Rules: the liveness worker is created with the pod and ticks at 0,10,20,...
// (worker.go run); the tick at 0 finds no container; failures at 10,20,30
// reach the threshold at 30 and the kubelet kills the container (SIGTERM; the
// app exits at once with 143). The worker holds until it sees the new
// container at its next tick, so every later container is killed 30s after it
// starts. It never serves, so the readiness probe never succeeds.
//
// Back-off: a probe kill and the restart happen in the same SyncPod, whose pod
// status was taken before the kill, so doBackOff measures the back-off from
// the *previous* exit (kuberuntime_manager.go doBackOff; kubernetes#22240,
// #99697). Kill 1 (30s): no earlier exit, no back-off entry, restart now.
// Kill 2 (60s): entry created (10s), restart now. Kills 3 and 4: 60s-since-
// previous-exit >= 10s, 20s: restart now, entry 20s then 40s. Kill 5 (150s):
// 30s since the exit at 120 < 40s: CrashLoopBackOff; the next sync, with the
// fresh status, waits 40s from 150: restart at 190 (entry 80s). Kill at 220:
// 70s < 80s: wait until 300 (entry 160s). Kill 330: wait until 490 (entry
// 300s). Kill 520: wait until 820. Kill 850: 330s since the exit at 520 >=
// 300s: restart now. Kill 880: 30s < 300s: wait until 1180.
// Restart delays: 0,0,0,0,40,80,160,300,0,300 - not the naive 0,10,20,40 of
// an app that crashes by itself (TestCrashLoopBackOffDelays).
func TestLivenessKillsSlowStarter(t *testing.T) {
	w := exactWorld(t, 1)
	p := mustAdd(t, w, testPod("web-0", map[string]string{"sim.probetuner.io/startup": "45s"}, nil, httpProbe("/ready"), httpProbe("/healthz")))

	w.RunUntil(epoch.Add(sec(160)))
	st := p.Status().ContainerStatuses[0]
	if st.State.Waiting == nil || st.State.Waiting.Reason != WaitingCrashLoopBackOff {
		t.Fatalf("at 160s state = %+v, want waiting CrashLoopBackOff", st.State)
	}
	wantMsg := "back-off 40s restarting failed container=app pod=web-0_default(" + string(p.UID()) + ")"
	if st.State.Waiting.Message != wantMsg {
		t.Errorf("waiting message = %q, want %q", st.State.Waiting.Message, wantMsg)
	}
	if lt := st.LastTerminationState.Terminated; lt == nil || lt.ExitCode != 143 || lt.Reason != TerminatedError ||
		lt.FinishedAt.Time.Sub(epoch) != sec(150) {
		t.Errorf("lastState = %+v, want terminated 143 Error at 150s", st.LastTerminationState.Terminated)
	}
	if st.RestartCount != 4 || st.Ready || *st.Started {
		t.Errorf("restartCount=%d ready=%v started=%v, want 4 false false", st.RestartCount, st.Ready, *st.Started)
	}

	w.RunUntil(epoch.Add(20 * time.Minute))
	evs := w.DrainEvents()
	if got, want := offsets(evs, ReasonKilling), durs(30, 60, 90, 120, 150, 220, 330, 520, 850, 880); !equalDurs(got, want) {
		t.Errorf("kills at %v, want %v\n%s", got, want, dumpEvents(evs))
	}
	if got, want := startOffsets(p), durs(0, 30, 60, 90, 120, 190, 300, 490, 820, 850, 1180); !equalDurs(got, want) {
		t.Errorf("starts at %v, want %v", got, want)
	}
	if got, want := restartDelays(p), durs(0, 0, 0, 0, 40, 80, 160, 300, 0, 300); !equalDurs(got, want) {
		t.Errorf("restart delays %v, want %v", got, want)
	}
	for _, e := range eventsWith(evs, ReasonKilling) {
		if e.Message != "Container app failed liveness probe, will be restarted" || e.Type != corev1.EventTypeNormal {
			t.Errorf("Killing event %+v", e)
		}
	}
	bo := eventsWith(evs, ReasonBackOff)
	if len(bo) == 0 || bo[0].Time.Sub(epoch) != sec(150) || bo[0].Type != corev1.EventTypeWarning ||
		bo[0].Message != "Back-off restarting failed container app in pod web-0_default("+string(p.UID())+")" {
		t.Errorf("first BackOff event = %+v", bo)
	}
	s := p.Stats()
	if s.FirstReadyOK {
		t.Errorf("became ready after %s; a 45s app killed every 30s never serves", s.FirstReady)
	}
	if s.Restarts.Liveness != 10 || s.Restarts.Total() != 10 {
		t.Errorf("restarts = %+v, want 10 liveness", s.Restarts)
	}
	if s.NotReadyWhileWanted != 20*time.Minute {
		t.Errorf("not ready for %s, want 20m", s.NotReadyWhileWanted)
	}
}

// TestCrashLoopBackOffDelays: an app that exits by itself (crash-after 5s,
// exit 1) is seen exited by the next sync, whose status holds that exit:
// first restart at once (entry 10s), then 10, 20, 40, 80, 160, 300, 300s
// (kubelet.go: initial 10s, doubling, max 300s; flowcontrol.Backoff Next).
// Every exit is Error/1 and counted as an "error" restart.
func TestCrashLoopBackOffDelays(t *testing.T) {
	w := exactWorld(t, 1)
	p := mustAdd(t, w, testPod("web-0", map[string]string{
		"sim.probetuner.io/crash-after":     "5s",
		"sim.probetuner.io/crash-exit-code": "3",
	}, nil, nil, nil))
	w.RunUntil(epoch.Add(30 * time.Minute))
	got := restartDelays(p)
	want := durs(0, 10, 20, 40, 80, 160, 300, 300)
	if len(got) < len(want) || !equalDurs(got[:len(want)], want) {
		t.Fatalf("restart delays %v, want prefix %v", got, want)
	}
	s := p.Stats()
	if s.Restarts.Error != len(s.Terminations) || s.Restarts.Liveness != 0 {
		t.Errorf("restarts %+v for %d terminations", s.Restarts, len(s.Terminations))
	}
	for _, term := range s.Terminations {
		if term.ExitCode != 3 || term.Reason != TerminatedError || term.Cause != CauseError {
			t.Fatalf("termination %+v, want exit 3 Error", term)
		}
	}
	// In back-off the status waits with CrashLoopBackOff and the exited
	// container as lastState.
	w2 := exactWorld(t, 1)
	p2 := mustAdd(t, w2, testPod("web-0", map[string]string{"sim.probetuner.io/crash-after": "5s"}, nil, nil, nil))
	w2.RunUntil(epoch.Add(sec(12))) // exits at 5 (restart now) and 10 (back-off 10s)
	st := p2.Status().ContainerStatuses[0]
	if st.State.Waiting == nil || st.State.Waiting.Reason != WaitingCrashLoopBackOff ||
		!strings.HasPrefix(st.State.Waiting.Message, "back-off 10s restarting failed container=app pod=web-0_default(") {
		t.Errorf("state = %+v", st.State)
	}
	if st.LastTerminationState.Terminated == nil || st.LastTerminationState.Terminated.ExitCode != 1 || st.RestartCount != 1 {
		t.Errorf("lastState = %+v restartCount %d", st.LastTerminationState, st.RestartCount)
	}
	if ph := p2.Status().Phase; ph != corev1.PodRunning {
		t.Errorf("phase in CrashLoopBackOff = %s, want Running", ph)
	}
}

// TestBackOffReset: the back-off entry expires when an exit comes more than
// 600s after its last update (kubelet.go HasExpiredFunc). An app that crashes
// after 11 minutes always restarts at once; one that crashes after 9 minutes
// backs off 10s, 20s, ...
func TestBackOffReset(t *testing.T) {
	for _, tc := range []struct {
		after string
		want  []time.Duration
	}{
		{"11m", durs(0, 0, 0, 0)},
		{"9m", durs(0, 10, 20, 40)},
	} {
		t.Run(tc.after, func(t *testing.T) {
			w := exactWorld(t, 1)
			p := mustAdd(t, w, testPod("web-0", map[string]string{"sim.probetuner.io/crash-after": tc.after}, nil, nil, nil))
			w.RunUntil(epoch.Add(50 * time.Minute))
			if got := restartDelays(p); len(got) < 4 || !equalDurs(got[:4], tc.want) {
				t.Errorf("delays %v, want prefix %v", got, tc.want)
			}
		})
	}
}

// TestStartupProbeProtectsSlowStart: the same 45s app with a startup probe of
// period 5 x failureThreshold 12 (a 60s budget). Liveness and readiness do not
// run until the startup probe succeeds (worker.go). Startup ticks at 0 (no
// container), 5, ..., 40 fail, 45 succeeds: started; the sync that follows
// triggers the readiness probe at once (UpdatePodStatus manual trigger), so the
// pod is Ready at 45s, with no restart.
func TestStartupProbeProtectsSlowStart(t *testing.T) {
	w := exactWorld(t, 1)
	p := mustAdd(t, w, testPod("web-0", map[string]string{"sim.probetuner.io/startup": "45s"},
		httpProbe("/healthz", period(5), failures(12)), httpProbe("/ready"), httpProbe("/healthz")))
	w.RunUntil(epoch.Add(10 * time.Minute))
	s := p.Stats()
	if !s.FirstReadyOK || s.FirstReady < sec(45) || s.FirstReady > sec(50) {
		t.Errorf("first ready after %v (ok=%v), want 45-50s", s.FirstReady, s.FirstReadyOK)
	}
	if s.FirstReady != sec(45) {
		t.Errorf("first ready after %v, want exactly 45s with exact timings", s.FirstReady)
	}
	if s.Restarts.Total() != 0 {
		t.Errorf("restarts %+v, want none", s.Restarts)
	}
	evs := w.DrainEvents()
	if n := len(eventsWith(evs, ReasonUnhealthy)); n != 8 {
		t.Errorf("%d Unhealthy events, want 8 (startup probes at 5..40)\n%s", n, dumpEvents(evs))
	}
	for _, e := range eventsWith(evs, ReasonUnhealthy) {
		if !strings.HasPrefix(e.Message, "Startup probe failed: Get \"http://") || !strings.HasSuffix(e.Message, ":8080/healthz\": dial tcp "+p.Status().PodIP+":8080: connect: connection refused") {
			t.Errorf("message %q", e.Message)
		}
	}
	// A budget that is too small (period 5 x 3 = 15s) kills with reason startup.
	w2 := exactWorld(t, 1)
	p2 := mustAdd(t, w2, testPod("web-0", map[string]string{"sim.probetuner.io/startup": "45s"},
		httpProbe("/healthz", period(5)), nil, nil))
	w2.RunUntil(epoch.Add(sec(16)))
	if r := p2.Stats().Restarts; r.Startup != 1 {
		t.Errorf("restarts %+v, want 1 startup kill at 15s", r)
	}
	if k := eventsWith(w2.DrainEvents(), ReasonKilling); len(k) != 1 || k[0].Message != "Container app failed startup probe, will be restarted" || k[0].Time.Sub(epoch) != sec(15) {
		t.Errorf("Killing = %+v", k)
	}
}

// TestInitialDelay: no probe runs while the whole seconds since the container
// started are below initialDelaySeconds (worker.go). Readiness without delay
// succeeds at 0 (the manual trigger when the container shows up); with a 20s
// delay the trigger at 0 and the tick at 10 are skipped and the first probe is
// at 20.
func TestInitialDelay(t *testing.T) {
	for _, tc := range []struct {
		delay int32
		want  time.Duration
	}{{0, 0}, {20, sec(20)}, {25, sec(30)}} {
		w := exactWorld(t, 1)
		p := mustAdd(t, w, testPod("web-0", nil, nil, httpProbe("/ready", delay(tc.delay)), nil))
		w.RunUntil(epoch.Add(time.Minute))
		if s := p.Stats(); !s.FirstReadyOK || s.FirstReady != tc.want {
			t.Errorf("initialDelay %d: ready after %v, want %v", tc.delay, s.FirstReady, tc.want)
		}
	}
	// Liveness: a 45s app with initialDelaySeconds 40 is first probed at the
	// tick at 40 (fails), then 50 and 60 succeed: no kill.
	w := exactWorld(t, 1)
	p := mustAdd(t, w, testPod("web-0", map[string]string{"sim.probetuner.io/startup": "45s"}, nil, nil, httpProbe("/healthz", delay(40))))
	w.RunUntil(epoch.Add(5 * time.Minute))
	if r := p.Stats().Restarts; r.Total() != 0 {
		t.Errorf("restarts %+v with initialDelay 40 for a 45s start", r)
	}
	if u := offsets(w.DrainEvents(), ReasonUnhealthy); !equalDurs(u, durs(40)) {
		t.Errorf("liveness failures at %v, want [40s]", u)
	}
}

// TestReadinessSuccessThreshold: a readiness result flips to Success only after
// successThreshold consecutive successes. When the container shows up, the sync
// triggers a probe (success 1); that probe also seeds the initial Failure
// result for the new container ID, which is a results-manager change, so the
// kubelet syncs again and triggers a second immediate probe (success 2); then
// ticks follow every 10s from that trigger. Ready at 0s with threshold 1 or 2,
// 10s with 3, 20s with 4.
func TestReadinessSuccessThreshold(t *testing.T) {
	for _, tc := range []struct {
		th   int32
		want time.Duration
	}{{1, 0}, {2, 0}, {3, sec(10)}, {4, sec(20)}} {
		w := exactWorld(t, 1)
		p := mustAdd(t, w, testPod("web-0", nil, nil, httpProbe("/ready", successes(tc.th)), nil))
		w.RunUntil(epoch.Add(time.Minute))
		if s := p.Stats(); !s.FirstReadyOK || s.FirstReady != tc.want {
			t.Errorf("successThreshold %d: ready after %v, want %v", tc.th, s.FirstReady, tc.want)
		}
	}
	// With the default kubelet (1s PLEG) every sync waits for a relist newer
	// than the end of the previous sync (pod_workers.go GetNewerThan): the sync
	// that started the container ended at 0s, so the container shows up at the
	// relist at 1s (success 1); the sync caused by the new-container result
	// waits for the relist at 2s (success 2, ticker re-phased); tick at 12s.
	w := NewWorld(Options{Seed: 1, Epoch: epoch})
	p := mustAdd(t, w, testPod("web-0", nil, nil, httpProbe("/ready", successes(3)), nil))
	w.RunUntil(epoch.Add(time.Minute))
	if s := p.Stats(); s.FirstReady != sec(12) {
		t.Errorf("default kubelet, successThreshold 3: ready after %v, want 12s", s.FirstReady)
	}
}

// TestTimeout: an answer slower than timeoutSeconds is a failure reported with
// the HTTP client's timeout error, delivered when the timeout expires.
func TestTimeout(t *testing.T) {
	ann := map[string]string{"sim.probetuner.io/health-latency": "1500ms"}
	w := exactWorld(t, 1)
	p := mustAdd(t, w, testPod("web-0", ann, nil, httpProbe("/ready"), nil))
	w.RunUntil(epoch.Add(time.Minute))
	if s := p.Stats(); s.FirstReadyOK {
		t.Errorf("ready with 1.5s answers and a 1s timeout")
	}
	u := eventsWith(w.DrainEvents(), ReasonUnhealthy)
	if len(u) == 0 {
		t.Fatal("no Unhealthy event")
	}
	want := `Readiness probe failed: Get "http://` + p.Status().PodIP + `:8080/ready": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`
	if u[0].Message != want || u[0].Time.Sub(epoch) != sec(1) {
		t.Errorf("first failure %q at %v, want %q at 1s", u[0].Message, u[0].Time.Sub(epoch), want)
	}
	// With timeoutSeconds 2 the 1.5s answer succeeds; the result counts when
	// it arrives, at 1.5s.
	w2 := exactWorld(t, 1)
	p2 := mustAdd(t, w2, testPod("web-0", ann, nil, httpProbe("/ready", timeoutS(2)), nil))
	w2.RunUntil(epoch.Add(time.Minute))
	if s := p2.Stats(); !s.FirstReadyOK || s.FirstReady != sec(1.5) {
		t.Errorf("ready after %v (ok=%v), want 1.5s", s.FirstReady, s.FirstReadyOK)
	}
}

// TestFlakyLivenessThreshold1 (gardener#15636): failureThreshold 1 with the
// implicit 1s timeout against answers of 0.5s-1.5s (half of them too slow)
// restarts a healthy app again and again; failureThreshold 3 with a 2s
// timeout never does.
func TestFlakyLivenessThreshold1(t *testing.T) {
	ann := map[string]string{"sim.probetuner.io/health-latency": "500ms-1500ms"}
	w := NewWorld(Options{Seed: 7, Epoch: epoch})
	p := mustAdd(t, w, testPod("web-0", ann, nil, nil, httpProbe("/healthz", failures(1))))
	w.RunUntil(epoch.Add(time.Hour))
	if r := p.Stats().Restarts; r.Liveness < 20 {
		t.Errorf("%d liveness restarts in 1h, want many (>= 20)", r.Liveness)
	} else {
		t.Logf("%d liveness restarts in 1h", r.Liveness)
	}
	w2 := NewWorld(Options{Seed: 7, Epoch: epoch})
	p2 := mustAdd(t, w2, testPod("web-0", ann, nil, nil, httpProbe("/healthz", timeoutS(2))))
	w2.RunUntil(epoch.Add(time.Hour))
	if r := p2.Stats().Restarts; r.Total() != 0 {
		t.Errorf("restarts %+v with timeout 2s", r)
	}
}

// TestOOMKill: an OOM kill is exit 137, reason OOMKilled, counted as oom and
// not as a probe restart; the container is restarted at once (first exit).
func TestOOMKill(t *testing.T) {
	w := exactWorld(t, 1)
	p := mustAdd(t, w, testPod("web-0", map[string]string{"sim.probetuner.io/oom-after": "2m"}, nil, httpProbe("/ready"), httpProbe("/healthz")))
	w.RunUntil(epoch.Add(sec(150)))
	st := p.Status().ContainerStatuses[0]
	lt := st.LastTerminationState.Terminated
	if lt == nil || lt.ExitCode != 137 || lt.Reason != TerminatedOOMKilled || st.RestartCount != 1 || st.State.Running == nil {
		t.Fatalf("status %+v", st)
	}
	if r := p.Stats().Restarts; r.OOM != 1 || r.Liveness != 0 || r.Total() != 1 {
		t.Errorf("restarts %+v", r)
	}
	if n := len(eventsWith(w.DrainEvents(), ReasonKilling)); n != 0 {
		t.Errorf("%d Killing events for an OOM kill", n)
	}
}

// TestCrash: an app exit is reason Error with its exit code; exit code 0 is
// Completed.
func TestCrash(t *testing.T) {
	for _, tc := range []struct {
		code   string
		reason string
		cause  Cause
	}{{"2", TerminatedError, CauseError}, {"0", TerminatedCompleted, CauseCompleted}} {
		w := exactWorld(t, 1)
		p := mustAdd(t, w, testPod("web-0", map[string]string{"sim.probetuner.io/crash-after": "1m", "sim.probetuner.io/crash-exit-code": tc.code}, nil, nil, nil))
		w.RunUntil(epoch.Add(sec(61)))
		lt := p.Status().ContainerStatuses[0].LastTerminationState.Terminated
		if lt == nil || lt.Reason != tc.reason || lt.FinishedAt.Time.Sub(epoch) != time.Minute {
			t.Errorf("exit %s: lastState %+v", tc.code, lt)
		}
		if terms := p.Stats().Terminations; len(terms) != 1 || terms[0].Cause != tc.cause {
			t.Errorf("exit %s: terminations %+v", tc.code, terms)
		}
	}
}

// TestHangDetection: hang-after 2h under liveness period 10 x 3. The hang
// starts at 7200s, which is a tick: the probes at 7200, 7210 and 7220 time out
// 1s later each; the third failure at 7221 kills the container: 21s after the
// hang (between 2 and 3 periods plus the timeout, ~30s). A hung app ignores
// SIGTERM by default (shutdown-when-hung: never), so it is SIGKILLed at the
// 30s grace deadline: exit 137 at 7251.
func TestHangDetection(t *testing.T) {
	w := exactWorld(t, 1)
	p := mustAdd(t, w, testPod("web-0", map[string]string{"sim.probetuner.io/hang-after": "2h"}, nil, httpProbe("/ready"), httpProbe("/healthz")))
	w.RunUntil(epoch.Add(2*time.Hour + 2*time.Minute))
	s := p.Stats()
	if len(s.HangDetections) != 1 || s.HangDetections[0] != sec(21) {
		t.Fatalf("hang detections %v, want [21s]", s.HangDetections)
	}
	if s.Hangs != 1 || s.Restarts.Liveness != 1 {
		t.Errorf("hangs %d restarts %+v", s.Hangs, s.Restarts)
	}
	term := s.Terminations[0]
	if term.ExitCode != 137 || term.FinishedAt.Sub(epoch) != sec(7251) {
		t.Errorf("termination %+v, want SIGKILL 137 at 7251s", term)
	}
	// Readiness also times out: Ready goes false after 3 failures (7200,
	// 7210, 7220 -> at 7221) and back after the restart.
	if s.ReadyTransitions != 3 {
		t.Errorf("ready transitions %d, want 3 (ready, unready, ready)", s.ReadyTransitions)
	}
	// A hung app with a TCP liveness probe is not detected: the kernel still
	// accepts connections.
	w2 := exactWorld(t, 1)
	tcp := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: httpProbe("").HTTPGet.Port}}}
	p2 := mustAdd(t, w2, testPod("web-0", map[string]string{"sim.probetuner.io/hang-after": "1m"}, nil, nil, tcp))
	w2.RunUntil(epoch.Add(10 * time.Minute))
	if s2 := p2.Stats(); s2.Restarts.Total() != 0 || s2.Hangs != 1 {
		t.Errorf("TCP liveness vs hang: restarts %+v hangs %d, want 0 and 1", s2.Restarts, s2.Hangs)
	}
}

// TestNeverStartingReadinessOnly: an app whose start never completes behind a
// readiness probe only stays Running, not Ready, with no restarts (latent
// capacity loss: nothing ever restarts it).
func TestNeverStartingReadinessOnly(t *testing.T) {
	w := exactWorld(t, 1)
	p := mustAdd(t, w, testPod("cache-0", map[string]string{"sim.probetuner.io/startup": "never"}, nil, httpProbe("/ready"), nil))
	w.RunUntil(epoch.Add(time.Hour))
	st := p.Status()
	if st.Phase != corev1.PodRunning || p.Ready() || st.ContainerStatuses[0].RestartCount != 0 || !*st.ContainerStatuses[0].Started {
		t.Errorf("phase %s ready %v status %+v", st.Phase, p.Ready(), st.ContainerStatuses[0])
	}
	if s := p.Stats(); s.NotReadyWhileWanted != time.Hour || s.Restarts.Total() != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestReadyWithoutReadinessProbe: without a readiness probe a container is
// ready as soon as it is started (prober_manager.go UpdatePodStatus), even if
// the app does not serve yet.
func TestReadyWithoutReadinessProbe(t *testing.T) {
	w := exactWorld(t, 1)
	p := mustAdd(t, w, testPod("web-0", map[string]string{"sim.probetuner.io/startup": "never"}, nil, nil, nil))
	w.RunUntil(epoch.Add(time.Second))
	if !p.Ready() {
		t.Error("not ready without a readiness probe")
	}
}

// TestDependencyOutage (kubernetes#66230): a liveness probe that checks a
// shared dependency restarts every replica during the outage; the same check
// in readiness only takes them out of service. Outage [600s, 660s), probes
// every 10s from 0: liveness fails at 600, 610, 620 -> kill and restart at
// 620; the new container fails at 630, 640, 650 -> killed again at 650. So
// two restarts per replica, all inside the window. Readiness fails at 600,
// 610, 620 (unready at 620), and the triggered re-probe at 620 and the ticks
// until 650 fail; 660 succeeds: 40s unready.
func TestDependencyOutage(t *testing.T) {
	for _, checked := range []string{"liveness", "readiness"} {
		t.Run(checked, func(t *testing.T) {
			w := exactWorld(t, 1)
			ann := map[string]string{
				"sim.probetuner.io/dependency-outage":     "at 10m for 1m",
				"sim.probetuner.io/dependency-checked-by": checked,
			}
			var pods []*PodSim
			for _, n := range []string{"web-0", "web-1", "web-2"} {
				pods = append(pods, mustAdd(t, w, testPod(n, ann, nil, httpProbe("/ready"), httpProbe("/healthz"))))
			}
			w.RunUntil(epoch.Add(30 * time.Minute))
			for _, p := range pods {
				s := p.Stats()
				if checked == "liveness" {
					if s.Restarts.Liveness != 2 || s.Restarts.Total() != 2 {
						t.Errorf("%s: restarts %+v, want 2 liveness", p.Name(), s.Restarts)
					}
					for _, term := range s.Terminations {
						if k := term.FinishedAt.Sub(epoch); k != sec(620) && k != sec(650) {
							t.Errorf("%s: killed at %v, want 620s and 650s", p.Name(), k)
						}
					}
					continue
				}
				if s.Restarts.Total() != 0 || s.NotReadyWhileWanted != 40*time.Second {
					t.Errorf("%s: restarts %+v unready %v", p.Name(), s.Restarts, s.NotReadyWhileWanted)
				}
			}
		})
	}
	// InjectOutage at run time, by dependency name.
	w := exactWorld(t, 1)
	p := mustAdd(t, w, testPod("web-0", map[string]string{"sim.probetuner.io/dependency": "redis"}, nil, nil, httpProbe("/healthz")))
	if err := w.InjectOutage("redis", epoch.Add(5*time.Minute), time.Minute); err != nil {
		t.Fatal(err)
	}
	w.RunUntil(epoch.Add(10 * time.Minute))
	if r := p.Stats().Restarts; r.Liveness != 2 {
		t.Errorf("restarts %+v after an injected outage, want 2 (kills at 320s and 350s)", r)
	}
}

// TestInjectHang: a hang injected at 3m is detected by liveness within 3
// periods plus the timeout.
func TestInjectHang(t *testing.T) {
	w := exactWorld(t, 1)
	p := mustAdd(t, w, testPod("web-0", nil, nil, nil, httpProbe("/healthz")))
	if err := w.InjectHang("default", "web-0", "app", epoch.Add(sec(185))); err != nil {
		t.Fatal(err)
	}
	if err := w.InjectHang("default", "web-0", "nope", epoch); err == nil {
		t.Error("InjectHang of an unknown container succeeded")
	}
	w.RunUntil(epoch.Add(10 * time.Minute))
	// Ticks at 190, 200, 210 time out; kill at 211: 26s after the hang.
	if d := p.Stats().HangDetections; len(d) != 1 || d[0] != sec(26) {
		t.Errorf("detections %v, want [26s]", d)
	}
}

// TestManualTriggerAfterUnready: when readiness turns to Failure the sync it
// causes re-runs the readiness probe at once (UpdatePodStatus manual trigger)
// and re-phases its ticker. With failureThreshold 1, an error answer at one
// tick is followed by an immediate successful probe.
func TestManualTriggerAfterUnready(t *testing.T) {
	w := exactWorld(t, 1)
	ann := map[string]string{"sim.probetuner.io/dependency-outage": "at 25s for 1s", "sim.probetuner.io/dependency-checked-by": "readiness"}
	p := mustAdd(t, w, testPod("web-0", ann, nil, httpProbe("/ready", failures(1), period(10)), nil))
	w.RunUntil(epoch.Add(sec(40)))
	// Ticks: 0 (trigger), 10, 20, 30 ... the outage [25,26) is missed.
	if p.Stats().ReadyTransitions != 1 {
		t.Errorf("transitions %d", p.Stats().ReadyTransitions)
	}
	w2 := exactWorld(t, 1)
	ann2 := map[string]string{"sim.probetuner.io/dependency-outage": "at 20s for 100ms", "sim.probetuner.io/dependency-checked-by": "readiness"}
	p2 := mustAdd(t, w2, testPod("web-0", ann2, nil, httpProbe("/ready", failures(1), period(10)), nil))
	w2.RunUntil(epoch.Add(sec(40)))
	// The tick at 20 fails: unready at 20; the triggered re-probe (still at
	// 20, inside the window) fails again; the next tick is 30: ready at 30.
	if s := p2.Stats(); s.ReadyTransitions != 3 || s.NotReadyWhileWanted != sec(10) {
		t.Errorf("transitions %d unready %v, want 3 and 10s", s.ReadyTransitions, s.NotReadyWhileWanted)
	}
}

// TestStaleExitAfterProbeKill: an instance killed by liveness before its own
// scheduled OOM or crash exit must not pass that exit on to its replacement.
// The first instance is scheduled to exit at 20m and hangs at 60s, so liveness
// kills it about a minute later; its replacement draws its own exit 20m after
// its start. Every app-caused exit must therefore end an instance that ran
// exactly 20m, and the replacement must still be running just after 20m.
func TestStaleExitAfterProbeKill(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ann   string
		cause Cause
	}{
		{"oom", "sim.probetuner.io/oom-after", CauseOOM},
		{"crash", "sim.probetuner.io/crash-after", CauseError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := exactWorld(t, 1)
			p := mustAdd(t, w, testPod("web-0", map[string]string{tc.ann: "20m"}, nil, nil, httpProbe("/healthz")))
			if err := w.InjectHang("default", "web-0", "app", epoch.Add(sec(60))); err != nil {
				t.Fatal(err)
			}
			w.RunUntil(epoch.Add(21 * time.Minute))
			terms := p.Stats().Terminations
			if len(terms) != 1 || terms[0].Cause != CauseLiveness {
				t.Fatalf("terminations by 21m %+v, want one liveness kill", terms)
			}
			w.RunUntil(epoch.Add(45 * time.Minute))
			var app int
			for _, term := range p.Stats().Terminations {
				if term.Cause != tc.cause {
					continue
				}
				app++
				if ran := term.FinishedAt.Sub(term.StartedAt); ran != 20*time.Minute {
					t.Errorf("instance %d exited (%v) after %v, want 20m", term.RestartIdx, term.Cause, ran)
				}
			}
			if app == 0 {
				t.Errorf("no %v exit by 45m: %+v", tc.cause, p.Stats().Terminations)
			}
		})
	}
}
