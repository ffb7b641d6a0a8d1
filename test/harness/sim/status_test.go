package sim

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestStatusShape checks the PodStatus fields a kubelet writes: conditions in
// the kubelet's order with second-precision transition times, container
// state/lastState/restartCount/started/ready, containerID changing on every
// restart, phase, IPs and start time.
func TestStatusShape(t *testing.T) {
	w := exactWorld(t, 1)
	w.Advance(sec(0.4)) // not on a whole second: times must be truncated
	p := mustAdd(t, w, testPod("web-0", map[string]string{
		"sim.probetuner.io/startup":     "10s",
		"sim.probetuner.io/crash-after": "1m",
	}, nil, httpProbe("/ready"), nil))
	if st := p.Status(); st.Phase != corev1.PodPending || st.ContainerStatuses[0].State.Waiting.Reason != WaitingContainerCreating {
		t.Errorf("before the first sync: %+v", st)
	}
	w.RunUntil(w.Now()) // run the first sync

	st := p.Status()
	if st.Phase != corev1.PodRunning {
		t.Errorf("phase %s at start (start-delay 0)", st.Phase)
	}
	wantTypes := []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled}
	if len(st.Conditions) != len(wantTypes) {
		t.Fatalf("conditions %+v", st.Conditions)
	}
	for i, c := range st.Conditions {
		if c.Type != wantTypes[i] {
			t.Errorf("condition %d is %s, want %s", i, c.Type, wantTypes[i])
		}
		if c.LastTransitionTime.Time != epoch {
			t.Errorf("%s lastTransitionTime %v, want %v (truncated to the second)", c.Type, c.LastTransitionTime, epoch)
		}
	}
	if r := st.Conditions[2]; r.Status != corev1.ConditionFalse || r.Reason != "ContainersNotReady" || r.Message != "containers with unready status: [app]" {
		t.Errorf("Ready condition %+v", r)
	}
	if st.PodIP == "" || st.HostIP == "" || st.StartTime == nil || st.StartTime.Time != epoch || len(st.PodIPs) != 1 {
		t.Errorf("IPs/startTime: %+v", st)
	}
	cs := st.ContainerStatuses[0]
	if cs.State.Running == nil || cs.State.Running.StartedAt.Time != epoch || cs.Ready || !*cs.Started ||
		!strings.HasPrefix(cs.ContainerID, "containerd://") || len(cs.ContainerID) != len("containerd://")+64 || cs.RestartCount != 0 {
		t.Errorf("container status %+v", cs)
	}
	if !strings.Contains(cs.ImageID, "@sha256:") {
		t.Errorf("imageID %q", cs.ImageID)
	}

	w.RunUntil(epoch.Add(sec(30)))
	st = p.Status()
	if r := st.Conditions[2]; r.Status != corev1.ConditionTrue || r.LastTransitionTime.Time != epoch.Add(sec(10)) {
		t.Errorf("Ready condition at 30s %+v, want True since 10s", r)
	}
	first := st.ContainerStatuses[0].ContainerID

	w.RunUntil(epoch.Add(sec(70)))
	st = p.Status()
	cs = st.ContainerStatuses[0]
	lt := cs.LastTerminationState.Terminated
	if cs.ContainerID == first || cs.RestartCount != 1 || lt == nil || lt.ContainerID != first || lt.ExitCode != 1 ||
		lt.Reason != TerminatedError || lt.StartedAt.Time != epoch || lt.FinishedAt.Time != epoch.Add(sec(60)) {
		t.Errorf("after a crash: %+v", cs)
	}
	if cs.Ready || p.Ready() {
		t.Error("ready right after the restart (readiness needs the app to serve again)")
	}
}

