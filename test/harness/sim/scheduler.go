package sim

import "time"

// timerKind says what a timer does when it fires.
type timerKind uint8

const (
	// tkProbe runs one doProbe of a probe worker (a ticker tick or a manual trigger).
	tkProbe timerKind = iota
	// tkProbeDone delivers the result of a probe whose answer took time.
	tkProbeDone
	// tkSyncNow runs a pod sync requested by an event (PLEG, probe result, deletion).
	tkSyncNow
	// tkResync runs the periodic (or back-off retry) pod sync.
	tkResync
	// tkRelist is the PLEG relist that makes runtime changes visible to the kubelet.
	tkRelist
	// tkStarted completes a container start (after pull/create latency).
	tkStarted
	// tkExit makes a container instance exit (crash, OOM, SIGTERM or SIGKILL).
	tkExit
	// tkDelete marks a pod deleted (graceful deletion requested through the API).
	tkDelete
	// tkHang makes the running instance of a container hang (injected hang).
	tkHang
	// tkGraceOver ends a terminating pod's grace period: sidecars still waiting for their turn are stopped.
	tkGraceOver
)

// timer is one scheduled action. Timers are plain values in a binary heap so that
// scheduling allocates nothing; stale timers are skipped by comparing gen with the
// generation counter of their target (lazy cancellation).
type timer struct {
	at   time.Duration // offset from the world epoch
	seq  uint64        // insertion order, breaks ties deterministically
	pod  *PodSim
	gen  uint64
	kind timerKind
	ci   int16 // container index
	pt   int8  // probe type
}

// timerHeap is a 4-ary min-heap ordered by (at, seq): shallower than a binary
// heap, which makes pops (the hot path) cheaper. Sifting moves a hole instead
// of swapping.
type timerHeap []timer

// before reports whether a fires before b.
func before(a, b *timer) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

func (h *timerHeap) push(t timer) {
	*h = append(*h, t)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !before(&t, &s[p]) {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = t
}

func (h *timerHeap) pop() timer {
	s := *h
	top := s[0]
	n := len(s) - 1
	x := s[n]
	s[n] = timer{}
	s = s[:n]
	*h = s
	if n == 0 {
		return top
	}
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		end := min(c+4, n)
		for k := c + 1; k < end; k++ {
			if before(&s[k], &s[m]) {
				m = k
			}
		}
		if !before(&s[m], &x) {
			break
		}
		s[i] = s[m]
		i = m
	}
	s[i] = x
	return top
}

// schedule queues a timer; times in the past are clamped to now.
func (w *World) schedule(t timer) {
	if t.at < w.now {
		t.at = w.now
	}
	w.seq++
	t.seq = w.seq
	w.timers.push(t)
}
