package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/probetuner/probe-tuner/test/harness/sim/behavior"
)

// depServer is the shared dependency: GET /dependencies/<name> answers 200 while <name> is up and 503 during one
// of its outages, so that every replica asking it sees the same outage (the simulator's World.InjectOutage).
// Outages come from --outage NAME=WINDOWS (the dependency-outage syntax, relative to the server's start) and from
// POST /outage?name=NAME&for=DURATION (starting now).
type depServer struct {
	now   func() time.Time
	start time.Time

	mu      sync.Mutex
	windows map[string][]behavior.Window
}

func newDepServer(now func() time.Time) *depServer {
	return &depServer{now: now, start: now(), windows: map[string][]behavior.Window{}}
}

// addWindows parses "name=at 1m for 30s, every 10m for 1m" with the simulator's parser.
func (s *depServer) addWindows(spec string) error {
	name, windows, ok := strings.Cut(spec, "=")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("outage %q: want NAME=WINDOWS, e.g. redis=at 2m for 30s", spec)
	}
	b, err := behavior.ParseBehaviors(map[string]string{behavior.AnnotationDomain + "/dependency-outage": windows}, []string{"x"})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.windows[strings.TrimSpace(name)] = append(s.windows[strings.TrimSpace(name)], b["x"].Outages...)
	return nil
}

func (s *depServer) down(name string) bool {
	off := s.now().Sub(s.start)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.windows[name] {
		if w.Contains(off) {
			return true
		}
	}
	return false
}

func (s *depServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dependencies/{name}", func(w http.ResponseWriter, r *http.Request) {
		if s.down(r.PathValue("name")) {
			http.Error(w, "outage", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "up")
	})
	mux.HandleFunc("POST /outage", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		d, err := time.ParseDuration(r.URL.Query().Get("for"))
		if name == "" || err != nil || d <= 0 {
			http.Error(w, "want ?name=NAME&for=DURATION", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.windows[name] = append(s.windows[name], behavior.Window{Start: s.now().Sub(s.start), Length: d})
		s.mu.Unlock()
		fmt.Fprintf(w, "%s down for %s\n", name, d)
	})
	return mux
}

// dependencyClient asks the dependency server; an error counts as down (the dependency cannot be reached).
func dependencyClient(base string) func(ctx context.Context, name string) bool {
	client := &http.Client{Timeout: 2 * time.Second}
	return func(ctx context.Context, name string) bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/dependencies/"+name, nil)
		if err != nil {
			return false
		}
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, "; ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func dependencyServer(args []string) error {
	fs := flag.NewFlagSet("dependency", flag.ContinueOnError)
	listen := fs.String("listen", ":"+env("PORT", "9090"), "listen address")
	var outages multiFlag
	fs.Var(&outages, "outage", "NAME=WINDOWS (repeatable), e.g. redis=every 10m for 1m")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if v := env("DEPENDENCY_OUTAGE", ""); v != "" {
		outages = append(outages, strings.Split(v, ";")...)
	}
	s := newDepServer(time.Now)
	for _, o := range outages {
		if err := s.addWindows(o); err != nil {
			return err
		}
	}
	log.Printf("probe-target dependency: listening on %s, outages %v", *listen, outages)
	srv := &http.Server{Addr: *listen, Handler: s.handler(), ReadHeaderTimeout: 5 * time.Second}
	return srv.ListenAndServe()
}
