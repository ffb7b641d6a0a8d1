package simkubelet

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Driver is a simulated kubelet for a set of fake nodes, plus a minimal scheduler. Create it with New and
// start it with Run.
type Driver struct {
	cfg Config
	log logr.Logger

	client      kubernetes.Interface // pods and bindings, rate limited by QPS/Burst
	eventClient kubernetes.Interface // the scheduler's events, rate limited by EventQPS/EventBurst
	// nodeEventClients has one client per node, each rate limited by EventQPS/EventBurst as a kubelet's is.
	nodeEventClients map[string]kubernetes.Interface
	heartbeatClient  kubernetes.Interface // nodes and leases, not rate limited

	nodes      []*node
	nodeByName map[string]*node
	load       *nodeLoad
	inbox      *inbox
	writer     *statusWriter
	binder     *binder // nil when scheduling is disabled
	events     *eventRecorders

	boundFactory   informers.SharedInformerFactory
	pendingFactory informers.SharedInformerFactory
	podLister      corelisters.PodLister
	synced         []cache.InformerSynced

	stats     stats
	ready     chan struct{}
	metricsLn net.Listener
}

// New creates a driver that talks to the API server of restConfig.
func New(restConfig *rest.Config, c Config) (*Driver, error) {
	c = c.withDefaults()
	if err := c.validate(time.Now()); err != nil {
		return nil, err
	}
	d := &Driver{
		cfg:        c,
		log:        c.Logger,
		nodes:      makeNodes(c),
		nodeByName: map[string]*node{},
		load:       newNodeLoad(),
		inbox:      newInbox(),
		ready:      make(chan struct{}),
	}
	d.stats.lagHist, d.stats.eventLagHist = newLagHistogram(), newEventLagHistogram()
	for _, n := range d.nodes {
		d.nodeByName[n.name] = n
	}
	var err error
	if d.client, err = newClient(restConfig, c.QPS, c.Burst); err != nil {
		return nil, err
	}
	if d.eventClient, err = newClient(restConfig, c.EventQPS, c.EventBurst); err != nil {
		return nil, err
	}
	d.nodeEventClients = make(map[string]kubernetes.Interface, len(d.nodes))
	for _, n := range d.nodes {
		if d.nodeEventClients[n.name], err = newClient(restConfig, c.EventQPS, c.EventBurst); err != nil {
			return nil, err
		}
	}
	if d.heartbeatClient, err = newClient(restConfig, -1, 0); err != nil {
		return nil, err
	}
	d.writer = newStatusWriter(d)
	if !c.DisableScheduling {
		d.binder = newBinder(d)
	}
	if err := d.setupInformers(); err != nil {
		return nil, err
	}
	return d, nil
}

// newClient returns a protobuf clientset limited to qps (negative: unlimited) with the given burst.
func newClient(base *rest.Config, qps float32, burst int) (kubernetes.Interface, error) {
	cfg := rest.CopyConfig(base)
	cfg.QPS, cfg.Burst = qps, burst
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.UserAgent = "simkubelet/" + KubeletVersion + " (probe-tuner)"
	return kubernetes.NewForConfig(cfg)
}

// Nodes returns the names of the driver's nodes.
func (d *Driver) Nodes() []string {
	out := make([]string, len(d.nodes))
	for i, n := range d.nodes {
		out[i] = n.name
	}
	return out
}

// Ready is closed once the nodes are registered, the caches have synced and pods are being run.
func (d *Driver) Ready() <-chan struct{} { return d.ready }

// Stats returns the driver's counters.
func (d *Driver) Stats() Stats {
	s := d.stats.snapshot()
	s.StatusQueue = d.writer.pendingCount()
	return s
}

// MetricsAddr returns the address /metrics is served on (useful with port 0), or "".
func (d *Driver) MetricsAddr() string {
	if d.metricsLn == nil {
		return ""
	}
	return d.metricsLn.Addr().String()
}

// Run registers the nodes and runs the kubelet and scheduler loops until ctx ends. It returns nil after a
// clean shutdown, or the error that prevented the start.
func (d *Driver) Run(ctx context.Context) error {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if d.cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", d.cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("metrics endpoint: %w", err)
		}
		d.metricsLn = ln
	}
	d.events = newEventRecorders(ctx, d.eventClient, d.nodeEventClients, d.cfg.SchedulerName, d.stats.observeEventLag)
	if d.binder != nil {
		d.binder.recorder = d.events.scheduler
	}
	var wg sync.WaitGroup
	defer func() {
		cancel()
		d.boundFactory.Shutdown()
		if d.pendingFactory != nil {
			d.pendingFactory.Shutdown()
		}
		wg.Wait()
		d.events.shutdown()
	}()
	if d.metricsLn != nil {
		wg.Go(func() { d.serveMetrics(ctx, d.metricsLn) })
	}
	if err := d.registerNodes(ctx); err != nil {
		return err
	}
	wg.Go(func() { d.runHeartbeats(ctx) })

	d.boundFactory.Start(ctx.Done())
	if d.pendingFactory != nil {
		d.pendingFactory.Start(ctx.Done())
	}
	if !cache.WaitForCacheSync(ctx.Done(), d.synced...) {
		return fmt.Errorf("waiting for the pod caches: %w", context.Cause(ctx))
	}
	loop := newWorldLoop(d, start)
	wg.Go(func() { d.writer.run(ctx, d.cfg.StatusWorkers) })
	if d.binder != nil {
		wg.Go(func() { d.binder.run(ctx, d.cfg.BindWorkers) })
	}
	if d.cfg.StatsInterval > 0 {
		wg.Go(func() { d.runStatsLog(ctx, d.cfg.StatsInterval) })
	}
	close(d.ready)
	d.log.Info("Simulated kubelet running", "nodes", len(d.nodes), "scheduling", d.binder != nil,
		"tick", d.cfg.Tick.String(), "epoch", loop.w.Epoch().UTC().Format(time.RFC3339Nano), "seed", d.cfg.Seed,
		"qps", d.cfg.QPS, "burst", d.cfg.Burst, "metrics", d.MetricsAddr())
	d.runWorld(ctx, loop)
	d.log.Info("Simulated kubelet stopping", "pods", d.stats.pods.Load())
	return nil
}
