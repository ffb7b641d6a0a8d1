package tuner

import (
	"fmt"
	"time"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// holdInput is what the holds look at.
type holdInput struct {
	settings policy.Settings
	// paused and rollingOut are the Deployment's Facts of the same names; pauseUnknown and pauseValue are its
	// PauseUnknown and PauseValue.
	paused, rollingOut bool
	pauseUnknown       bool
	pauseValue         string
	// last is the last change written; verify updates it in place (Verified, SettledAt) before the holds after
	// verification look at it.
	last    *ChangeRecord
	changes []probes.Change
	now     time.Time
	// stalled says the current revision's own pods are killed before they start and the changes fix that: its
	// rollout cannot complete until the probes change.
	stalled bool
	// regrow says, in addition, that the last change grew the startup budget and the revision it made is the one
	// stalled: the growth was too small, so neither its verification nor the cooldown is waited for.
	regrow bool
	// growsStartup says every change gives starts more time (growsStartupBudget).
	growsStartup bool
}

// verdict is a hold's answer when it holds the changes back.
type verdict struct {
	// kind is what the tuner does instead of writing: Wait (nothing is recorded) or Recommend (the changes are
	// recorded as a recommendation).
	kind   Kind
	reason string
	// nothingRecommended says there is no recommendation now, so that the next one is recorded as new.
	nothingRecommended bool
}

// A hold is one reason not to write the recommended changes now: it returns the verdict and true to hold them,
// or false to pass them on.
type hold func(holdInput) (verdict, bool)

// beforeVerification are the holds that stop the tuner before it judges the last change: with the mode Off, or a
// pause value probe-tuner does not know, nothing is changed, not even a failed change reverted.
var beforeVerification = []hold{modeIsOff, pauseValueUnknown}

// holds are the holds after verification, in order; the first that holds wins. The waits come first: while a
// change is verified, or when nothing is recommended, there is no recommendation to record.
var holds = []hold{verificationPending, nothingRecommended, modeIsRecommend, deploymentPaused, rolloutInProgress, coolingDown}

// firstHold runs the chain in order and returns the first verdict that holds.
func firstHold(chain []hold, in holdInput) (verdict, bool) {
	for _, h := range chain {
		if v, held := h(in); held {
			return v, true
		}
	}
	return verdict{}, false
}

func modeIsOff(in holdInput) (verdict, bool) {
	return verdict{kind: Wait, reason: "the policy's mode is Off"}, in.settings.Mode == tuningv1alpha1.ModeOff
}

// pauseValueUnknown holds everything while probetuner.io/paused is neither "true" nor "false": the person meant
// something, and writing on a guess of what is worse than waiting for a value probe-tuner knows.
func pauseValueUnknown(in holdInput) (verdict, bool) {
	return verdict{kind: Wait, reason: PauseUnknownMessage(in.pauseValue), nothingRecommended: true}, in.pauseUnknown
}

func verificationPending(in holdInput) (verdict, bool) {
	lc := in.last
	if lc == nil || lc.Verified || lc.Reverted || in.regrow {
		return verdict{}, false
	}
	return verdict{kind: Wait, reason: fmt.Sprintf("verifying the change of %s until %s", lc.Time.UTC().Format(time.RFC3339),
		verificationEnd(lc, in.settings).UTC().Format(time.RFC3339))}, true
}

func nothingRecommended(in holdInput) (verdict, bool) {
	return verdict{kind: Wait, reason: "no change recommended", nothingRecommended: true}, len(in.changes) == 0
}

func modeIsRecommend(in holdInput) (verdict, bool) {
	return verdict{kind: Recommend, reason: "the policy's mode is Recommend"}, in.settings.Mode == tuningv1alpha1.ModeRecommend
}

func deploymentPaused(in holdInput) (verdict, bool) {
	return verdict{kind: Recommend, reason: "the Deployment is paused with probetuner.io/paused"}, in.paused
}

// rolloutInProgress holds a change until the rollout is done, unless the rollout waits on that change, or the
// change only gives starts more time. The rollout's new pods are starting under the budget that was too short, and
// writing after it would roll every pod again; written now, the change joins the rollout in flight and restarts
// only the pods it has already started. A longer budget costs little even if the release changed the start, so
// its new pods need not be watched first; a tightening does wait for them.
func rolloutInProgress(in holdInput) (verdict, bool) {
	return verdict{kind: Recommend, reason: "the Deployment is rolling out"}, in.rollingOut && !in.stalled && !in.growsStartup
}

func coolingDown(in holdInput) (verdict, bool) {
	lc := in.last
	if lc == nil || in.now.Sub(lc.Time) >= in.settings.Pacing.Cooldown || in.regrow {
		return verdict{}, false
	}
	return verdict{kind: Recommend, reason: fmt.Sprintf("cooling down until %s", lc.Time.Add(in.settings.Pacing.Cooldown).UTC().Format(time.RFC3339))}, true
}