// TestEventWording checks the kubelet's event texts.
func TestEventWording(t *testing.T) {
	w := exactWorld(t, 1)
	p := mustAdd(t, w, testPod("web-0", map[string]string{"sim.probetuner.io/startup": "45s"}, nil, nil, httpProbe("/healthz")))
	w.RunUntil(epoch.Add(sec(31)))
	evs := w.DrainEvents()
	ip := p.Status().PodIP
	want := []struct{ typ, reason, msg string }{
		{"Normal", ReasonPulled, `Container image "example/app:1.0" already present on machine and can be accessed by the pod`},
		{"Normal", ReasonCreated, "Container created"},
		{"Normal", ReasonStarted, "Container started"},
		{"Warning", ReasonUnhealthy, `Liveness probe failed: Get "http://` + ip + `:8080/healthz": dial tcp ` + ip + `:8080: connect: connection refused`},
		{"Warning", ReasonUnhealthy, ""},
		{"Warning", ReasonUnhealthy, ""},
		{"Normal", ReasonKilling, "Container app failed liveness probe, will be restarted"},
		{"Normal", ReasonPulled, ""},
		{"Normal", ReasonCreated, ""},
		{"Normal", ReasonStarted, ""},
	}
	if len(evs) != len(want) {
		t.Fatalf("events:\n%s", dumpEvents(evs))
	}
	for i, e := range evs {
		if e.Type != want[i].typ || e.Reason != want[i].reason || (want[i].msg != "" && e.Message != want[i].msg) {
			t.Errorf("event %d = %s %s %q, want %s %s %q", i, e.Type, e.Reason, e.Message, want[i].typ, want[i].reason, want[i].msg)
		}
		if e.Pod != "web-0" || e.Namespace != "default" || e.Container != "app" || e.FieldPath != "spec.containers{app}" || e.PodUID != p.UID() || e.Node != "node-1" {
			t.Errorf("event %d object fields %+v", i, e)
		}
	}
}

// TestProbeHandlerOutputs checks the failure output of each handler type
// (pkg/probe/http, tcp, grpc, exec) for refused, timed-out and unhealthy
// answers, and that a probe on an unknown named port errors without counting.
func TestProbeHandlerOutputs(t *testing.T) {
	port := intstr.FromInt32(8080)
	for _, tc := range []struct {
		name    string
		handler corev1.ProbeHandler
		ann     map[string]string
		want    string
	}{
		{"tcp refused", corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: port}}, map[string]string{"sim.probetuner.io/startup": "never"},
			"Readiness probe failed: dial tcp IP:8080: connect: connection refused"},
		{"tcp hang", corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: port}}, map[string]string{"sim.probetuner.io/hang-after": "0s", "sim.probetuner.io/hang-blocks-tcp": "true"},
			"Readiness probe failed: dial tcp IP:8080: i/o timeout"},
		{"grpc refused", corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9090}}, map[string]string{"sim.probetuner.io/startup": "never"},
			`Readiness probe failed: timeout: failed to connect service "IP:9090" within 1s: context deadline exceeded`},
		{"grpc slow", corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9090}}, map[string]string{"sim.probetuner.io/health-latency": "2s"},
			"Readiness probe failed: timeout: health rpc did not complete within 1s"},
		{"grpc outage", corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9090}}, map[string]string{"sim.probetuner.io/dependency-outage": "at 0s for 1h", "sim.probetuner.io/dependency-checked-by": "readiness"},
			`Readiness probe failed: service unhealthy (responded with "NOT_SERVING")`},
		{"exec slow", corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"cat", "/tmp/ready"}}}, map[string]string{"sim.probetuner.io/health-latency": "5s"},
			`Readiness probe failed: command timed out: "cat /tmp/ready" timed out after 1s`},
		{"exec failing", corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, map[string]string{"sim.probetuner.io/readiness-failure-rate": "1"},
			"Readiness probe failed: "},
		{"http 503", corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready?full=1", Port: port, Scheme: corev1.URISchemeHTTPS}}, map[string]string{"sim.probetuner.io/health-failure-rate": "1"},
			"Readiness probe failed: HTTP probe failed with statuscode: 503"},
		{"http bad port", corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("metrics")}}, nil,
			`Readiness probe errored and resulted in unknown state: strconv.Atoi: parsing "metrics": invalid syntax`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := exactWorld(t, 1)
			pr := &corev1.Probe{ProbeHandler: tc.handler}
			p := mustAdd(t, w, testPod("web-0", tc.ann, nil, pr, nil))
			w.RunUntil(epoch.Add(sec(20)))
			u := eventsWith(w.DrainEvents(), ReasonUnhealthy)
			want := strings.ReplaceAll(tc.want, "IP", p.Status().PodIP)
			if len(u) == 0 || u[0].Message != want {
				t.Fatalf("Unhealthy %+v, want %q", u, want)
			}
			if p.Ready() {
				t.Error("ready")
			}
		})
	}
	// The HTTPS URL keeps its query.
	w := exactWorld(t, 1)
	pr := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready?full=1", Port: port, Scheme: corev1.URISchemeHTTPS}}}
	p := mustAdd(t, w, testPod("web-0", map[string]string{"sim.probetuner.io/startup": "never"}, nil, pr, nil))
	w.RunUntil(epoch.Add(sec(1)))
	u := eventsWith(w.DrainEvents(), ReasonUnhealthy)
	ip := p.Status().PodIP
	if want := `Readiness probe failed: Get "https://` + ip + `:8080/ready?full=1": dial tcp ` + ip + `:8080: connect: connection refused`; len(u) == 0 || u[0].Message != want {
		t.Errorf("got %+v, want %q", u, want)
	}
}

