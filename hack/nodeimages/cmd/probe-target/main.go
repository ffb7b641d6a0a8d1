// Command probe-target is the test server of the real node. Its behaviour follows the same sim.probetuner.io/*
// annotations as the simulator (docs/simulator.md), read from a downward-API file of the pod's annotations
// (ANNOTATIONS_FILE, default /etc/probe-target/annotations) and parsed by the simulator's own parser
// (test/harness/sim/behavior). Per-container keys apply to the container named by PROBE_TARGET_CONTAINER (or --container).
//
//	probe-target [serve]                  the app: HTTP on PORT (8080), TCP on TCP_PORT (8081), gRPC health on
//	                                      GRPC_PORT (8082)
//	probe-target check --probe liveness   an exec probe: asks the server over loopback, exits 0 or 1
//	probe-target dependency               a shared dependency server (DEPENDENCY_OUTAGE windows, POST /outage)
//
// The app listens only once its startup time has passed (probes before that see "connection refused", as in the
// simulator); /healthz, /ready and /startup answer liveness, readiness and startup checks with the drawn latency,
// 503 at the failure rate, while shutting down and during a dependency outage of the types that check it; the
// gRPC health service answers the same way (SERVING or NOT_SERVING) for the services liveness (also the empty
// name), readiness and startup (grpc.go). After
// hang-after every HTTP check blocks and the TCP listener stops accepting (closed with hang-blocks-tcp);
// crash-after exits with crash-exit-code; oom-after allocates memory until the container's memory limit kills
// it; on SIGTERM it exits with shutdown-exit-code after the drawn shutdown time (ignoring SIGTERM for "never").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/probetuner/probe-tuner/test/harness/sim/behavior"
)

