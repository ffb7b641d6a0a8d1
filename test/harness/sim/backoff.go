package sim

import "time"

// backoffEntry is the kubelet's CrashLoopBackOff entry of one container
// (client-go flowcontrol.Backoff as configured in kubelet.go: no jitter, and
// an entry expires when an exit comes more than BackOffReset after its last
// update).
type backoffEntry struct {
	exists     bool
	delay      time.Duration
	lastUpdate time.Duration
}

func (b *backoffEntry) expired(w *World, eventTime time.Duration) bool {
	return eventTime-b.lastUpdate > w.kubelet.BackOffReset
}

// inBackOff reports whether a restart after an exit at eventTime must still
// wait, and until when (IsInBackOffSince).
func (b *backoffEntry) inBackOff(w *World, eventTime time.Duration) (bool, time.Duration) {
	if !b.exists || b.expired(w, eventTime) {
		return false, 0
	}
	until := eventTime + b.delay
	return w.now < until, until
}

// next records a restart: the first one (or the first after expiry) sets the
// initial delay, later ones double it up to the maximum (Next).
func (b *backoffEntry) next(w *World, eventTime time.Duration) {
	k := w.kubelet
	if !b.exists || b.expired(w, eventTime) {
		b.exists = true
		b.delay = k.BackOffInitial
	} else {
		b.delay = min(2*b.delay, k.BackOffMax)
	}
	b.lastUpdate = w.now
}
