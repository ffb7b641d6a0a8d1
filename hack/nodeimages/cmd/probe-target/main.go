// Command probe-target is the test server of the real node: an HTTP server whose /healthz and /ready answer 500
// and 503 until a startup delay has passed, and 200 after. It listens at once, so that probes see status codes.
//
// The delay comes from STARTUP_DELAY (a Go duration, e.g. "40s") or, when that is unset, from the pod annotation
// sim.probetuner.io/startup in a downward-API annotations file (ANNOTATIONS_FILE, default
// /etc/probe-target/annotations); the value is a duration ("40s") or a range ("38s-42s", drawn uniformly).
// PORT sets the port (default 8080). It exits 0 on SIGTERM.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const annotationKey = "sim.probetuner.io/startup"

func main() {
	delay, source, err := startupDelay()
	if err != nil {
		log.Fatalf("probe-target: %v", err)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	start := time.Now()
	started := func() bool { return time.Since(start) >= delay }
	log.Printf("probe-target: listening on :%s, startup delay %s (%s)", port, delay, source)

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !started() {
			http.Error(w, "starting", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !started() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	srv := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		log.Printf("probe-target: signal received, shutting down")
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("probe-target: %v", err)
	}
}

// startupDelay reads the delay from STARTUP_DELAY or the annotations file; no setting means no delay.
func startupDelay() (time.Duration, string, error) {
	if v := os.Getenv("STARTUP_DELAY"); v != "" {
		d, err := parseDelay(v)
		return d, "STARTUP_DELAY", err
	}
	path := os.Getenv("ANNOTATIONS_FILE")
	if path == "" {
		path = "/etc/probe-target/annotations"
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, "no setting", nil
	}
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// The downward API writes one key="value" line per annotation, the value quoted as by strconv.Quote.
		key, quoted, ok := strings.Cut(sc.Text(), "=")
		if !ok || key != annotationKey {
			continue
		}
		value, err := strconv.Unquote(quoted)
		if err != nil {
			return 0, "", fmt.Errorf("%s in %s: %w", annotationKey, path, err)
		}
		d, err := parseDelay(value)
		return d, annotationKey + " in " + path, err
	}
	return 0, "no " + annotationKey + " in " + path, sc.Err()
}

// parseDelay reads "40s" or "38s-42s" (uniform in the range).
func parseDelay(v string) (time.Duration, error) {
	lo, hi, isRange := strings.Cut(v, "-")
	a, err := time.ParseDuration(strings.TrimSpace(lo))
	if err != nil {
		return 0, fmt.Errorf("startup delay %q: want a duration such as 40s or a range such as 38s-42s", v)
	}
	if !isRange {
		return a, nil
	}
	b, err := time.ParseDuration(strings.TrimSpace(hi))
	if err != nil || b < a {
		return 0, fmt.Errorf("startup delay %q: want a range such as 38s-42s", v)
	}
	return a + time.Duration(rand.Int64N(int64(b-a)+1)), nil
}
