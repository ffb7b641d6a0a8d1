package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probetuner/probe-tuner/test/harness/sim/behavior"
)

// fakeClock is a settable clock; sleeping advances it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testApp(t *testing.T, ann map[string]string) (*app, *fakeClock) {
	t.Helper()
	b, err := behaviorFor(ann, "server")
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeClock{t: t0}
	a := newApp(b, "test", c.now, t0)
	a.sleep = func(_ context.Context, d time.Duration) { c.advance(d) }
	return a, c
}

func get(t *testing.T, srv *httptest.Server, path string, timeout time.Duration) (int, error) {
	t.Helper()
	client := &http.Client{Timeout: timeout}
	resp, err := client.Get(srv.URL + path)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestAnnotationsFileAndContainerKeys(t *testing.T) {
	ann, err := parseAnnotationsFile(strings.NewReader("kubectl.kubernetes.io/restartedAt=\"x\"\nsim.probetuner.io/startup=\"40s\"\nserver.sim.probetuner.io/crash-exit-code=\"7\"\nsidecar.sim.probetuner.io/startup=\"1s\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := behaviorFor(ann, "server")
	if err != nil {
		t.Fatal(err)
	}
	if b.Startup.String() != "40s" || b.CrashExitCode != 7 {
		t.Errorf("startup %s exit %d, want 40s and 7 (the sidecar's key must not apply)", b.Startup, b.CrashExitCode)
	}
	// The simulator's parser and its messages.
	_, err = behaviorFor(map[string]string{"sim.probetuner.io/startup": "4x5s"}, "server")
	if err == nil || !strings.Contains(err.Error(), `sim.probetuner.io/startup: "4x5s": not a duration or distribution`) {
		t.Errorf("error %v", err)
	}
}

func TestStartupHangAndShutdown(t *testing.T) {
	a, c := testApp(t, map[string]string{
		"sim.probetuner.io/startup":            "40s",
		"sim.probetuner.io/hang-after":         "2m",
		"sim.probetuner.io/shutdown-exit-code": "0",
	})
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	if code, _ := get(t, srv, "/healthz", time.Second); code != 503 {
		t.Errorf("before startup: %d, want 503 (and the real server does not listen yet)", code)
	}
	c.advance(40 * time.Second)
	for _, p := range []string{"/healthz", "/ready", "/startup"} {
		if code, err := get(t, srv, p, time.Second); code != 200 {
			t.Errorf("%s after startup: %d %v", p, code, err)
		}
	}
	c.advance(80 * time.Second)
	if _, err := get(t, srv, "/healthz", 200*time.Millisecond); err == nil || !strings.Contains(err.Error(), "Client.Timeout exceeded while awaiting headers") {
		t.Errorf("hung: %v, want the client's timeout awaiting headers", err)
	}
	// Hung: SIGTERM is ignored by default (shutdown-when-hung never).
	if _, ok := a.shutdownAfter(); ok {
		t.Error("a hung app took SIGTERM")
	}
}

func TestShutdownAnswers503(t *testing.T) {
	a, _ := testApp(t, map[string]string{"sim.probetuner.io/shutdown": "3s"})
	if d, ok := a.shutdownAfter(); !ok || d != 3*time.Second {
		t.Errorf("shutdown %s %v", d, ok)
	}
	a.setTerminating()
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	if code, _ := get(t, srv, "/ready", time.Second); code != 503 {
		t.Errorf("while shutting down: %d, want 503", code)
	}
	b, _ := behaviorFor(nil, "server")
	if b.ShutdownExitCode != 143 {
		t.Errorf("default exit code %d, want the simulator's 143", b.ShutdownExitCode)
	}
}

func TestLatencyPerProbeTypeAndFailureRate(t *testing.T) {
	a, c := testApp(t, map[string]string{"sim.probetuner.io/readiness-latency": "2s", "sim.probetuner.io/liveness-failure-rate": "1"})
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	before := c.now()
	if code, _ := get(t, srv, "/ready", time.Second); code != 200 {
		t.Errorf("/ready %d", code)
	}
	if got := c.now().Sub(before); got != 2*time.Second {
		t.Errorf("readiness answered after %s, want 2s", got)
	}
	if code, _ := get(t, srv, "/healthz", time.Second); code != 503 {
		t.Errorf("/healthz %d, want 503 at failure rate 1", code)
	}
	if code, _ := get(t, srv, "/startup", time.Second); code != 200 {
		t.Errorf("/startup %d", code)
	}
}

func TestDependencyOutage(t *testing.T) {
	a, c := testApp(t, map[string]string{"sim.probetuner.io/dependency": "redis", "sim.probetuner.io/dependency-checked-by": "readiness"})
	dc := &fakeClock{t: t0}
	dep := newDepServer(dc.now)
	if err := dep.addWindows("redis=at 1m for 30s"); err != nil {
		t.Fatal(err)
	}
	depSrv := httptest.NewServer(dep.handler())
	defer depSrv.Close()
	a.dependency = dependencyClient(depSrv.URL)
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	_ = c
	if code, _ := get(t, srv, "/ready", time.Second); code != 200 {
		t.Errorf("before the outage: %d", code)
	}
	dc.advance(70 * time.Second)
	if code, _ := get(t, srv, "/ready", time.Second); code != 503 {
		t.Errorf("during the outage: %d, want 503", code)
	}
	if code, _ := get(t, srv, "/healthz", time.Second); code != 200 {
		t.Errorf("liveness does not check the dependency here: %d", code)
	}
	resp, err := http.Post(depSrv.URL+"/outage?name=db&for=10s", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /outage: %v %v", resp, err)
	}
	if !dep.down("db") || dep.down("other") {
		t.Error("injected outage not seen")
	}
}

func TestExecCheck(t *testing.T) {
	a, _ := testApp(t, map[string]string{"sim.probetuner.io/liveness-failure-rate": "1"})
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	if code, _ := check(context.Background(), srv.URL, "readiness"); code != 0 {
		t.Errorf("readiness exit %d", code)
	}
	if code, msg := check(context.Background(), srv.URL, "liveness"); code != 1 || !strings.Contains(msg, "503") {
		t.Errorf("liveness exit %d %q", code, msg)
	}
	if code, _ := check(context.Background(), "http://127.0.0.1:1", "liveness"); code != 1 {
		t.Errorf("refused: exit %d", code)
	}
}

func TestTCPStopsAcceptingWhenHung(t *testing.T) {
	for _, blocks := range []bool{false, true} {
		ann := map[string]string{"sim.probetuner.io/hang-after": "1m"}
		if blocks {
			ann["sim.probetuner.io/hang-blocks-tcp"] = "true"
		}
		a, c := testApp(t, ann)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { serveTCP(ln, a, time.Sleep); close(done) }()
		conn, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err != nil {
			t.Fatalf("before the hang: %v", err)
		}
		conn.Close()
		c.advance(time.Minute)
		<-done
		conn, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if blocks && err == nil {
			t.Error("hang-blocks-tcp: the listener still accepts")
		}
		if !blocks {
			if err != nil {
				t.Errorf("hung without hang-blocks-tcp: the kernel should still complete the handshake: %v", err)
			} else {
				conn.Close()
			}
			ln.Close()
		}
	}
}

func TestStartupNever(t *testing.T) {
	a, c := testApp(t, map[string]string{"sim.probetuner.io/startup": "never", "sim.probetuner.io/crash-after": "5m", "sim.probetuner.io/oom-after": "never"})
	c.advance(time.Hour)
	if a.serving() || a.crashAt != 5*time.Minute || a.oomAt >= 0 {
		t.Errorf("serving %v crash %s oom %s", a.serving(), a.crashAt, a.oomAt)
	}
	_ = behavior.Liveness
}
