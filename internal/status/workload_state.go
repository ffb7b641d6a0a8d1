package status

import (
	"fmt"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/recommend"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// WriteResult is what became of the write a tuning step asked for (an Apply or a Revert).
type WriteResult int

// Write results.
const (
	// WriteNone: the step asked for no write, or the change was written by an earlier look (it decided the same
	// change again before its revision showed).
	WriteNone WriteResult = iota
	// WriteDone: the change was written.
	WriteDone
	// WriteLostRace: the Deployment changed since it was read; nothing was written.
	WriteLostRace
	// WriteOverridden: the fresh read right before the write found a hand edit of a field probe-tuner owns; it is
	// respected, and nothing was written.
	WriteOverridden
	// WriteAdopted: the fresh read right before the write found a change another writer made; it was adopted, and
	// nothing was written on top of it.
	WriteAdopted
	// WriteFailed: the API server refused the write with an error other than a lost race.
	WriteFailed
)

// Write is what became of a step's write, with the error of a failed one.
type Write struct {
	Result WriteResult
	Err    error
}

// WorkloadState names the state a workload is in after a tuning step, with the message shown beside it: a
// warning finding first (a person must look), then what the step did (what became of its write), then what it
// waits for.
func WorkloadState(act tuner.Action, f tuner.Facts, ws *tuner.WorkloadState, w Write) (tuningv1alpha1.WorkloadState, string) {
	for _, fd := range act.Plan.Findings {
		if fd.Severity == recommend.Warning {
			return StateAttentionRequired, fd.Message
		}
	}
	if act.Kind == tuner.Apply || act.Kind == tuner.Revert {
		return StateAdjusting, writeMessage(act, w)
	}
	switch {
	case f.PauseUnknown:
		return StatePaused, tuner.PauseUnknownMessage(f.PauseValue)
	case f.Paused:
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

// writeMessage says what became of an Apply or a Revert: only a write that happened reads as done.
func writeMessage(act tuner.Action, w Write) string {
	what := fmt.Sprintf("%d probe change(s) (decision %s)", len(act.Changes), act.ID)
	if act.Kind == tuner.Revert {
		what = "the revert of the last change (" + act.Reason + ")"
	}
	switch w.Result {
	case WriteLostRace:
		return "The Deployment changed since it was read, so nothing was written: " + what + " is decided again on a fresh read shortly"
	case WriteOverridden:
		return "A hand edit of a probe field probe-tuner set was found right before writing and is respected; nothing was written, and " +
			what + " is decided again without that field"
	case WriteAdopted:
		return "Another writer changed the Deployment's probes right before this write; its change was adopted and nothing was written on top of it"
	case WriteFailed:
		return fmt.Sprintf("Writing %s failed, nothing was written; retrying: %v", what, w.Err)
	}
	if act.Kind == tuner.Revert {
		return "Reverted the last change: " + act.Reason
	}
	return fmt.Sprintf("Applied %d probe change(s) (decision %s); the Deployment rolls out", len(act.Changes), act.ID)
}
