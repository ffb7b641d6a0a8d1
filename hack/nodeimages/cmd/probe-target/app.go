package main

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/probetuner/probe-tuner/test/harness/sim/behavior"
)

// app is the behaviour of one probe-target container, decided at its start from the sim.probetuner.io annotations:
// the same keys, parsed by the same package, as the simulator's.
type app struct {
	b     *behavior.Behavior
	rng   *rand.Rand
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) // waits d or until ctx ends
	start time.Time
	epoch time.Time // outage windows are relative to it

	// Times relative to start; a negative value means never.
	readyAt, hangAt, crashAt, oomAt time.Duration

	// dependency asks the shared dependency server whether the named dependency is up; nil: only the windows of
	// the annotation count.
	dependency func(ctx context.Context, name string) bool

	mu          sync.Mutex
	terminating bool
}

// newApp draws the container's start-time values (startup, hang, crash, OOM) from b.
func newApp(b *behavior.Behavior, seed string, now func() time.Time, epoch time.Time) *app {
	h := fnv.New64a()
	_, _ = io.WriteString(h, seed)
	a := &app{b: b, rng: rand.New(rand.NewPCG(h.Sum64(), 0x9e3779b97f4a7c15)), now: now, sleep: sleepCtx, start: now(), epoch: epoch}
	a.readyAt = -1
	if d, ok := b.StartupAt(a.rng, a.start.Sub(epoch)); ok {
		a.readyAt = d
	}
	a.hangAt, a.crashAt, a.oomAt = draw(b.HangAfter, a.rng), draw(b.CrashAfter, a.rng), draw(b.OOMAfter, a.rng)
	return a
}

func draw(d behavior.Distribution, r *rand.Rand) time.Duration {
	if v, ok := d.Sample(r); ok {
		return v
	}
	return -1
}

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (a *app) running() time.Duration { return a.now().Sub(a.start) }

// serving reports whether the startup time has passed.
func (a *app) serving() bool { return a.readyAt >= 0 && a.running() >= a.readyAt }

// hung reports whether the hang time has passed (the app stays hung until its container restarts).
func (a *app) hung() bool { return a.hangAt >= 0 && a.running() >= a.hangAt }

func (a *app) setTerminating() {
	a.mu.Lock()
	a.terminating = true
	a.mu.Unlock()
}

func (a *app) isTerminating() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.terminating
}

// inOutage reports whether the app's dependency is down: a window of the annotation (relative to the epoch) or,
// with a dependency server, its answer.
func (a *app) inOutage(ctx context.Context) bool {
	off := a.now().Sub(a.epoch)
	for _, w := range a.b.Outages {
		if w.Contains(off) {
			return true
		}
	}
	return a.dependency != nil && !a.dependency(ctx, a.b.Dependency)
}

// check answers one health check of probe type t as the simulator's app would: it blocks while hung (until the
// caller gives up), takes the drawn latency, and then fails (false) while shutting down, during a dependency
// outage of a type that checks it, or at the type's failure rate.
func (a *app) check(ctx context.Context, t behavior.ProbeType) bool {
	if !a.serving() {
		return false
	}
	if a.hung() {
		<-ctx.Done()
		return false
	}
	a.mu.Lock()
	lat, _ := a.b.Latency[t].Sample(a.rng)
	fail := a.b.FailureRate[t] > 0 && a.rng.Float64() < a.b.FailureRate[t]
	a.mu.Unlock()
	a.sleep(ctx, lat)
	if ctx.Err() != nil {
		return false
	}
	if a.isTerminating() || fail {
		return false
	}
	if a.b.CheckedBy[t] && a.inOutage(ctx) {
		return false
	}
	return true
}

// probePaths are the HTTP endpoints, one per probe type, so that latencies and failure rates can differ by type.
var probePaths = map[string]behavior.ProbeType{"/startup": behavior.Startup, "/ready": behavior.Readiness, "/healthz": behavior.Liveness}

// handler serves /healthz (liveness), /ready (readiness) and /startup: 200 "ok" or 503.
func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	for path, t := range probePaths {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if !a.check(r.Context(), t) {
				if r.Context().Err() == nil {
					http.Error(w, "unhealthy", http.StatusServiceUnavailable)
				}
				return
			}
			fmt.Fprintln(w, "ok")
		})
	}
	return mux
}

// shutdownAfter is how long the app takes to exit after SIGTERM; ok is false when it ignores SIGTERM.
func (a *app) shutdownAfter() (time.Duration, bool) {
	d := a.b.Shutdown
	if a.hung() {
		d = a.b.ShutdownWhenHung
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return d.Sample(a.rng)
}

// parseAnnotationsFile reads a downward-API annotations file: one key="value" line per annotation, the value
// quoted as by strconv.Quote.
func parseAnnotationsFile(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		key, quoted, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %q is not key=\"value\"", line)
		}
		v, err := strconv.Unquote(quoted)
		if err != nil {
			return nil, fmt.Errorf("annotation %s: value %s: %w", key, quoted, err)
		}
		out[key] = v
	}
	return out, sc.Err()
}

// behaviorFor returns the behaviour of container name from the pod's annotations. Keys naming other containers
// are left out (probe-target knows only its own container); the rest is parsed by the simulator's parser, so an
// invalid value fails with the simulator's message.
func behaviorFor(annotations map[string]string, name string) (*behavior.Behavior, error) {
	mine := map[string]string{}
	for k, v := range annotations {
		prefix, _, ok := strings.Cut(k, behavior.AnnotationDomain+"/")
		if !ok || (prefix != "" && prefix != name+".") {
			continue
		}
		mine[k] = v
	}
	bs, err := behavior.ParseBehaviors(mine, []string{name})
	if err != nil {
		return nil, err
	}
	return bs[name], nil
}
