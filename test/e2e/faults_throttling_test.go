//go:build e2e && faults

package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// throttlingProxy stands between the operator and the API server: while slow, it delays every request by
// 200 ms to 2 s; while throttling, it answers a share of the requests that are not watches with 429 Too Many
// Requests and a Retry-After, as an API server under load (or its Priority and Fairness limits) does.
type throttlingProxy struct {
	server *httptest.Server
	slow   atomic.Bool
	// throttleShare is the share of requests answered 429, in percent (0: none).
	throttleShare atomic.Int32
	// rejected and delayed count what the proxy did, so that the test knows the faults happened.
	rejected, delayed, forwarded atomic.Int64
	mu                           sync.Mutex
	rng                          *rand.Rand
	// writesRejected holds the Deployments whose first write was answered 429: every Deployment's first write
	// is, so that each decision's write is certainly retried.
	writesRejected map[string]bool
}

// firstDeploymentWrite says whether r is the first write to its Deployment, and notes it.
func (p *throttlingProxy) firstDeploymentWrite(r *http.Request) bool {
	if r.Method == http.MethodGet || !strings.Contains(r.URL.Path, "/deployments/") {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.writesRejected[r.URL.Path] {
		return false
	}
	p.writesRejected[r.URL.Path] = true
	return true
}

// deploymentWritesRejected is how many Deployments had their first write answered 429.
func (p *throttlingProxy) deploymentWritesRejected() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.writesRejected)
}

// newThrottlingProxy forwards to the API server of cfg with cfg's credentials; the operator talks to it over
// TLS without credentials of its own.
func newThrottlingProxy(t *testing.T, cfg *rest.Config) *throttlingProxy {
	t.Helper()
	upstream, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	transport, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &throttlingProxy{rng: rand.New(rand.NewPCG(1, 2)), writesRejected: map[string]bool{}}
	rp := httputil.NewSingleHostReverseProxy(upstream)
	rp.Transport = transport
	rp.FlushInterval = -1 // watches stream
	p.server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		watch := r.URL.Query().Get("watch") == "true"
		if p.slow.Load() {
			p.delayed.Add(1)
			time.Sleep(p.between(200*time.Millisecond, 2*time.Second))
		}
		// The first write to each Deployment is refused for the whole test, not only while the share is: a
		// decision that needs more evidence (a flapping workload's) may come after the throttling window.
		if !watch && (p.firstDeploymentWrite(r) || p.throttled()) {
			p.rejected.Add(1)
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"the test's proxy throttles","reason":"TooManyRequests","code":429}`)
			return
		}
		p.forwarded.Add(1)
		rp.ServeHTTP(w, r)
	}))
	p.server.StartTLS()
	t.Cleanup(p.server.Close)
	return p
}

// throttled says whether a request falls in the share answered 429.
func (p *throttlingProxy) throttled() bool {
	share := p.throttleShare.Load()
	return share > 0 && p.percent() < share
}

func (p *throttlingProxy) between(lo, hi time.Duration) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return lo + time.Duration(p.rng.Int64N(int64(hi-lo)))
}

func (p *throttlingProxy) percent() int32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.Int32N(100)
}

// kubeconfig writes a kubeconfig that reaches the API server through the proxy.
func (p *throttlingProxy) kubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "proxy.kubeconfig")
	cfg := strings.Join([]string{
		"apiVersion: v1",
		"kind: Config",
		"clusters: [{name: proxy, cluster: {server: " + p.server.URL + ", insecure-skip-tls-verify: true}}]",
		"users: [{name: proxy, user: {}}]",
		"contexts: [{name: proxy, context: {cluster: proxy, user: proxy}}]",
		"current-context: proxy",
	}, "\n") + "\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// h. A slow and throttling API server: from the operator's start, every request takes 200 ms to 2 s and, for
// its first three minutes, 30% of the requests that are not watches get 429 with Retry-After; the first write to
// each Deployment gets 429 whenever it comes. The operator
// backs off and retries, tunes both workloads once each, records each decision once, and crashes not.
func TestFaultThrottlingAPIServer(t *testing.T) {
	e := newFaultEnv(t, "fault-throttle")
	e.create(crashLoopDeployment(e.ns, "loader", "throttle", 2))
	e.create(flappingDeployment(e.ns, "api", "throttle"))
	e.create(faultPolicy(e.ns, "throttle", "throttle"))

	proxy := newThrottlingProxy(t, cluster.Config)
	proxy.slow.Store(true)
	proxy.throttleShare.Store(30)
	op := startOperatorProcess(t, "manager-fault-throttle", []string{"KUBECONFIG=" + proxy.kubeconfig(t)})
	// Readiness follows the API server: under these faults it may take a while.
	eventually(t, 3*time.Minute, func() error {
		if code := op.httpStatus("/readyz"); code != http.StatusOK {
			return fmt.Errorf("/readyz: %d", code)
		}
		return nil
	})
	throttleUntil := time.Now().Add(3 * time.Minute)

	eventually(t, 8*time.Minute, func() error {
		if time.Now().After(throttleUntil) && proxy.throttleShare.Swap(0) != 0 {
			t.Logf("throttling ends; the proxy answered %d requests with 429 and delayed %d", proxy.rejected.Load(), proxy.delayed.Load())
		}
		p := e.policy("throttle")
		for _, name := range []string{"loader", "api"} {
			if len(appliedIDs(p, name)) == 0 {
				return fmt.Errorf("%s: no Applied decision yet (429s so far %d, forwarded %d)", name, proxy.rejected.Load(), proxy.forwarded.Load())
			}
		}
		return nil
	})
	proxy.throttleShare.Store(0)
	if proxy.deploymentWritesRejected() < 2 || proxy.delayed.Load() == 0 {
		t.Fatalf("the faults did not happen: %d Deployment writes answered 429, %d requests delayed", proxy.deploymentWritesRejected(), proxy.delayed.Load())
	}
	t.Logf("through the proxy: %d forwarded, %d answered 429 (the first write of %d Deployments among them), %d delayed",
		proxy.forwarded.Load(), proxy.rejected.Load(), proxy.deploymentWritesRejected(), proxy.delayed.Load())
	// A while longer with the API server still slow: time for a retried write to land twice, if it would.
	time.Sleep(time.Minute)
	p := e.policy("throttle")
	checkNoDuplicateDecisions(t, p)
	for _, name := range []string{"loader", "api"} {
		e.checkOneRolloutPerDecision(p, name, 1)
	}
	checkOperatorHealthy(t, op)
}
