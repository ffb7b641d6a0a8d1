// Package health holds the manager's own health checks.
package health

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// APIServer returns a readiness check that fails while the API server cannot be reached, so that the manager
// reports itself not ready (and a Service stops routing to it) during an outage, while its liveness holds.
// Results are cached for a second, so frequent probing costs at most one request per second.
func APIServer(client rest.Interface, timeout time.Duration) func(*http.Request) error {
	var mu sync.Mutex
	var last time.Time
	var lastErr error
	return func(req *http.Request) error {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < time.Second {
			return lastErr
		}
		ctx, cancel := context.WithTimeout(req.Context(), timeout)
		defer cancel()
		body, err := client.Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			lastErr = fmt.Errorf("the API server is not reachable or not ready: %w (%s)", err, string(body))
		} else {
			lastErr = nil
		}
		last = time.Now()
		return lastErr
	}
}