// TestGracefulDeletion: after deletion liveness and startup stop, the
// containers get SIGTERM ("Stopping container") and exit after their shutdown
// time (143) or are SIGKILLed at the grace deadline (137); the pod then
// reports a terminal phase and is Finished. Readiness keeps probing; the app
// answers 503 while shutting down, so Ready drops after failureThreshold.
func TestGracefulDeletion(t *testing.T) {
	for _, tc := range []struct {
		shutdown string
		exitAt   time.Duration
		code     int32
	}{{"5s", sec(65), 143}, {"45s", sec(90), 137}} {
		t.Run(tc.shutdown, func(t *testing.T) {
			w := exactWorld(t, 1)
			p := mustAdd(t, w, testPod("web-0", map[string]string{"sim.probetuner.io/shutdown": tc.shutdown},
				nil, httpProbe("/ready", period(2), failures(2)), httpProbe("/healthz")))
			if err := w.DeletePod("default", "web-0", epoch.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			w.RunUntil(epoch.Add(sec(62)))
			if !p.Deleted() || p.Finished() {
				t.Fatalf("deleted %v finished %v at 62s", p.Deleted(), p.Finished())
			}
			pod := p.Pod()
			if pod.DeletionTimestamp == nil || pod.DeletionTimestamp.Time != epoch.Add(sec(90)) || *pod.DeletionGracePeriodSeconds != 30 {
				t.Errorf("deletion metadata %v %v", pod.DeletionTimestamp, pod.DeletionGracePeriodSeconds)
			}
			w.RunUntil(epoch.Add(2 * time.Minute))
			if !p.Finished() {
				t.Fatal("not finished 2m after deletion")
			}
			evs := w.DrainEvents()
			k := eventsWith(evs, ReasonKilling)
			if len(k) != 1 || k[0].Message != "Stopping container app" || k[0].Time.Sub(epoch) != time.Minute {
				t.Errorf("Killing events %+v", k)
			}
			for _, e := range eventsWith(evs, ReasonUnhealthy) {
				if strings.HasPrefix(e.Message, "Liveness") {
					t.Errorf("liveness probed after deletion: %+v", e)
				}
			}
			st := p.Status()
			cs := st.ContainerStatuses[0]
			if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != tc.code || cs.State.Terminated.FinishedAt.Time.Sub(epoch) != tc.exitAt {
				t.Errorf("final state %+v", cs.State)
			}
			if st.Phase != corev1.PodFailed || p.Ready() || st.Conditions[0].Status != corev1.ConditionFalse {
				t.Errorf("phase %s ready %v conditions %+v", st.Phase, p.Ready(), st.Conditions)
			}
			s := p.Stats()
			if s.Restarts.Total() != 0 || s.NotReadyWhileWanted != 0 {
				t.Errorf("stats %+v: a deletion is no restart and an unwanted pod is not unavailable", s)
			}
			// Readiness failed twice (at 62 and 64) after SIGTERM at 60.
			if tc.shutdown == "45s" && s.ReadyTransitions != 2 {
				t.Errorf("ready transitions %d, want 2", s.ReadyTransitions)
			}
		})
	}
}

// TestStatusChangeHook: OnStatusChange runs once per pod and instant with the
// clock at that instant; unchanged instants are not reported.
func TestStatusChangeHook(t *testing.T) {
	var seen []time.Duration
	var w *World
	k := ExactKubeletConfig()
	w = NewWorld(Options{Seed: 1, Epoch: epoch, Kubelet: &k, OnStatusChange: func(p *PodSim) {
		seen = append(seen, w.Now().Sub(epoch))
		_ = p.Status()
	}, OnEvent: func(Event) {}})
	mustAdd(t, w, testPod("web-0", map[string]string{"sim.probetuner.io/startup": "25s"}, nil, httpProbe("/ready"), nil))
	w.RunUntil(epoch.Add(time.Minute))
	// 0: added and running; 30: ready (ticks at 0,10,20 fail, 30 succeeds).
	if !equalDurs(seen, durs(0, 30)) {
		t.Errorf("status changes at %v, want [0s 30s]", seen)
	}
	if len(w.DrainEvents()) != 0 {
		t.Error("events buffered despite OnEvent")
	}
}
