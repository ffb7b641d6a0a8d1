package sim

import "time"

// KubeletConfig holds the node-level timings of the simulated kubelet. The
// defaults (DefaultKubeletConfig) are those of a Kubernetes 1.36 kubelet with
// default feature gates; tests use ExactKubeletConfig to remove jitter and
// PLEG latency so that numbers can be derived by hand.
type KubeletConfig struct {
	// BackOffInitial and BackOffMax bound the CrashLoopBackOff delay, which
	// doubles on every restart (kubelet.go: initialCrashLoopBackOff 10s,
	// MaxContainerBackOff 300s).
	BackOffInitial time.Duration
	BackOffMax     time.Duration
	// BackOffReset: an exit more than this long after the last back-off update
	// starts over at BackOffInitial (kubelet.go HasExpiredFunc: 600s).
	BackOffReset time.Duration
	// PLEGPeriod is the relist period of the generic PLEG (1s). Container starts
	// and exits become visible to the kubelet at the next multiple of it after
	// the epoch. Zero makes them visible at once.
	PLEGPeriod time.Duration
	// ResyncPeriod is the periodic pod sync interval (syncFrequency, 1m).
	ResyncPeriod time.Duration
	// WorkerJitter is the pod worker's requeue jitter factor (0.5): a requeue
	// after d happens after d*(1+WorkerJitter*rand).
	WorkerJitter float64
	// StartedAt is when the kubelet started. Probe workers created less than one
	// period after it sleep a random part of the period before the first probe
	// (worker.go). The zero value means "long before the epoch".
	StartedAt time.Time
	// MinGracePeriod is the shortest grace period given to a container on kill
	// (minimumGracePeriodInSeconds, 2s).
	MinGracePeriod time.Duration
}

// DefaultKubeletConfig returns the timings of a default Kubernetes 1.36 kubelet.
func DefaultKubeletConfig() KubeletConfig {
	return KubeletConfig{
		BackOffInitial: 10 * time.Second,
		BackOffMax:     300 * time.Second,
		BackOffReset:   600 * time.Second,
		PLEGPeriod:     time.Second,
		ResyncPeriod:   time.Minute,
		WorkerJitter:   0.5,
		MinGracePeriod: 2 * time.Second,
	}
}

// ExactKubeletConfig is DefaultKubeletConfig without requeue jitter and with
// instant PLEG, for tests whose expected numbers are derived by hand.
func ExactKubeletConfig() KubeletConfig {
	c := DefaultKubeletConfig()
	c.PLEGPeriod = 0
	c.WorkerJitter = 0
	return c
}

// jitter returns d stretched by up to WorkerJitter*d, drawing from r.
func (p *PodSim) jitter(d time.Duration) time.Duration {
	f := p.w.kubelet.WorkerJitter
	if f <= 0 || d <= 0 {
		return d
	}
	return d + time.Duration(p.rng.Float64()*f*float64(d))
}
