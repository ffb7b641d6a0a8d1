package sim

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

var always = corev1.ContainerRestartPolicyAlways

// sidecarPod returns testPod's pod with the given init containers before its app container.
func sidecarPod(ann map[string]string, appLiveness *corev1.Probe, init ...corev1.Container) *corev1.Pod {
	p := testPod("web-0", ann, nil, nil, appLiveness)
	p.Spec.InitContainers = init
	return p
}

func plainInit(name string) corev1.Container {
	return corev1.Container{Name: name, Image: "example/" + name + ":1"}
}

func sidecarSpec(name string, startup, readiness, liveness *corev1.Probe) corev1.Container {
	return corev1.Container{Name: name, Image: "example/" + name + ":1", RestartPolicy: &always,
		Ports:        []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		StartupProbe: startup, ReadinessProbe: readiness, LivenessProbe: liveness}
}

func condition(st corev1.PodStatus, t corev1.PodConditionType) corev1.PodCondition {
	for _, c := range st.Conditions {
		if c.Type == t {
			return c
		}
	}
	return corev1.PodCondition{}
}

// TestSidecarStartsBeforeApp follows the kubelet's init sequence (kuberuntime_manager.go
// computeInitContainerActions) for init containers [setup, proxy (sidecar), migrate] and one app container.
// setup is plain and completes when the pod is added; proxy starts at 0 and serves after 5 s; its startup probe
// (period 2) fails at 2 and 4 and succeeds at 6, and in that sync the kubelet reaches migrate, which completes at
// once, so the pod has initialized and app starts at 6. Until then the pod is Pending, not Initialized, and the
// app waits with reason PodInitializing.
func TestSidecarStartsBeforeApp(t *testing.T) {
	w := exactWorld(t, 1)
	p := mustAdd(t, w, sidecarPod(map[string]string{"proxy.sim.probetuner.io/startup": "5s"}, nil,
		plainInit("setup"), sidecarSpec("proxy", httpProbe("/ready", period(2), failures(10)), nil, nil), plainInit("migrate")))

	w.RunUntil(epoch.Add(sec(3)))
	st := p.Status()
	if st.Phase != corev1.PodPending {
		t.Errorf("phase at 3s = %s, want Pending", st.Phase)
	}
	if c := condition(st, corev1.PodInitialized); c.Status != corev1.ConditionFalse || c.Message != "containers with incomplete status: [proxy migrate]" {
		t.Errorf("Initialized at 3s = %+v", c)
	}
	if names := statusNames(st.InitContainerStatuses); names != "setup proxy migrate" {
		t.Errorf("init container statuses %q, want them in spec order", names)
	}
	setup, proxy, migrate := st.InitContainerStatuses[0], st.InitContainerStatuses[1], st.InitContainerStatuses[2]
	if setup.State.Terminated == nil || setup.State.Terminated.Reason != TerminatedCompleted || !setup.Ready {
		t.Errorf("setup at 3s = %+v, want completed", setup.State)
	}
	if proxy.State.Running == nil || *proxy.Started || proxy.Ready {
		t.Errorf("proxy at 3s = %+v started %v ready %v, want running, not started", proxy.State, *proxy.Started, proxy.Ready)
	}
	if migrate.State.Waiting == nil || migrate.State.Waiting.Reason != WaitingPodInitializing {
		t.Errorf("migrate at 3s = %+v, want waiting PodInitializing", migrate.State)
	}
	if app := st.ContainerStatuses[0]; app.State.Waiting == nil || app.State.Waiting.Reason != WaitingPodInitializing {
		t.Errorf("app at 3s = %+v, want waiting PodInitializing", app.State)
	}

	w.RunUntil(epoch.Add(sec(10)))
	st = p.Status()
	evs := w.DrainEvents()
	var started []string
	for _, e := range eventsWith(evs, ReasonStarted) {
		started = append(started, e.Container+"@"+e.Time.Sub(epoch).String())
	}
	if got := strings.Join(started, " "); got != "proxy@0s app@6s" {
		t.Errorf("Started events %q, want proxy@0s app@6s\n%s", got, dumpEvents(evs))
	}
	for _, e := range evs {
		if e.Container == "proxy" && e.FieldPath != "spec.initContainers{proxy}" {
			t.Errorf("proxy event field path %q", e.FieldPath)
		}
	}
	if c := condition(st, corev1.PodInitialized); c.Status != corev1.ConditionTrue || c.LastTransitionTime.Sub(epoch) != sec(6) {
		t.Errorf("Initialized at 10s = %+v, want True since 6s", c)
	}
	if m := st.InitContainerStatuses[2].State.Terminated; m == nil || m.FinishedAt.Sub(epoch) != sec(6) {
		t.Errorf("migrate at 10s = %+v, want completed at 6s", st.InitContainerStatuses[2].State)
	}
	if st.Phase != corev1.PodRunning || !p.Ready() {
		t.Errorf("phase %s ready %v at 10s, want Running and Ready", st.Phase, p.Ready())
	}
}

