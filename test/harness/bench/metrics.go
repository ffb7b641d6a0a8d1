package bench

import "math"

// Metrics are the outcome of one run of a scenario.
type Metrics struct {
	// ProbeRestarts counts needless probe-caused restarts: liveness and startup kills of containers that were
	// not hung.
	ProbeRestarts int `json:"probeRestarts"`
	// UnavailableSeconds integrates, over the run, how many of the wanted replicas were not serving: replicas
	// minus the pods that are Ready, not terminating and not hung by an injected hang, when positive
	// (replica-seconds).
	UnavailableSeconds float64 `json:"unavailableSeconds"`
	// DetectionSeconds sums, over the hangs, the time from the hang to the probe kill that ended it; a hang that
	// no probe detected counts until it ended otherwise (pod deleted, container restarted) or the run ended.
	DetectionSeconds float64 `json:"detectionSeconds"`
	// Rollouts counts the pod-template changes probe-tuner made (applies and reverts).
	Rollouts int `json:"rollouts"`
	// Reversals counts changes that moved a probe field back in the direction it came from.
	Reversals int `json:"reversals"`

	// ProbeKills counts every liveness and startup kill; HangKills those that ended a hang.
	ProbeKills int `json:"probeKills"`
	HangKills  int `json:"hangKills"`
	// Hangs counts hangs; UndetectedHangs those no probe ended.
	Hangs           int `json:"hangs"`
	UndetectedHangs int `json:"undetectedHangs"`
	// OtherRestarts counts OOM kills and application exits: restarts probes did not cause.
	OtherRestarts int `json:"otherRestarts"`
	// Deploys counts the scenario's own releases.
	Deploys int `json:"deploys"`
	// LastChangeSeconds is when probe-tuner made its last change (seconds from the start); null without one.
	LastChangeSeconds *float64 `json:"lastChangeSeconds"`
	// Cost is the weighted cost the oracle minimises (see Weights).
	Cost float64 `json:"cost"`
}

// Cost weights: one needless probe-caused restart, one unavailable replica-second, one second of a hang going
// undetected. docs/benchmark.md explains the choice.
const (
	WeightRestart     = 60.0
	WeightUnavailable = 1.0
	WeightDetection   = 2.0
)

func cost(m Metrics) float64 {
	return WeightRestart*float64(m.ProbeRestarts) + WeightUnavailable*m.UnavailableSeconds + WeightDetection*m.DetectionSeconds
}

// round keeps one decimal of the float metrics, so that the output is stable and readable.
func (m *Metrics) round() {
	m.UnavailableSeconds = round1(m.UnavailableSeconds)
	m.DetectionSeconds = round1(m.DetectionSeconds)
	m.Cost = round1(m.Cost)
	if m.LastChangeSeconds != nil {
		v := round1(*m.LastChangeSeconds)
		m.LastChangeSeconds = &v
	}
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