func main() {
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 && (args[0] == "serve" || args[0] == "check" || args[0] == "dependency") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args)
	case "check":
		os.Exit(runCheck(args, os.Stderr))
	case "dependency":
		err = dependencyServer(args)
	}
	if err != nil {
		log.Fatalf("probe-target %s: %v", cmd, err)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// loadBehavior reads the annotations file (missing: default behaviour) for the container.
func loadBehavior(path, container string) (*behavior.Behavior, error) {
	ann := map[string]string{}
	f, err := os.Open(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		defer f.Close()
		if ann, err = parseAnnotationsFile(f); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if v := os.Getenv("STARTUP_DELAY"); v != "" { // kept for hand runs: overrides the startup annotation
		ann[behavior.AnnotationDomain+"/startup"] = v
	}
	return behaviorFor(ann, container)
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	annotations := fs.String("annotations", env("ANNOTATIONS_FILE", "/etc/probe-target/annotations"), "downward-API annotations file")
	container := fs.String("container", env("PROBE_TARGET_CONTAINER", "server"), "container name for <container>.sim.probetuner.io/<key>")
	port := fs.String("port", env("PORT", "8080"), "HTTP port")
	tcpPort := fs.String("tcp-port", env("TCP_PORT", "8081"), "TCP port (empty: none)")
	grpcPort := fs.String("grpc-port", env("GRPC_PORT", "8082"), "gRPC health port (empty: none)")
	depURL := fs.String("dependency-url", env("DEPENDENCY_URL", ""), "URL of the shared dependency server (empty: none)")
	epochS := fs.String("epoch", env("SIM_EPOCH", ""), "RFC 3339 time the dependency-outage windows count from (default: the process start)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b, err := loadBehavior(*annotations, *container)
	if err != nil {
		return err
	}
	epoch := time.Now()
	if *epochS != "" {
		if epoch, err = time.Parse(time.RFC3339, *epochS); err != nil {
			return fmt.Errorf("--epoch: %w", err)
		}
	}
	host, _ := os.Hostname()
	a := newApp(b, host+"/"+*container+"/"+time.Now().String(), time.Now, epoch)
	if *depURL != "" {
		a.dependency = dependencyClient(*depURL)
	}
	log.Printf("probe-target: container %s, startup %s, hang at %s, crash at %s, oom at %s", *container, at(a.readyAt), at(a.hangAt), at(a.crashAt), at(a.oomAt))

	if a.crashAt >= 0 {
		time.AfterFunc(a.crashAt, func() {
			log.Printf("probe-target: crash-after reached, exiting %d", b.CrashExitCode)
			os.Exit(int(b.CrashExitCode))
		})
	}
	if a.oomAt >= 0 {
		time.AfterFunc(a.oomAt, growMemory)
	}
	if a.hangAt >= 0 {
		time.AfterFunc(a.hangAt, func() { log.Printf("probe-target: hang-after reached, health checks block from now on") })
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for range sigs {
			d, ok := a.shutdownAfter()
			if !ok {
				log.Printf("probe-target: SIGTERM ignored (shutdown never)")
				continue
			}
			a.setTerminating()
			log.Printf("probe-target: SIGTERM, exiting %d in %s", b.ShutdownExitCode, d)
			time.AfterFunc(d, func() { os.Exit(int(b.ShutdownExitCode)) })
		}
	}()
	if a.readyAt < 0 {
		select {} // the start never completes: never listen
	}
	time.Sleep(a.readyAt)
	if *tcpPort != "" {
		ln, err := net.Listen("tcp", ":"+*tcpPort)
		if err != nil {
			return err
		}
		go serveTCP(ln, a, time.Sleep)
	}
	if *grpcPort != "" {
		g := grpcServer(a, ":"+*grpcPort)
		go func() { log.Printf("probe-target: gRPC health server: %v", g.ListenAndServe()) }()
	}
	srv := &http.Server{Addr: ":" + *port, Handler: a.handler(), ReadHeaderTimeout: 5 * time.Second}
	log.Printf("probe-target: serving HTTP on :%s", *port)
	return srv.ListenAndServe()
}

func at(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return d.String()
}

// serveTCP accepts and closes connections until the app hangs; then it stops accepting (the kernel still
// completes handshakes into the backlog, so a tcpSocket probe does not notice, as in the simulator), or with
// hang-blocks-tcp closes the listener (probes then see "connection refused"; the simulator reports an i/o timeout).
func serveTCP(ln net.Listener, a *app, sleep func(time.Duration)) {
	for {
		if a.hung() {
			if a.b.HangBlocksTCP {
				_ = ln.Close()
			}
			return
		}
		if tl, ok := ln.(*net.TCPListener); ok {
			_ = tl.SetDeadline(time.Now().Add(200 * time.Millisecond))
		}
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			sleep(10 * time.Millisecond)
			continue
		}
		_ = c.Close()
	}
}

// growMemory allocates and touches memory in 8 MiB steps until the kernel's OOM killer ends the container. Without
// a memory limit (or one above 2 GiB) it refuses, logs why and exits 1: it would take the machine's memory.
func growMemory() {
	limit, ok := memoryLimit()
	if !ok || limit > 2<<30 {
		log.Printf("probe-target: oom-after needs a container memory limit of at most 2Gi (found %d, %v); exiting 1", limit, ok)
		os.Exit(1)
	}
	log.Printf("probe-target: oom-after reached, growing towards the %d-byte memory limit", limit)
	var hold [][]byte
	for {
		chunk := make([]byte, 8<<20)
		for i := 0; i < len(chunk); i += 4096 {
			chunk[i] = 1
		}
		hold = append(hold, chunk)
		time.Sleep(20 * time.Millisecond)
		_ = hold
	}
}

// memoryLimit reads the container's memory limit (cgroup v1, then v2).
func memoryLimit() (int64, bool) {
	for _, p := range []string{"/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max"} {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var n int64
		if _, err := fmt.Sscan(string(data), &n); err != nil {
			return 0, false // "max"
		}
		return n, true
	}
	return 0, false
}

// runCheck is the exec probe: it asks the server's endpoint for the probe type over loopback and returns the exit
// code (0 healthy, 1 not). It waits as long as the server takes: the kubelet's timeoutSeconds ends a hung check.
func runCheck(args []string, stderr *os.File) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	probe := fs.String("probe", "liveness", "probe type: liveness, readiness or startup")
	addr := fs.String("addr", "127.0.0.1:"+env("PORT", "8080"), "server address")
	verbose := fs.Bool("v", false, "say why a check failed (the simulator's exec failures have empty output)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	code, msg := check(context.Background(), "http://"+*addr, *probe)
	if msg != "" && (*verbose || code == 2) {
		fmt.Fprintln(stderr, msg)
	}
	return code
}

func check(ctx context.Context, base, probe string) (int, string) {
	path := ""
	for p, t := range probePaths {
		if t.Key() == probe {
			path = p
		}
	}
	if path == "" {
		return 2, fmt.Sprintf("unknown probe type %q (want liveness, readiness or startup)", probe)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 1, err.Error()
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 1, resp.Status
	}
	return 0, ""
}