// TestSidecarKilledByLiveness: a sidecar that needs 45 s behind the default liveness probe crash-loops exactly as
// an app container does (TestLivenessKillsSlowStarter), whatever the pod's restartPolicy, with the kubelet's
// init-container kill message. Without a startup probe it counts as started once it runs, so the app starts
// beside it; the sidecar's readiness probe keeps the pod from ever being Ready.
func TestSidecarKilledByLiveness(t *testing.T) {
	for _, policy := range []corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyNever} {
		t.Run(string(policy), func(t *testing.T) {
			w := exactWorld(t, 1)
			pod := sidecarPod(map[string]string{"proxy.sim.probetuner.io/startup": "45s"}, nil,
				sidecarSpec("proxy", nil, httpProbe("/ready"), httpProbe("/healthz")))
			pod.Spec.RestartPolicy = policy
			p := mustAdd(t, w, pod)

			w.RunUntil(epoch.Add(20 * time.Minute))
			evs := w.DrainEvents()
			kills := eventsWith(evs, ReasonKilling)
			if got, want := offsets(evs, ReasonKilling), durs(30, 60, 90, 120, 150, 220, 330, 520, 850, 880); !equalDurs(got, want) {
				t.Errorf("kills at %v, want %v\n%s", got, want, dumpEvents(evs))
			}
			if len(kills) == 0 || kills[0].Message != "Init container proxy failed liveness probe" {
				t.Errorf("Killing events %+v", kills)
			}
			if got := startOffsets(p); len(got) < 2 || got[0] != 0 || got[1] != 0 {
				t.Errorf("starts at %v, want proxy and app at 0", got)
			}
			st := p.Status()
			proxy := st.InitContainerStatuses[0]
			// The restart after the kill at 880 waited out its back-off until 1180.
			if r := proxy.State.Running; proxy.RestartCount != 10 || r == nil || r.StartedAt.Sub(epoch) != sec(1180) {
				t.Errorf("proxy restartCount %d state %+v, want 10, running since 1180s", proxy.RestartCount, proxy.State)
			}
			if app := st.ContainerStatuses[0]; app.RestartCount != 0 || app.State.Running == nil {
				t.Errorf("app %+v, want running, never restarted", app)
			}
			if r := p.Stats().Restarts; r.Liveness != 10 || r.Total() != 10 {
				t.Errorf("restarts %+v, want 10 liveness kills", r)
			}
			ready := condition(st, corev1.PodReady)
			if p.Stats().FirstReadyOK || ready.Message != "containers with unready status: [proxy]" {
				t.Errorf("Ready %+v, first ready %v: the sidecar must gate the pod", ready, p.Stats().FirstReadyOK)
			}
		})
	}
}

// TestSidecarStartupProbeGatesApp: a sidecar whose start never completes is killed by its own startup probe,
// with the init-container message, and the app never starts: it waits for the sidecar to have started.
func TestSidecarStartupProbeGatesApp(t *testing.T) {
	w := exactWorld(t, 1)
	p := mustAdd(t, w, sidecarPod(map[string]string{"proxy.sim.probetuner.io/startup": "never"}, nil,
		sidecarSpec("proxy", httpProbe("/ready", period(5), failures(4)), nil, nil)))
	w.RunUntil(epoch.Add(5 * time.Minute))
	evs := w.DrainEvents()
	for _, e := range eventsWith(evs, ReasonStarted) {
		if e.Container != "proxy" {
			t.Errorf("%s started at %s although the sidecar never started", e.Container, e.Time.Sub(epoch))
		}
	}
	kills := eventsWith(evs, ReasonKilling)
	if len(kills) == 0 || kills[0].Message != "Init container proxy failed startup probe" || kills[0].Time.Sub(epoch) != sec(20) {
		t.Errorf("Killing events %+v, want the first at 20s", kills)
	}
	if r := p.Stats().Restarts; r.Startup != len(kills) {
		t.Errorf("restarts %+v, %d kills", r, len(kills))
	}
	st := p.Status()
	if st.Phase != corev1.PodPending || condition(st, corev1.PodInitialized).Status != corev1.ConditionFalse {
		t.Errorf("phase %s Initialized %+v, want Pending and not initialized", st.Phase, condition(st, corev1.PodInitialized))
	}
}

