// Command simkubelet is a stand-in kubelet (and scheduler) for a local control plane without nodes: it registers
// fake nodes, binds pending pods to them, runs the pods in probe-tuner's kubelet simulator in real time, and
// writes their statuses, events and deletions to the API server as a kubelet would.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/probetuner/probe-tuner/test/harness/simkubelet"
)

const usage = `Usage: simkubelet [flags]

simkubelet is the simulated kubelet of probe-tuner's local cluster. It registers --nodes fake Nodes
(<node-prefix>1..N, Ready, with a Lease renewed every quarter of --node-lease-duration), binds pending
pods of --scheduler-name to the least-loaded of them, and runs every pod bound to them in the kubelet
simulator (internal/sim) in real time: probes, kills, restarts and CrashLoopBackOff follow the pod's
probes and the app behaviour in its sim.probetuner.io/* annotations. Pod statuses go through the status
subresource, kubelet events through client-go's event recorder, and terminated pods are deleted like a
kubelet's status manager does. See docs/simulator.md.

Flags:
`

func main() {
	fs := flag.NewFlagSet("simkubelet", flag.ExitOnError)
	def := simkubelet.Defaults()
	kubeconfig := fs.String("kubeconfig", os.Getenv("KUBECONFIG"), "Path to the kubeconfig of the API server (default $KUBECONFIG, else in-cluster).")
	nodes := fs.Int("nodes", def.Nodes, "Number of fake nodes to register.")
	prefix := fs.String("node-prefix", def.NodePrefix, "Node names are this prefix followed by 1..N.")
	tick := fs.Duration("tick", def.Tick, "How often the simulation is advanced to the wall clock (10ms-5s).")
	epoch := fs.String("epoch", "", "Time zero of the simulated world (RFC3339), from which dependency-outage windows and startup growth\n"+
		"are measured; give several runs the same epoch to share outage windows. Default: the process start.")
	seed := fs.Uint64("seed", def.Seed, "Seed of the simulator's random streams.")
	qps := fs.Float64("kube-api-qps", float64(def.QPS), "Queries per second to the API server for bindings, pod status writes and deletions.")
	burst := fs.Int("kube-api-burst", def.Burst, "Burst of --kube-api-qps.")
	eventQPS := fs.Float64("event-qps", float64(def.EventQPS), "Event writes per second (the kubelet's eventRecordQPS).")
	eventBurst := fs.Int("event-burst", def.EventBurst, "Burst of --event-qps (the kubelet's eventBurst).")
	statusWorkers := fs.Int("status-workers", def.StatusWorkers, "Pod status writers working in parallel.")
	schedule := fs.Bool("schedule", true, "Bind pending pods of --scheduler-name to our nodes (false: another scheduler does).")
	schedulerName := fs.String("scheduler-name", def.SchedulerName, "spec.schedulerName of the pods to bind.")
	bindWorkers := fs.Int("bind-workers", def.BindWorkers, "Bindings in parallel.")
	leaseDuration := fs.Duration("node-lease-duration", def.LeaseDuration, "leaseDurationSeconds of the node Leases; renewed every quarter of it.")
	statusUpdate := fs.Duration("node-status-update-frequency", def.NodeStatusUpdateFrequency, "How often the node status is computed.")
	statusReport := fs.Duration("node-status-report-frequency", def.NodeStatusReportFrequency, "How often the node status is written when nothing changed.")
	statsInterval := fs.Duration("stats-interval", def.StatsInterval, "Interval of the Stats log line (pods, writes/s, status-write lag); 0 disables it.")
	metricsAddr := fs.String("metrics-bind-address", "", "Serve Prometheus metrics on http://ADDR/metrics (e.g. 127.0.0.1:10255); empty disables.")
	klogFlags := flag.NewFlagSet("klog", flag.ExitOnError)
	klog.InitFlags(klogFlags)
	for _, name := range []string{"v", "vmodule"} {
		fs.Var(klogFlags.Lookup(name).Value, name, klogFlags.Lookup(name).Usage)
	}
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "simkubelet: unexpected arguments %q\n", fs.Args())
		os.Exit(2)
	}

	cfg := simkubelet.Config{
		Nodes:                     *nodes,
		NodePrefix:                *prefix,
		Tick:                      *tick,
		Seed:                      *seed,
		QPS:                       float32(*qps),
		Burst:                     *burst,
		EventQPS:                  float32(*eventQPS),
		EventBurst:                *eventBurst,
		StatusWorkers:             *statusWorkers,
		DisableScheduling:         !*schedule,
		SchedulerName:             *schedulerName,
		BindWorkers:               *bindWorkers,
		LeaseDuration:             *leaseDuration,
		NodeStatusUpdateFrequency: *statusUpdate,
		NodeStatusReportFrequency: *statusReport,
		StatsInterval:             *statsInterval,
		MetricsAddr:               *metricsAddr,
		Logger:                    klog.Background().WithName("simkubelet"),
	}
	if cfg.StatsInterval == 0 {
		cfg.StatsInterval = -1
	}
	if *epoch != "" {
		t, err := time.Parse(time.RFC3339Nano, *epoch)
		if err != nil {
			fmt.Fprintf(os.Stderr, "simkubelet: --epoch %q: not an RFC3339 time\n", *epoch)
			os.Exit(2)
		}
		cfg.Epoch = t
	}
	if *nodes < 1 {
		fmt.Fprintf(os.Stderr, "simkubelet: --nodes must be at least 1, got %d\n", *nodes)
		os.Exit(2)
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "simkubelet: %v\n", err)
		os.Exit(2)
	}
	if err := run(*kubeconfig, cfg); err != nil {
		klog.ErrorS(err, "simkubelet failed")
		klog.Flush()
		os.Exit(1)
	}
	klog.Flush()
}

func run(kubeconfig string, cfg simkubelet.Config) error {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	restConfig, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return fmt.Errorf("loading the kubeconfig: %w", err)
	}
	d, err := simkubelet.New(restConfig, cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return d.Run(ctx)
}
