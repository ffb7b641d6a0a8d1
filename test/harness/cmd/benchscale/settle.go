package main

import (
	"math"
	"time"
)

const (
	// settledLag is how late the simulated kubelet's status writes and Events may reach the API server (p99 over
	// an interval) for the cluster to count as keeping up: about what a kubelet manages on an unloaded cluster.
	settledLag = 2.0
	// settledPending is how many pod status writes may be pending.
	settledPending = 10
	// settleInterval is how often settling is checked; settled means two intervals in a row.
	settleInterval = 5 * time.Second
	// settleTimeout is how long the benchmark waits for the cluster to settle before it measures anyway.
	settleTimeout = 5 * time.Minute
)

// Metrics of the simulated kubelet the benchmark reads.
const (
	simStatusLag   = "simkubelet_status_write_lag_seconds"
	simEventLag    = "simkubelet_event_write_lag_seconds"
	simStatusQueue = "simkubelet_status_queue_depth"
)

// settle waits, at most timeout, until the simulated cluster keeps up: few status writes pending, and the
// status writes and kubelet Events of the last interval reaching the API server within settledLag, twice in a
// row. Right after thousands of pods started they are tens of seconds late on two cores (each node's Events
// are written one at a time, behind its pods' Scheduled, Pulled, Created and Started), and kills made then
// measure the simulator's backlog, not the operator: in one run at 1,000 Deployments the kills' Events
// reached the API server 34 s late (p50). It returns how long it waited and whether the cluster settled.
func settle(simMetrics string, timeout time.Duration) (time.Duration, bool) {
	begin := time.Now()
	prev := scrape(simMetrics)
	calm := 0
	for time.Since(begin) < timeout {
		time.Sleep(settleInterval)
		cur := scrape(simMetrics)
		statusP99, _ := deltaQuantile(prev, cur, simStatusLag, 0.99)
		eventP99, _ := deltaQuantile(prev, cur, simEventLag, 0.99)
		pending := sumMetric(cur, simStatusQueue)
		prev = cur
		if pending <= settledPending && statusP99 <= settledLag && eventP99 <= settledLag {
			calm++
		} else {
			calm = 0
		}
		if calm == 2 {
			return time.Since(begin), true
		}
		logf("settling: %.0f status writes pending, status writes %.1f s and Events %.1f s late (p99 of the last %s)",
			pending, statusP99, eventP99, settleInterval)
	}
	return time.Since(begin), false
}

// deltaQuantile estimates the q-quantile of what a histogram observed between two scrapes; false when it
// observed nothing.
func deltaQuantile(before, after []string, metric string, q float64) (float64, bool) {
	bs := deltaBuckets(before, after, metric)
	if len(bs) == 0 || bs[len(bs)-1].n <= 0 {
		return 0, false
	}
	return bucketQuantile(bs, q), true
}

// deltaBuckets returns a histogram's buckets as observed between two scrapes.
func deltaBuckets(before, after []string, metric string) []bucket {
	was := map[float64]float64{}
	for _, b := range histogramBuckets(before, metric, "") {
		was[b.le] = b.n
	}
	bs := histogramBuckets(after, metric, "")
	for i := range bs {
		bs[i].n = math.Max(0, bs[i].n-was[bs[i].le])
	}
	return bs
}