// TestPlainInitContainers: without sidecars, init containers keep the simulator's old behaviour: reported
// completed when the pod is added, the pod initialized then and the app started at once.
func TestPlainInitContainers(t *testing.T) {
	w := exactWorld(t, 1)
	p := mustAdd(t, w, sidecarPod(nil, nil, plainInit("setup"), plainInit("migrate")))
	w.Advance(sec(1))
	st := p.Status()
	for _, ic := range st.InitContainerStatuses {
		if ic.State.Terminated == nil || ic.State.Terminated.ExitCode != 0 || ic.State.Terminated.FinishedAt.Time != epoch || !ic.Ready {
			t.Errorf("%s = %+v, want completed at the pod's start", ic.Name, ic.State)
		}
	}
	if c := condition(st, corev1.PodInitialized); c.Status != corev1.ConditionTrue || c.LastTransitionTime.Time != epoch {
		t.Errorf("Initialized %+v", c)
	}
	if got := startOffsets(p); len(got) != 1 || got[0] != 0 {
		t.Errorf("starts at %v, want the app only, at 0", got)
	}
	if st.Phase != corev1.PodRunning || !p.Ready() {
		t.Errorf("phase %s ready %v", st.Phase, p.Ready())
	}
}

// TestSidecarTerminationOrder: on deletion every container gets its Killing event at once, but a sidecar gets
// SIGTERM only when the app containers have exited (kuberuntime_termination_order.go), with what is left of the
// grace period, and at least the 2 s minimum when the app used it all.
func TestSidecarTerminationOrder(t *testing.T) {
	for _, tc := range []struct {
		appShutdown string
		appExit     time.Duration // after the deletion
		proxyExit   time.Duration
	}{
		{"5s", sec(5), sec(6)},      // proxy's SIGTERM at 5 s, it needs 1 s
		{"never", sec(30), sec(31)}, // app SIGKILLed at the deadline; proxy gets the minimum 2 s and needs 1 s
	} {
		t.Run(tc.appShutdown, func(t *testing.T) {
			w := exactWorld(t, 1)
			p := mustAdd(t, w, sidecarPod(map[string]string{"app.sim.probetuner.io/shutdown": tc.appShutdown, "proxy.sim.probetuner.io/shutdown": "1s"}, nil,
				sidecarSpec("proxy", nil, httpProbe("/ready", period(1)), nil)))
			at := epoch.Add(time.Minute)
			if err := w.DeletePod("default", "web-0", at); err != nil {
				t.Fatal(err)
			}
			w.RunUntil(epoch.Add(3 * time.Minute))
			if !p.Finished() {
				t.Fatal("not finished")
			}
			evs := w.DrainEvents()
			for _, e := range eventsWith(evs, ReasonKilling) {
				if !e.Time.Equal(at) || e.Message != "Stopping container "+e.Container {
					t.Errorf("Killing event %+v, want one per container at the deletion", e)
				}
			}
			var exits = map[string]time.Duration{}
			for _, term := range p.Stats().Terminations {
				exits[term.Container] = term.FinishedAt.Sub(at)
			}
			if exits["app"] != tc.appExit || exits["proxy"] != tc.proxyExit {
				t.Errorf("exits after the deletion %v, want app %s, proxy %s", exits, tc.appExit, tc.proxyExit)
			}
		})
	}
}

// TestInitContainerValidation: what the API server rejects in init containers, AddPod rejects too.
func TestInitContainerValidation(t *testing.T) {
	withProbe := plainInit("setup")
	withProbe.LivenessProbe = httpProbe("/healthz")
	badSidecar := sidecarSpec("proxy", nil, nil, httpProbe("/healthz", successes(2)))
	for _, tc := range []struct {
		name string
		init corev1.Container
		want string
	}{
		{"probe on a plain init container", withProbe, "initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"},
		{"invalid sidecar probe", badSidecar, "initContainers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"},
		{"name clash", plainInit("app"), `container name "app" is used twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := exactWorld(t, 1).AddPod(sidecarPod(nil, nil, tc.init), "node-1")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("AddPod error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestSidecarBehaviourAnnotations: annotations may name a sidecar but not a plain init container, which does
// not run.
func TestSidecarBehaviourAnnotations(t *testing.T) {
	w := exactWorld(t, 1)
	if _, err := w.AddPod(sidecarPod(map[string]string{"setup.sim.probetuner.io/startup": "5s"}, nil, plainInit("setup")), "node-1"); err == nil ||
		!strings.Contains(err.Error(), `no container named "setup"`) {
		t.Errorf("annotation of a plain init container: error %v", err)
	}
	if got := ContainerNames(&sidecarPod(nil, nil, plainInit("setup"), sidecarSpec("proxy", nil, nil, nil)).Spec); strings.Join(got, " ") != "proxy app" {
		t.Errorf("ContainerNames = %v, want [proxy app]", got)
	}
}

func statusNames(cs []corev1.ContainerStatus) string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return strings.Join(names, " ")
}
