package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// ContainerProbes is one container's probe values: as the Deployment has them, and as probe-tuner recommends
// them (nil when it recommends nothing).
type ContainerProbes struct {
	Container   string
	Current     map[probes.Kind]probes.Values
	Recommended map[probes.Kind]probes.Values
}

// Finding is one pattern reported on a workload's container.
type Finding struct {
	Container, Reason, Severity string
}

// Workload is what the per-workload gauges show of one Deployment.
type Workload struct {
	Containers []ContainerProbes
	Findings   []Finding
}

type workloadKey struct{ namespace, name string }

// WorkloadGauges exposes probetuner_probe_setting and probetuner_findings from the values each workload last
// reported. They are plain values turned into samples only when scraped: a gauge series per probe field of every
// tuned workload would cost memory and CPU to keep, and deleting a workload's series would mean a scan of all.
type WorkloadGauges struct {
	mu        sync.RWMutex
	workloads map[workloadKey]Workload
}

var (
	probeSettingDesc = prometheus.NewDesc(namespace+"_probe_setting",
		"Probe timing fields: source current (the Deployment now) or recommended (what probe-tuner recommends).",
		[]string{"namespace", "workload", "container", "probe", "field", "source"}, nil)
	findingsDesc = prometheus.NewDesc(namespace+"_findings",
		"Patterns probe-tuner will not tune blindly, currently reported (1) per workload, container and reason.",
		[]string{"namespace", "workload", "container", "reason", "severity"}, nil)
)

// Set replaces what is shown of a workload.
func (g *WorkloadGauges) Set(namespace, name string, w Workload) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.workloads == nil {
		g.workloads = map[workloadKey]Workload{}
	}
	g.workloads[workloadKey{namespace, name}] = w
}

// Forget stops showing a workload.
func (g *WorkloadGauges) Forget(namespace, name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.workloads, workloadKey{namespace, name})
}

// Describe implements prometheus.Collector.
func (g *WorkloadGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- probeSettingDesc
	ch <- findingsDesc
}

// Collect implements prometheus.Collector.
func (g *WorkloadGauges) Collect(ch chan<- prometheus.Metric) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	for k, w := range g.workloads {
		for _, c := range w.Containers {
			collectProbes(ch, k, c.Container, c.Current, "current")
			collectProbes(ch, k, c.Container, c.Recommended, "recommended")
		}
		for _, f := range w.Findings {
			ch <- prometheus.MustNewConstMetric(findingsDesc, prometheus.GaugeValue, 1, k.namespace, k.name, f.Container, f.Reason, f.Severity)
		}
	}
}

func collectProbes(ch chan<- prometheus.Metric, k workloadKey, container string, set map[probes.Kind]probes.Values, source string) {
	for kind, v := range set {
		for _, field := range probes.Fields {
			val, _ := v.Field(field)
			ch <- prometheus.MustNewConstMetric(probeSettingDesc, prometheus.GaugeValue, float64(val), k.namespace, k.name, container, string(kind), string(field), source)
		}
	}
}
