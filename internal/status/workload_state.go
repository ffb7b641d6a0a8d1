package status

import (
	"fmt"

	"github.com/probetuner/probe-tuner/internal/recommend"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// WorkloadState names the state a workload is in after a tuning step, with the message shown beside it: a
// warning finding first (a person must look), then what the step did, then what it waits for.
func WorkloadState(act tuner.Action, paused bool, ws *tuner.WorkloadState) (string, string) {
	for _, fd := range act.Plan.Findings {
		if fd.Severity == recommend.Warning {
			return StateAttentionRequired, fd.Message
		}
	}
	switch {
	case act.Kind == tuner.Apply:
		return StateAdjusting, fmt.Sprintf("Applied %d probe change(s) (decision %s); the Deployment rolls out", len(act.Changes), act.ID)
	case act.Kind == tuner.Revert:
		return StateAdjusting, "Reverted the last change: " + act.Reason
	case paused:
		return StatePaused, "probetuner.io/paused is \"true\": nothing is written; " + act.Reason
	case act.Kind == tuner.Recommend:
		return StateRecommended, fmt.Sprintf("%d probe change(s) recommended; not applied because %s", len(act.Changes), act.Reason)
	case ws.LastChange != nil && !ws.LastChange.Verified && !ws.LastChange.Reverted:
		return StateVerifying, act.Reason
	case len(act.Plan.Waiting) > 0:
		return StateObserving, act.Plan.Waiting[0]
	}
	return StateStable, "The probes fit what was observed"
}
