package status

import (
	"errors"
	"strings"
	"testing"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// action builds a tuner.Action of kind with n changes.
func action(kind tuner.Kind, n int) tuner.Action {
	act := tuner.Action{Kind: kind, Reason: "reason-" + string(kind)}
	for i := range n {
		act.Changes = append(act.Changes, probes.Change{Container: "app", Probe: probes.Startup, Field: "failureThreshold", From: int32(3 + i), To: int32(6 + i)})
	}
	act.Plan.Changes = act.Changes
	return act
}

func withActionID(act tuner.Action, id string) tuner.Action {
	act.ID = id
	return act
}

func planFindings(act tuner.Action, fs ...recommend.Finding) tuner.Action {
	act.Plan.Findings = append(act.Plan.Findings, fs...)
	return act
}

func waiting(act tuner.Action, msgs ...string) tuner.Action {
	act.Plan.Waiting = append(act.Plan.Waiting, msgs...)
	return act
}

func lastChange(verified, reverted bool) *tuner.WorkloadState {
	return &tuner.WorkloadState{LastChange: &tuner.ChangeRecord{ID: "prev", Time: t0, Verified: verified, Reverted: reverted,
		Changes: []probes.Change{{Container: "app", Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 5}}}}
}

func TestWorkloadState(t *testing.T) {
	none := &tuner.WorkloadState{}
	unverified := lastChange(false, false)
	warn := warning(recommend.ReasonCorrelatedLiveness, "liveness checks a shared dependency")
	tests := []struct {
		name        string
		act         tuner.Action
		paused      bool
		pauseValue  string
		ws          *tuner.WorkloadState
		write       Write
		state       tuningv1alpha1.WorkloadState
		msg         string   // exact message, when set
		msgContains []string // parts of the message
	}{
		// A warning finding comes first, whatever the step did.
		{name: "warning on wait", act: planFindings(action(tuner.Wait, 0), warn), ws: none,
			state: StateAttentionRequired, msg: warn.Message},
		{name: "warning on apply", act: planFindings(withActionID(action(tuner.Apply, 2), "abc123"), warn), ws: none,
			state: StateAttentionRequired, msg: warn.Message},
		{name: "warning on revert", act: planFindings(action(tuner.Revert, 1), warn), ws: unverified,
			state: StateAttentionRequired, msg: warn.Message},
		{name: "warning while paused", act: planFindings(action(tuner.Recommend, 1), warn), paused: true, ws: unverified,
			state: StateAttentionRequired, msg: warn.Message},
		{name: "first warning after an info finding", act: planFindings(waiting(action(tuner.Wait, 0), "more starts"),
			info(recommend.ReasonNotAProbeProblem, "oom kills"), warn, warning(recommend.ReasonStuckNotReady, "stuck")), ws: none,
			state: StateAttentionRequired, msg: warn.Message},
		{name: "info finding is no warning", act: planFindings(action(tuner.Wait, 0), info(recommend.ReasonNotAProbeProblem, "oom kills")), ws: none,
			state: StateStable},

		// Then what the step did.
		{name: "apply", act: withActionID(action(tuner.Apply, 2), "abc123"), ws: none,
			state: StateAdjusting, msgContains: []string{"abc123", "2 probe change(s)"}},
		{name: "apply one change", act: withActionID(action(tuner.Apply, 1), "d-9"), ws: unverified,
			state: StateAdjusting, msgContains: []string{"d-9", "1 probe change(s)"}},
		{name: "apply wins over paused", act: withActionID(action(tuner.Apply, 3), "x"), paused: true, ws: none,
			state: StateAdjusting, msgContains: []string{"x", "3 probe change(s)"}},
		{name: "apply wins over waiting", act: waiting(withActionID(action(tuner.Apply, 1), "x"), "more starts"), ws: none,
			state: StateAdjusting, msgContains: []string{"1 probe change(s)"}},
		{name: "revert", act: action(tuner.Revert, 1), ws: unverified,
			state: StateAdjusting, msgContains: []string{"Reverted", "reason-Revert"}},
		{name: "apply that was written", act: withActionID(action(tuner.Apply, 2), "abc123"), ws: none, write: Write{Result: WriteDone},
			state: StateAdjusting, msgContains: []string{"Applied 2 probe change(s)", "abc123"}},

		// An Apply or Revert that was not written never reads as done.
		{name: "apply that lost a race", act: withActionID(action(tuner.Apply, 2), "abc123"), ws: none, write: Write{Result: WriteLostRace},
			state: StateAdjusting, msgContains: []string{"nothing was written", "abc123", "decided again"}},
		{name: "revert that lost a race", act: action(tuner.Revert, 1), ws: unverified, write: Write{Result: WriteLostRace},
			state: StateAdjusting, msgContains: []string{"nothing was written", "revert", "reason-Revert"}},
		{name: "apply dropped for a hand edit", act: withActionID(action(tuner.Apply, 1), "d-9"), ws: none, write: Write{Result: WriteOverridden},
			state: StateAdjusting, msgContains: []string{"hand edit", "respected", "nothing was written"}},
		{name: "apply dropped for another writer's change", act: withActionID(action(tuner.Apply, 1), "d-9"), ws: none, write: Write{Result: WriteAdopted},
			state: StateAdjusting, msgContains: []string{"adopted", "nothing was written"}},
		{name: "apply that failed", act: withActionID(action(tuner.Apply, 1), "d-9"), ws: none, write: Write{Result: WriteFailed, Err: errors.New("etcd is down")},
			state: StateAdjusting, msgContains: []string{"failed", "nothing was written", "etcd is down", "d-9"}},
		{name: "revert wins over paused", act: action(tuner.Revert, 1), paused: true, ws: unverified,
			state: StateAdjusting, msgContains: []string{"Reverted", "reason-Revert"}},

		// Then a pause.
		{name: "paused waiting", act: waiting(action(tuner.Wait, 0), "more starts"), paused: true, ws: none,
			state: StatePaused, msgContains: []string{"paused", "reason-Wait"}},
		{name: "paused wins over recommend", act: action(tuner.Recommend, 2), paused: true, ws: none,
			state: StatePaused, msgContains: []string{"paused", "reason-Recommend"}},
		{name: "an unknown pause value is named with the values known", act: action(tuner.Wait, 0), pauseValue: "yes", ws: unverified,
			state: StatePaused, msgContains: []string{`"yes"`, `"true" (paused)`, `"false" (tuned`}},
		{name: "paused wins over verifying", act: action(tuner.Wait, 0), paused: true, ws: unverified,
			state: StatePaused, msgContains: []string{"paused"}},

		// Then a recommendation.
		{name: "recommend", act: action(tuner.Recommend, 3), ws: none,
			state: StateRecommended, msgContains: []string{"3 probe change(s) recommended", "reason-Recommend"}},
		{name: "recommend wins over verifying", act: action(tuner.Recommend, 1), ws: unverified,
			state: StateRecommended, msgContains: []string{"1 probe change(s) recommended"}},
		{name: "recommend wins over waiting", act: waiting(action(tuner.Recommend, 1), "more starts"), ws: none,
			state: StateRecommended},

		// Then what the workload waits for.
		{name: "unverified last change", act: action(tuner.Wait, 0), ws: unverified,
			state: StateVerifying, msg: "reason-Wait"},
		{name: "verifying wins over waiting", act: waiting(action(tuner.Wait, 0), "more starts"), ws: unverified,
			state: StateVerifying, msg: "reason-Wait"},
		{name: "verified last change is done", act: action(tuner.Wait, 0), ws: lastChange(true, false),
			state: StateStable},
		{name: "reverted last change is done", act: waiting(action(tuner.Wait, 0), "more starts"), ws: lastChange(false, true),
			state: StateObserving, msg: "more starts"},
		{name: "waiting shows the first message", act: waiting(action(tuner.Wait, 0), "app: 2 of 5 starts seen", "sidecar: no transitions yet"), ws: none,
			state: StateObserving, msg: "app: 2 of 5 starts seen"},
		{name: "waiting after a verified change", act: waiting(action(tuner.Wait, 0), "more starts"), ws: lastChange(true, false),
			state: StateObserving, msg: "more starts"},

		// Otherwise stable.
		{name: "nothing to do", act: action(tuner.Wait, 0), ws: none, state: StateStable, msg: "The probes fit what was observed"},
		{name: "empty waiting list", act: tuner.Action{Kind: tuner.Wait, Plan: recommend.Plan{Waiting: []string{}}}, ws: none, state: StateStable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			state, msg := WorkloadState(tc.act, tuner.Facts{Paused: tc.paused, PauseUnknown: tc.pauseValue != "", PauseValue: tc.pauseValue}, tc.ws, tc.write)
			if state != tc.state {
				t.Errorf("state = %s (%q), want %s", state, msg, tc.state)
			}
			if msg == "" {
				t.Errorf("state %s has no message", state)
			}
			if tc.msg != "" && msg != tc.msg {
				t.Errorf("message = %q, want %q", msg, tc.msg)
			}
			if tc.write.Result > WriteDone && strings.Contains(msg, "Applied") {
				t.Errorf("message %q reads as applied for a write that did not happen", msg)
			}
			for _, s := range tc.msgContains {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q does not contain %q", msg, s)
				}
			}
		})
	}
}
