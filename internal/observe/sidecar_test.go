package observe

import (
	"testing"
	"time"
)

// sidecarDeployment renders a Deployment whose pods run a plain init container "setup", then a native sidecar
// "proxy" with the given probes (YAML at the container's indentation), then the app container "app" with a
// readiness probe.
func sidecarDeployment(replicas int, annotations map[string]string, proxyProbesYAML string) string {
	initContainers := `      - name: setup
        image: setup:1
      - name: proxy
        image: proxy:1
        restartPolicy: Always
` + proxyProbesYAML
	return deploymentWithInit(replicas, annotations, initContainers, readinessYAML)
}

// Native sidecars are observed exactly like app containers, keyed by their name; the plain init container,
// which ran once to completion, leaves no trace.
func TestObserveNativeSidecar(t *testing.T) {
	cases := []struct {
		name     string
		yaml     string
		duration time.Duration
		check    func(t *testing.T, proxy, app Signals)
	}{
		{
			// The sidecar's own liveness probe (3 x 10 s) kills its 45 s start: censored starts, liveness
			// restarts before ready, none of it blamed on the app.
			name:     "a sidecar's slow start killed by its liveness probe",
			yaml:     sidecarDeployment(2, map[string]string{"proxy.sim.probetuner.io/startup": "45s"}, "        livenessProbe: {httpGet: {path: /healthz, port: 15020}}\n"),
			duration: 5 * time.Minute,
			check: func(t *testing.T, proxy, app Signals) {
				if proxy.Startup.Count != 0 || proxy.CensoredStarts < 4 {
					t.Errorf("proxy: completed starts %d, censored %d; want none completed and at least 4 killed", proxy.Startup.Count, proxy.CensoredStarts)
				}
				if proxy.Restarts[CauseLiveness] < 4 || proxy.Restarts[CauseLiveness] != proxy.KillsBeforeReady || proxy.KillsAfterReady != 0 {
					t.Errorf("proxy: liveness restarts %d, kills before ready %d, after %d", proxy.Restarts[CauseLiveness], proxy.KillsBeforeReady, proxy.KillsAfterReady)
				}
				if lb := proxy.StartLowerBound; lb < 25*time.Second || lb > 35*time.Second {
					t.Errorf("proxy: start lower bound %s, want about 30s", lb)
				}
				if n := len(app.Restarts); n != 0 {
					t.Errorf("app restarts %v, want none", app.Restarts)
				}
			},
		},
		{
			// Behind a startup probe the kubelet starts the app only once the sidecar has started: the sidecar's
			// 20 s start is measured, and the app's start follows it.
			name:     "a sidecar's start measured by its startup probe",
			yaml:     sidecarDeployment(3, map[string]string{"proxy.sim.probetuner.io/startup": "20s"}, "        startupProbe: {httpGet: {path: /healthz, port: 15020}, periodSeconds: 2, failureThreshold: 30}\n"),
			duration: 2 * time.Minute,
			check: func(t *testing.T, proxy, app Signals) {
				if proxy.Startup.Count != 3 {
					t.Fatalf("proxy: completed starts %d, want 3", proxy.Startup.Count)
				}
				if p50 := proxy.Startup.Quantile(0.5); p50 < 19*time.Second || p50 > 24*time.Second {
					t.Errorf("proxy: p50 start %s, want 20-22s", p50)
				}
				if app.Startup.Count != 3 || len(proxy.Restarts)+len(app.Restarts) != 0 {
					t.Errorf("app starts %d, restarts %v / %v", app.Startup.Count, proxy.Restarts, app.Restarts)
				}
			},
		},
		{
			// A sidecar's readiness probe gates the pod's readiness, and its flapping is the sidecar's.
			name:     "a sidecar's readiness flapping",
			yaml:     sidecarDeployment(2, map[string]string{"proxy.sim.probetuner.io/readiness-failure-rate": "0.3"}, "        readinessProbe: {httpGet: {path: /ready, port: 15021}, periodSeconds: 5, failureThreshold: 1}\n"),
			duration: 20 * time.Minute,
			check: func(t *testing.T, proxy, app Signals) {
				if proxy.Transitions < 10 || proxy.ReadinessFailures < 10 {
					t.Errorf("proxy: transitions %d, readiness failures %d, want many", proxy.Transitions, proxy.ReadinessFailures)
				}
				if app.Transitions != 0 {
					t.Errorf("app transitions %d, want none", app.Transitions)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newSimRun(t, tc.yaml, 1)
			r.run(tc.duration)
			tc.check(t, r.signals("proxy"), r.signals("app"))
			if _, ok := r.state.Containers["setup"]; ok {
				t.Error("the plain init container was observed")
			}
			for _, ps := range r.state.Pods {
				if _, ok := ps.Containers["setup"]; ok {
					t.Errorf("pod %s: the plain init container was observed", ps.Name)
				}
			}
		})
	}
}
