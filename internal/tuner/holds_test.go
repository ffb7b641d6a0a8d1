package tuner

import (
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

var aChange = []probes.Change{{Container: "app", Probe: "readiness", Field: "failureThreshold", From: 3, To: 6, Reason: recommend.ReasonReadinessFlapping}}

// autoInput is a holdInput on which no hold holds: Auto, a change to make, no earlier change.
func autoInput(edit func(*holdInput)) holdInput {
	in := holdInput{settings: settingsFor(tuningv1alpha1.ModeAuto), changes: aChange, now: t0}
	if edit != nil {
		edit(&in)
	}
	return in
}

func TestHolds(t *testing.T) {
	recent := &ChangeRecord{ID: "x", Time: t0.Add(-5 * time.Minute), FromRevision: "r0"}
	verified := &ChangeRecord{ID: "x", Time: t0.Add(-5 * time.Minute), FromRevision: "r0", Verified: true}
	settled := &ChangeRecord{ID: "x", Time: t0.Add(-5 * time.Minute), FromRevision: "r0", SettledAt: t0.Add(-time.Minute)}
	old := &ChangeRecord{ID: "x", Time: t0.Add(-10 * time.Minute), FromRevision: "r0", Verified: true}
	cases := []struct {
		hold   hold
		name   string
		edit   func(*holdInput)
		kind   Kind // empty: passes
		reason string
	}{
		{hold: modeIsOff, name: "Off holds", edit: func(in *holdInput) { in.settings.Mode = tuningv1alpha1.ModeOff }, kind: Wait, reason: "the policy's mode is Off"},
		{hold: modeIsOff, name: "Recommend passes", edit: func(in *holdInput) { in.settings.Mode = tuningv1alpha1.ModeRecommend }},
		{hold: modeIsOff, name: "Auto passes"},

		{hold: verificationPending, name: "an unverified change holds until its window after the change", edit: func(in *holdInput) { in.last = recent },
			kind: Wait, reason: "verifying the change of 2026-03-01T11:55:00Z until 2026-03-01T12:05:00Z"},
		{hold: verificationPending, name: "a settled change holds until its window after the rollout", edit: func(in *holdInput) { in.last = settled },
			kind: Wait, reason: "verifying the change of 2026-03-01T11:55:00Z until 2026-03-01T12:09:00Z"},
		{hold: verificationPending, name: "a verified change passes", edit: func(in *holdInput) { in.last = verified }},
		{hold: verificationPending, name: "a reverted change passes", edit: func(in *holdInput) { in.last = &ChangeRecord{Time: t0, Reverted: true} }},
		{hold: verificationPending, name: "a budget growth to grow again passes", edit: func(in *holdInput) { in.last, in.regrow = recent, true }},
		{hold: verificationPending, name: "no change passes"},

		{hold: nothingRecommended, name: "no change holds", edit: func(in *holdInput) { in.changes = nil }, kind: Wait, reason: "no change recommended"},
		{hold: nothingRecommended, name: "a change passes"},

		{hold: modeIsRecommend, name: "Recommend holds", edit: func(in *holdInput) { in.settings.Mode = tuningv1alpha1.ModeRecommend }, kind: Recommend, reason: "the policy's mode is Recommend"},
		{hold: modeIsRecommend, name: "Auto passes"},

		{hold: deploymentPaused, name: "paused holds", edit: func(in *holdInput) { in.paused = true }, kind: Recommend, reason: "the Deployment is paused with probetuner.io/paused"},
		{hold: deploymentPaused, name: "not paused passes"},

		{hold: rolloutInProgress, name: "a rollout holds", edit: func(in *holdInput) { in.rollingOut = true }, kind: Recommend, reason: "the Deployment is rolling out"},
		{hold: rolloutInProgress, name: "a budget growth joins a rollout in flight", edit: func(in *holdInput) { in.rollingOut, in.growsStartup = true, true }},
		{hold: rolloutInProgress, name: "a rollout stalled by the probes passes", edit: func(in *holdInput) { in.rollingOut, in.stalled = true, true }},
		{hold: rolloutInProgress, name: "no rollout passes", edit: func(in *holdInput) { in.stalled = true }},

		{hold: coolingDown, name: "a change inside the cooldown holds", edit: func(in *holdInput) { in.last = verified }, kind: Recommend, reason: "cooling down until 2026-03-01T12:05:00Z"},
		{hold: coolingDown, name: "a change a cooldown old passes", edit: func(in *holdInput) { in.last = old }},
		{hold: coolingDown, name: "a budget growth to grow again passes", edit: func(in *holdInput) { in.last, in.regrow = verified, true }},
		{hold: coolingDown, name: "no change passes"},
	}
	for _, tc := range cases {
		t.Run(funcName(tc.hold)+"/"+tc.name, func(t *testing.T) {
			v, held := tc.hold(autoInput(tc.edit))
			if want := tc.kind != ""; held != want {
				t.Fatalf("held = %v, want %v", held, want)
			}
			if held && (v.kind != tc.kind || v.reason != tc.reason) {
				t.Errorf("verdict = %s %q, want %s %q", v.kind, v.reason, tc.kind, tc.reason)
			}
		})
	}
}

// TestHoldOrder checks that, of several holds that apply, the first in the chain wins.
func TestHoldOrder(t *testing.T) {
	recent := &ChangeRecord{ID: "x", Time: t0.Add(-5 * time.Minute), FromRevision: "r0"}
	cases := []struct {
		name   string
		edit   func(*holdInput)
		reason string // empty: nothing holds
	}{
		{name: "nothing holds an Auto change"},
		{name: "verification before no change", edit: func(in *holdInput) { in.last, in.changes = recent, nil }, reason: "verifying the change of"},
		{name: "no change before the mode", edit: func(in *holdInput) { in.changes, in.settings.Mode = nil, tuningv1alpha1.ModeRecommend }, reason: "no change recommended"},
		{name: "the mode before a pause", edit: func(in *holdInput) { in.paused, in.settings.Mode = true, tuningv1alpha1.ModeRecommend }, reason: "the policy's mode is Recommend"},
		{name: "a pause before a rollout", edit: func(in *holdInput) { in.paused, in.rollingOut = true, true }, reason: "the Deployment is paused"},
		{name: "a rollout before the cooldown", edit: func(in *holdInput) {
			in.rollingOut, in.last = true, &ChangeRecord{Time: t0.Add(-time.Minute), Verified: true}
		}, reason: "the Deployment is rolling out"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, held := firstHold(holds, autoInput(tc.edit))
			if held != (tc.reason != "") || !strings.HasPrefix(v.reason, tc.reason) {
				t.Errorf("held = %v with %q, want %q", held, v.reason, tc.reason)
			}
		})
	}
}

