// Package metrics defines probe-tuner's Prometheus metrics, registered on controller-runtime's registry so that
// the manager's metrics endpoint serves them. Labels name workloads (namespace, workload, container, probe),
// never pods, so cardinality follows the number of tuned containers.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

const namespace = "probetuner"

var (
	// StartupDuration observes each completed container start (start to started or ready).
	StartupDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "startup_duration_seconds",
		Help:    "Observed container startup durations: from the container's start to started (with a startup probe) or ready.",
		Buckets: []float64{1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600},
	}, []string{"namespace", "workload", "container"})

	// Restarts counts observed container restarts by cause.
	Restarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "container_restarts_total",
		Help: "Observed container restarts by cause: liveness, startup (probe kills), oom, error (application crash), completed.",
	}, []string{"namespace", "workload", "container", "cause"})

	// ReadyTransitions counts Ready/NotReady switches of running containers after their first Ready.
	ReadyTransitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "readiness_transitions_total",
		Help: "Ready/NotReady transitions of running containers after their first Ready (flapping).",
	}, []string{"namespace", "workload", "container"})

	// Adjustments counts probe field changes decided, by what was done with them.
	Adjustments = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "adjustments_total",
		Help: "Probe field changes decided: action applied (written, Auto mode) or recommended (Recommend mode, or held back), direction up, down, added or removed.",
	}, []string{"namespace", "workload", "container", "probe", "field", "direction", "action"})

	// Reverts counts changes undone because verification found they did not help.
	Reverts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "reverts_total",
		Help: "Changes reverted because probe-caused restarts did not fall or availability got worse.",
	}, []string{"namespace", "workload"})

	// WorkloadsShown holds the per-workload probe settings and findings, exposed as gauges when scraped.
	WorkloadsShown = &WorkloadGauges{}

	// SelectedWorkloads is how many Deployments each policy selects.
	SelectedWorkloads = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "selected_workloads",
		Help: "Deployments selected by each ProbePolicy.",
	}, []string{"namespace", "policy", "mode"})
)

func init() {
	metrics.Registry.MustRegister(StartupDuration, Restarts, ReadyTransitions, Adjustments, Reverts, SelectedWorkloads, WorkloadsShown)
}
