package simkubelet

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"

	"github.com/probetuner/probe-tuner/test/harness/sim"
)

// Config holds the settings of a simulated kubelet. The zero value of a field means its default (see
// Defaults), except for Seed, Epoch, Kubelet, DisableScheduling, MetricsAddr and Logger, whose zero values
// are meaningful.
type Config struct {
	// Nodes is the number of fake nodes to register, named NodePrefix+1 .. NodePrefix+Nodes.
	Nodes      int
	NodePrefix string

	// Tick is how often the simulation is advanced to the wall clock.
	Tick time.Duration
	// Epoch is the world's time zero (outage windows and startup growth are measured from it). Zero means the
	// time Run starts. It must not be in the future.
	Epoch time.Time
	// Seed seeds the random streams of the simulated kubelet and apps (the command's default is 1).
	Seed uint64
	// Kubelet overrides the simulated kubelet's timings; nil means sim.DefaultKubeletConfig(). A zero StartedAt is
	// set to the time Run starts (probe workers created in the first period get a random first delay, as after
	// a kubelet restart).
	Kubelet *sim.KubeletConfig

	// QPS and Burst limit the requests of the pod client (bindings, status writes, deletions).
	QPS   float32
	Burst int
	// EventQPS and EventBurst limit the event client (the kubelet's eventRecordQPS and eventBurst).
	EventQPS   float32
	EventBurst int
	// StatusWorkers write pod statuses in parallel (each pod is written by one worker at a time).
	StatusWorkers int

	// The driver binds pending pods of SchedulerName to its nodes, as a scheduler would, with BindWorkers
	// workers. DisableScheduling turns that off (another scheduler, or another simulated kubelet, binds them).
	DisableScheduling bool
	SchedulerName     string
	BindWorkers       int

	// LeaseDuration is the node lease's leaseDurationSeconds; the lease is renewed every quarter of it, like
	// the kubelet's (40s and 10s by default).
	LeaseDuration time.Duration
	// NodeStatusUpdateFrequency is how often the node status is computed; NodeStatusReportFrequency is how often
	// it is written although nothing changed (the kubelet's 10s and 5m).
	NodeStatusUpdateFrequency time.Duration
	NodeStatusReportFrequency time.Duration

	// StatsInterval is the interval of the "stats" log line; negative disables it.
	StatsInterval time.Duration
	// MetricsAddr, if set, serves Prometheus metrics on http://MetricsAddr/metrics.
	MetricsAddr string

	// Logger receives the driver's structured logs; the zero value discards them.
	Logger logr.Logger
}

// Defaults returns the default settings, those of the simkubelet command.
func Defaults() Config {
	return Config{
		Nodes:                     2,
		NodePrefix:                "sim-node-",
		Tick:                      200 * time.Millisecond,
		Seed:                      1,
		QPS:                       100,
		Burst:                     200,
		EventQPS:                  50,
		EventBurst:                100,
		StatusWorkers:             8,
		SchedulerName:             "default-scheduler",
		BindWorkers:               4,
		LeaseDuration:             40 * time.Second,
		NodeStatusUpdateFrequency: 10 * time.Second,
		NodeStatusReportFrequency: 5 * time.Minute,
		StatsInterval:             30 * time.Second,
	}
}

// withDefaults fills the zero fields from Defaults (cmp.Or keeps a field unless it is its type's zero value). The
// fields whose zero value means something (see Config) are left alone.
func (c Config) withDefaults() Config {
	d := Defaults()
	c.Nodes = cmp.Or(c.Nodes, d.Nodes)
	c.NodePrefix = cmp.Or(c.NodePrefix, d.NodePrefix)
	c.Tick = cmp.Or(c.Tick, d.Tick)
	c.QPS = cmp.Or(c.QPS, d.QPS)
	c.Burst = cmp.Or(c.Burst, d.Burst)
	c.EventQPS = cmp.Or(c.EventQPS, d.EventQPS)
	c.EventBurst = cmp.Or(c.EventBurst, d.EventBurst)
	c.StatusWorkers = cmp.Or(c.StatusWorkers, d.StatusWorkers)
	c.SchedulerName = cmp.Or(c.SchedulerName, d.SchedulerName)
	c.BindWorkers = cmp.Or(c.BindWorkers, d.BindWorkers)
	c.LeaseDuration = cmp.Or(c.LeaseDuration, d.LeaseDuration)
	c.NodeStatusUpdateFrequency = cmp.Or(c.NodeStatusUpdateFrequency, d.NodeStatusUpdateFrequency)
	c.NodeStatusReportFrequency = cmp.Or(c.NodeStatusReportFrequency, d.NodeStatusReportFrequency)
	c.StatsInterval = cmp.Or(c.StatsInterval, d.StatsInterval)
	return c
}

// Validate reports the settings (with defaults filled in) that New would reject.
func (c Config) Validate() error { return c.withDefaults().validate(time.Now()) }

// validate rejects settings the driver cannot run with.
func (c Config) validate(now time.Time) error {
	var errs []error
	if c.Nodes < 1 {
		errs = append(errs, fmt.Errorf("nodes must be at least 1, got %d", c.Nodes))
	}
	if c.Nodes > 60000 {
		errs = append(errs, fmt.Errorf("nodes must be at most 60000, got %d", c.Nodes))
	}
	if c.Tick < 10*time.Millisecond || c.Tick > 5*time.Second {
		errs = append(errs, fmt.Errorf("tick must be between 10ms and 5s, got %s", c.Tick))
	}
	if !c.Epoch.IsZero() && c.Epoch.After(now) {
		errs = append(errs, fmt.Errorf("epoch %s is in the future", c.Epoch.Format(time.RFC3339)))
	}
	if c.QPS < 0 || c.Burst < 1 || c.EventQPS < 0 || c.EventBurst < 1 {
		errs = append(errs, errors.New("QPS must not be negative and bursts must be at least 1"))
	}
	if c.StatusWorkers < 1 || c.BindWorkers < 1 {
		errs = append(errs, errors.New("status and bind workers must be at least 1"))
	}
	if c.LeaseDuration < 4*time.Second {
		errs = append(errs, fmt.Errorf("lease duration must be at least 4s, got %s", c.LeaseDuration))
	}
	if c.NodeStatusUpdateFrequency <= 0 || c.NodeStatusReportFrequency < c.NodeStatusUpdateFrequency {
		errs = append(errs, errors.New("node status update frequency must be positive and not above the report frequency"))
	}
	return errors.Join(errs...)
}