// TestVerdictApply checks what a verdict does to the action and to the recommendation last recorded.
func TestVerdictApply(t *testing.T) {
	const recorded = "app/readiness/failureThreshold:3>6"
	act := Action{Plan: recommend.Plan{Changes: aChange}}
	cases := []struct {
		name     string
		v        verdict
		last     string
		kind     Kind
		record   bool
		changes  int
		lastNext string
	}{
		{name: "a wait keeps what was recorded", v: verdict{kind: Wait, reason: "the policy's mode is Off"}, last: recorded, kind: Wait, lastNext: recorded},
		{name: "nothing recommended forgets it", v: verdict{kind: Wait, reason: "no change recommended", nothingRecommended: true}, last: recorded, kind: Wait},
		{name: "a new recommendation is recorded", v: verdict{kind: Recommend, reason: "paused"}, kind: Recommend, record: true, changes: 1, lastNext: recorded},
		{name: "the same recommendation is not recorded again", v: verdict{kind: Recommend, reason: "paused"}, last: recorded, kind: Recommend, changes: 1, lastNext: recorded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &WorkloadState{LastRecommendation: tc.last}
			got := tc.v.apply(act, st)
			if got.Kind != tc.kind || got.Reason != tc.v.reason || got.Record != tc.record || len(got.Changes) != tc.changes {
				t.Errorf("action = %s %q record %v, %d changes; want %s record %v, %d changes", got.Kind, got.Reason, got.Record, len(got.Changes), tc.kind, tc.record, tc.changes)
			}
			if st.LastRecommendation != tc.lastNext {
				t.Errorf("last recommendation = %q, want %q", st.LastRecommendation, tc.lastNext)
			}
		})
	}
}

// funcName names a hold in test names.
func funcName(h hold) string {
	name := runtime.FuncForPC(reflect.ValueOf(h).Pointer()).Name()
	return name[strings.LastIndex(name, ".")+1:]
}
