// Command manager runs the probe-tuner operator: it watches ProbePolicies, the Deployments they select and their
// Pods, and tunes the Deployments' probes.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/probetuner/probe-tuner/controllers"
	"github.com/probetuner/probe-tuner/internal/health"
	"github.com/probetuner/probe-tuner/internal/metricsauth"
	"github.com/probetuner/probe-tuner/internal/scheme"
)

// options are the manager's command-line settings.
type options struct {
	metricsAddr             string
	metricsSecure           bool
	probeAddr               string
	leaderElect             bool
	leaderElectionID        string
	leaderElectionNS        string
	enableHTTP2             bool
	maxConcurrentReconciles int
	pprofAddr               string
	kubeAPIQPS              float64
	kubeAPIBurst            int
	kubeAPICompression      bool
	watchNamespaces         string
}

// defaultGCPercent is the manager's GOGC when the environment sets none. The heap is mostly the pod store's
// records, which live long; a collection at 75% growth instead of Go's 100% keeps the peak heap nearer the live
// one for a few percent more CPU in the collector (measured with make bench-scale; see the README).
const defaultGCPercent = 75

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	var opts options
	flag.StringVar(&opts.metricsAddr, "metrics-bind-address", ":8443",
		"Address the metrics endpoint binds to; \"0\" disables it.")
	flag.BoolVar(&opts.metricsSecure, "metrics-secure", true,
		"Serve metrics over HTTPS and require an authenticated, authorized client (get on /metrics). "+
			"Set to false for plain HTTP on a trusted address, such as 127.0.0.1 during local development.")
	flag.StringVar(&opts.probeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz endpoints bind to.")
	flag.BoolVar(&opts.leaderElect, "leader-elect", false,
		"Elect a leader with a Lease so that only one replica of the manager acts at a time.")
	flag.StringVar(&opts.leaderElectionID, "leader-election-id", "probe-tuner.tuning.probetuner.io",
		"Name of the Lease used for leader election.")
	flag.StringVar(&opts.leaderElectionNS, "leader-election-namespace", "",
		"Namespace of the leader-election Lease (default: the manager's own namespace).")
	flag.BoolVar(&opts.enableHTTP2, "enable-http2", false,
		"Serve metrics over HTTP/2 as well; off by default because of the HTTP/2 rapid-reset vulnerabilities.")
	flag.IntVar(&opts.maxConcurrentReconciles, "max-concurrent-reconciles", 4,
		"Workers per controller: ProbePolicies reconciled at once. A reconcile mostly waits on the API server.")
	flag.StringVar(&opts.pprofAddr, "pprof-bind-address", "",
		"Serve Go's /debug/pprof profiles on this address (plain HTTP; keep it on 127.0.0.1); empty disables them.")
	flag.Float64Var(&opts.kubeAPIQPS, "kube-api-qps", 50, "Sustained requests per second to the API server.")
	flag.IntVar(&opts.kubeAPIBurst, "kube-api-burst", 100, "Requests the client may send in a burst above --kube-api-qps.")
	flag.BoolVar(&opts.kubeAPICompression, "kube-api-compression", false,
		"Ask the API server for gzip-compressed responses and watch streams. Off by default: inside the cluster, "+
			"decompressing every pod update costs more CPU than the bandwidth it saves (a tenth of the operator's CPU at "+
			"5,000 pods); turn it on when the API server is across a slow link.")
	flag.StringVar(&opts.watchNamespaces, "watch-namespaces", "",
		"Comma-separated namespaces to watch (ProbePolicies, Deployments, Pods, Events); empty watches every namespace. "+
			"A namespace-scoped install grants Roles only in these namespaces.")
	zapOpts := zap.Options{Development: false}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	if err := run(opts); err != nil {
		ctrl.Log.Error(err, "manager stopped")
		os.Exit(1)
	}
}

func run(opts options) error {
	setupLog := ctrl.Log.WithName("setup")

	var tlsOpts []func(*tls.Config)
	if !opts.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{
		BindAddress:   opts.metricsAddr,
		SecureServing: opts.metricsSecure,
		TLSOpts:       tlsOpts,
	}
	if opts.metricsSecure {
		metricsOpts.FilterProvider = metricsauth.Provider
	}

	namespaces := splitNamespaces(opts.watchNamespaces)
	cfg := ctrl.GetConfigOrDie()
	cfg.QPS, cfg.Burst = float32(opts.kubeAPIQPS), opts.kubeAPIBurst
	cfg.DisableCompression = !opts.kubeAPICompression
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme.New(),
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        opts.probeAddr,
		PprofBindAddress:              opts.pprofAddr,
		LeaderElection:                opts.leaderElect,
		LeaderElectionID:              opts.leaderElectionID,
		LeaderElectionNamespace:       opts.leaderElectionNS,
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controllers.CacheOptions(namespaces...),
		Client:                        client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.ConfigMap{}}}},
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}

	if err := controllers.SetupWithManager(mgr, controllers.Options{MaxConcurrentReconciles: opts.maxConcurrentReconciles, Namespaces: namespaces}); err != nil {
		return fmt.Errorf("setting up the controllers: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding the health check: %w", err)
	}
	discovery, err := kubernetes.NewForConfig(mgr.GetConfig())
	if err != nil {
		return fmt.Errorf("creating the API server check: %w", err)
	}
	if err := mgr.AddReadyzCheck("apiserver", health.APIServer(discovery.Discovery().RESTClient(), 2*time.Second)); err != nil {
		return fmt.Errorf("adding the readiness check: %w", err)
	}

	setupLog.Info("starting the manager", "metrics", opts.metricsAddr, "metricsSecure", opts.metricsSecure,
		"leaderElection", opts.leaderElect, "watchNamespaces", namespaces)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		return fmt.Errorf("running the manager: %w", err)
	}
	return nil
}

// splitNamespaces parses --watch-namespaces: names separated by commas, blanks and duplicates dropped, nil for
// every namespace.
func splitNamespaces(v string) []string {
	var out []string
	seen := map[string]bool{}
	for _, ns := range strings.Split(v, ",") {
		ns = strings.TrimSpace(ns)
		if ns == "" || seen[ns] {
			continue
		}
		seen[ns] = true
		out = append(out, ns)
	}
	return out
}
