package simkubelet

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats is a snapshot of the driver's counters (cumulative since Run started) and gauges.
type Stats struct {
	Pods          int64 // pods in the simulated world
	StatusQueue   int   // pods with a status write pending
	StatusWrites  int64 // successful pod status writes
	StatusSkipped int64 // status changes that needed no write (the API server already had them)
	Conflicts     int64 // status writes that hit a conflict and were retried
	WriteErrors   int64 // failed status writes (retried with back-off)
	Events        int64 // kubelet events handed to the event recorder
	Binds         int64 // pods bound to a node
	Deletes       int64 // terminated pods deleted from the API server
	LeaseRenewals int64
	NodeStatuses  int64 // node status writes
	// LagCount, LagSum and LagMax describe the status-write lag: from the simulated instant of a change to the
	// end of the write that carried it.
	LagCount int64
	LagSum   time.Duration
	LagMax   time.Duration
	// TickMax is the longest tick (advancing the world and handing over its output).
	TickMax time.Duration
}

// stats holds the live counters.
type stats struct {
	pods             atomic.Int64
	statusWrites     atomic.Int64
	statusSkipped    atomic.Int64
	conflicts        atomic.Int64
	writeErrors      atomic.Int64
	events           atomic.Int64
	binds            atomic.Int64
	bindErrors       atomic.Int64
	deletes          atomic.Int64
	leaseRenewals    atomic.Int64
	nodeStatusWrites atomic.Int64

	lagHist      prometheus.Histogram // may be nil
	eventLagHist prometheus.Histogram // may be nil

	mu       sync.Mutex
	lagCount int64
	lagSum   time.Duration
	lagMax   time.Duration
	window   []time.Duration // lags since the last stats line, for its percentiles
	eventWin []time.Duration // Event-write lags since the last stats line
	tickMax  time.Duration
	winTick  time.Duration
}

// observeLag records the lag of one status write.
func (s *stats) observeLag(d time.Duration) {
	if s.lagHist != nil {
		s.lagHist.Observe(d.Seconds())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lagCount++
	s.lagSum += d
	s.lagMax = max(s.lagMax, d)
	if len(s.window) < 1<<16 {
		s.window = append(s.window, d)
	}
}

// observeEventLag records the lag of one Event write.
func (s *stats) observeEventLag(d time.Duration) {
	if s.eventLagHist != nil {
		s.eventLagHist.Observe(d.Seconds())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.eventWin) < 1<<16 {
		s.eventWin = append(s.eventWin, d)
	}
}

// takeEventWindow returns the 99th percentile of the Event-write lags since the previous call, and starts a new
// window.
func (s *stats) takeEventWindow() time.Duration {
	s.mu.Lock()
	w := s.eventWin
	s.eventWin = nil
	s.mu.Unlock()
	if len(w) == 0 {
		return 0
	}
	slices.Sort(w)
	return w[min(len(w)-1, int(0.99*float64(len(w))))]
}

// observeTick records the duration of one tick.
func (s *stats) observeTick(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickMax = max(s.tickMax, d)
	s.winTick = max(s.winTick, d)
}

// snapshot returns the counters.
func (s *stats) snapshot() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Pods:          s.pods.Load(),
		StatusWrites:  s.statusWrites.Load(),
		StatusSkipped: s.statusSkipped.Load(),
		Conflicts:     s.conflicts.Load(),
		WriteErrors:   s.writeErrors.Load(),
		Events:        s.events.Load(),
		Binds:         s.binds.Load(),
		Deletes:       s.deletes.Load(),
		LeaseRenewals: s.leaseRenewals.Load(),
		NodeStatuses:  s.nodeStatusWrites.Load(),
		LagCount:      s.lagCount,
		LagSum:        s.lagSum,
		LagMax:        s.lagMax,
		TickMax:       s.tickMax,
	}
}

// window returns the 50th and 99th percentile and the maximum of the lags, and the longest tick, since the
// previous call, and starts a new window.
func (s *stats) takeWindow() (p50, p99, maxLag, maxTick time.Duration) {
	s.mu.Lock()
	w := s.window
	s.window = nil
	maxTick = s.winTick
	s.winTick = 0
	s.mu.Unlock()
	if len(w) == 0 {
		return 0, 0, 0, maxTick
	}
	slices.Sort(w)
	at := func(q float64) time.Duration { return w[min(len(w)-1, int(q*float64(len(w))))] }
	return at(0.50), at(0.99), w[len(w)-1], maxTick
}
