package simkubelet

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newRegistry exposes the driver's counters as Prometheus metrics (prefix simkubelet_).
func (d *Driver) newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	counter := func(name, help string, v *atomic.Int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "simkubelet_" + name, Help: help},
			func() float64 { return float64(v.Load()) })
	}
	s := &d.stats
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "simkubelet_pods", Help: "Pods in the simulated world."},
			func() float64 { return float64(s.pods.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "simkubelet_nodes", Help: "Nodes served."},
			func() float64 { return float64(len(d.nodes)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "simkubelet_status_queue_depth", Help: "Pods with a status write pending."},
			func() float64 { return float64(d.writer.pendingCount()) }),
		counter("status_writes_total", "Successful pod status writes.", &s.statusWrites),
		counter("status_writes_skipped_total", "Status changes the API server already had.", &s.statusSkipped),
		counter("status_write_conflicts_total", "Status writes retried after a conflict.", &s.conflicts),
		counter("status_write_errors_total", "Failed status writes (retried with back-off).", &s.writeErrors),
		counter("events_total", "Kubelet events handed to the event recorder.", &s.events),
		counter("binds_total", "Pods bound to a node.", &s.binds),
		counter("bind_errors_total", "Failed bindings.", &s.bindErrors),
		counter("pod_deletes_total", "Terminated pods deleted from the API server.", &s.deletes),
		counter("lease_renewals_total", "Node lease renewals.", &s.leaseRenewals),
		counter("node_status_writes_total", "Node status writes.", &s.nodeStatusWrites),
		s.lagHist,
		s.eventLagHist,
	)
	return reg
}

// newLagHistogram is the status-write lag histogram: from the simulated change to the end of its write.
func newLagHistogram() prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "simkubelet_status_write_lag_seconds",
		Help:    "Time from a simulated pod status change to the end of the API write that carried it.",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
	})
}

// newEventLagHistogram is the Event-write lag histogram: from the recorder's timestamp to the end of the write.
func newEventLagHistogram() prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "simkubelet_event_write_lag_seconds",
		Help:    "Time from the moment the event recorder made (or, aggregated, last counted) a kubelet Event to the end of its API write.",
		Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
	})
}

// serveMetrics serves /metrics on addr until ctx ends.
func (d *Driver) serveMetrics(ctx context.Context, ln net.Listener) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(d.newRegistry(), promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		d.log.Error(err, "Metrics server stopped")
	}
}

// runStatsLog writes one "Stats" line per interval: pods, write and event rates, the status queue and the
// status-write lag percentiles of the interval.
func (d *Driver) runStatsLog(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	prev, prevAt := d.stats.snapshot(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			cur := d.stats.snapshot()
			secs := now.Sub(prevAt).Seconds()
			p50, p99, lagMax, tickMax := d.stats.takeWindow()
			eventP99 := d.stats.takeEventWindow()
			d.log.Info("Stats",
				"pods", cur.Pods,
				"statusWritesPerSec", round1(float64(cur.StatusWrites-prev.StatusWrites)/secs),
				"eventsPerSec", round1(float64(cur.Events-prev.Events)/secs),
				"bindsPerSec", round1(float64(cur.Binds-prev.Binds)/secs),
				"deletes", cur.Deletes-prev.Deletes,
				"statusQueue", d.writer.pendingCount(),
				"conflicts", cur.Conflicts-prev.Conflicts,
				"writeErrors", cur.WriteErrors-prev.WriteErrors,
				"lagP50", p50.Round(time.Millisecond).String(),
				"lagP99", p99.Round(time.Millisecond).String(),
				"lagMax", lagMax.Round(time.Millisecond).String(),
				"eventLagP99", eventP99.Round(time.Millisecond).String(),
				"tickMax", tickMax.Round(time.Millisecond).String())
			prev, prevAt = cur, now
		}
	}
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
