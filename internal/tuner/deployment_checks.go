package tuner

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// revertSuffix ends the ID of the revert of a change: the revert of decision d-1 is d-1-revert (see verify).
const revertSuffix = "-revert"

// Reasons of the Rejections a look reports (the caller's Warning Events use them).
const (
	// RejectedLastChange: the last-change annotation, or the checkpoint's last change, is not a record of this
	// Deployment; it is neither adopted nor counted.
	RejectedLastChange = "LastChangeRejected"
	// RejectedPreviousProbes: the previous-probes annotation is not the probes before this Deployment's last change.
	RejectedPreviousProbes = "PreviousProbesRejected"
	// RejectedPauseValue: probetuner.io/paused holds a value other than "true" or "false"; the Deployment is held.
	RejectedPauseValue = "PausedValueUnknown"
)

// Rejection is one of probe-tuner's annotations on the Deployment that a look refused to use, for the caller to
// report: a Warning Event (when New) and a log line.
type Rejection struct {
	// Annotation is the annotation's key.
	Annotation string
	// Reason is one of the Rejected* reasons.
	Reason string
	// Message says what is wrong and what to do.
	Message string
	// New says this value was not reported before: each bad value is reported once, not on every look.
	New bool
}

// deploymentCheck is what the Deployment says beyond its probes: the hand edits not known before, a change the
// state does not know, and the fields probe-tuner still owns.
type deploymentCheck struct {
	// overrides are the owned fields someone changed since probe-tuner wrote them, not known before.
	overrides []probes.FieldRef
	// adopted is the last change recorded on the Deployment when the state did not know it.
	adopted *apply.LastChange
	// owned is what probe-tuner owns on the Deployment, frozen fields released.
	owned apply.Owned
	// rejected are the annotations the check refused (they are then ignored).
	rejected []Rejection
	// pause is what probetuner.io/paused says.
	pause pause
}

// checkDeployment folds what the Deployment records into the state: new overrides are frozen, and a last change
// the state does not know is adopted (it counts for cooldown and verification and is not applied again) when it
// is a record of this Deployment; what cannot be trusted is rejected.
func checkDeployment(st *WorkloadState, d *appsv1.Deployment, now time.Time, policy string) (deploymentCheck, error) {
	owned, err := apply.ReadOwned(d)
	if err != nil {
		return deploymentCheck{}, err
	}
	var c deploymentCheck
	// Fields released on the Deployment were respected before (a checkpoint lost since forgot them): frozen again,
	// without a new record.
	st.Frozen = append(st.Frozen, newOverrides(st, owned.ReleasedRefs(d))...)
	c.overrides = newOverrides(st, apply.Overrides(owned, d))
	st.Frozen = append(st.Frozen, c.overrides...)
	owned.Release(st.Frozen)
	c.owned = owned
	var good *apply.LastChange
	c.adopted, good, c.rejected = adoptLastChange(st, d, now, policy)
	if r, bad := checkPrevious(st, d, good); bad {
		c.rejected = append(c.rejected, r)
	}
	c.pause = readPause(d)
	if c.pause.unknown {
		c.rejected = append(c.rejected, st.warn(apply.AnnotationPaused, c.pause.value, RejectedPauseValue, c.pause.message()))
	} else {
		st.clearWarning(apply.AnnotationPaused)
	}
	return c, nil
}

// newOverrides keeps the overrides not already known.
func newOverrides(st *WorkloadState, found []probes.FieldRef) []probes.FieldRef {
	known := map[probes.FieldRef]bool{}
	for _, f := range st.Frozen {
		known[f] = true
	}
	var out []probes.FieldRef
	for _, f := range found {
		if !known[f] {
			out = append(out, f)
		}
	}
	return out
}

// adoptLastChange takes the last change recorded on the Deployment when the state does not know it: the
// operator died after writing the Deployment and before checkpointing, or another writer made it, or the
// checkpoint was lost. It is taken only when it is a record of this Deployment as it is now (apply.ParseLastChange
// and Check): a copied, forged, future-dated or garbled record is rejected, and so never counted and never holds
// tuning. An adopted change counts for cooldown and verification, is not applied again, and is returned so that
// its decisions are recorded once; its count of changes is taken, not added (a record adopted again after the
// checkpoint is lost again counts nothing more). good is the Deployment's record when it is a good one, known
// or adopted.
func adoptLastChange(st *WorkloadState, d *appsv1.Deployment, now time.Time, policy string) (adopted, good *apply.LastChange, rejected []Rejection) {
	defer func() {
		if r, dropped := dropFutureRecord(st, now, adopted != nil); dropped {
			rejected = append(rejected, r)
		}
	}()
	raw, ok := d.Annotations[apply.AnnotationLastChange]
	if !ok {
		st.clearWarning(apply.AnnotationLastChange)
		return nil, nil, nil
	}
	reject := func(err error) []Rejection {
		msg := fmt.Sprintf("The %s annotation of Deployment %s cannot be trusted, so probe-tuner neither adopts nor counts it: %v. "+
			"Restore the value probe-tuner wrote, or remove the annotation; probe-tuner writes a new one with its next change", apply.AnnotationLastChange, d.Name, err)
		return []Rejection{st.warn(apply.AnnotationLastChange, raw, RejectedLastChange, msg)}
	}
	lc, err := apply.ParseLastChange(raw)
	if err != nil {
		return nil, nil, reject(err)
	}
	if last := st.LastChange; last != nil && (last.ID == lc.ID || (last.Reverted && lc.ID == last.ID+revertSuffix)) {
		// The state's own change (or its revert): nothing to adopt. A record of an earlier release's checkpoint is
		// checked against the Deployment once it is found there.
		if !last.Checked && lc.Check(d, now) == nil {
			last.Checked = true
		}
		st.Seq = max(st.Seq, lc.Seq)
		if lc.Policy == policy {
			// A state of an earlier release's checkpoint counted nothing: the record gives the least it knows.
			st.ChangesApplied = max(st.ChangesApplied, recordCount(lc))
		}
		st.clearWarning(apply.AnnotationLastChange)
		return nil, &lc, nil
	}
	if err := lc.Check(d, now); err != nil {
		return nil, nil, reject(err)
	}
	st.clearWarning(apply.AnnotationLastChange)
	if last := st.LastChange; last != nil && last.Checked && (last.Time.After(lc.Time) || (lc.Seq > 0 && lc.Seq <= st.Seq)) {
		// An older record (a person restored an earlier annotation): the state knows better. A state record never
		// checked against the Deployment does not: the good record on the Deployment replaces it.
		return nil, &lc, nil
	}
	reverted := lc.Action == apply.ActionRevert
	st.LastChange = &ChangeRecord{ID: lc.ID, Time: lc.Time, FromRevision: lc.FromRevision, Changes: lc.Changes, Reverted: reverted, Verified: reverted, Checked: true}
	st.Seq = max(st.Seq, lc.Seq)
	if lc.Policy == policy {
		st.ChangesApplied = max(st.ChangesApplied, recordCount(lc))
	}
	return &lc, &lc, nil
}

// recordCount is the count of changes a record says its policy made: its own count, or for an earlier release's
// record, which carries none, its own changes (the least that was written).
func recordCount(lc apply.LastChange) int64 {
	if lc.Seq == 0 {
		return int64(len(lc.Changes))
	}
	return lc.ChangesApplied
}

// dropFutureRecord drops the state's last change when it was never checked against the Deployment and is dated
// in the future (an earlier release adopted a forged record): it would hold tuning until then.
func dropFutureRecord(st *WorkloadState, now time.Time, replaced bool) (Rejection, bool) {
	last := st.LastChange
	if replaced || last == nil || last.Checked || !last.Time.After(now.Add(apply.ClockSkew)) {
		return Rejection{}, false
	}
	st.LastChange = nil
	return Rejection{Annotation: apply.AnnotationLastChange, Reason: RejectedLastChange, New: true,
		Message: fmt.Sprintf("The last change in probe-tuner's checkpoint (decision %s) is dated %s, in the future, and was never found on the Deployment: "+
			"it is dropped, so that it holds neither cooldown nor verification", last.ID, last.Time.UTC().Format(time.RFC3339))}, true
}

// checkPrevious checks the previous-probes annotation (apply.ParsePrevious and Check, against the good last
// change when there is one): probe-tuner never reads it to revert, but a person undoes a change from it, so a
// value that is not the probes before this Deployment's last change is reported.
func checkPrevious(st *WorkloadState, d *appsv1.Deployment, good *apply.LastChange) (Rejection, bool) {
	raw, ok := d.Annotations[apply.AnnotationPrevious]
	if !ok {
		st.clearWarning(apply.AnnotationPrevious)
		return Rejection{}, false
	}
	prev, err := apply.ParsePrevious(raw)
	if err == nil {
		err = prev.Check(d, good)
	}
	if err == nil {
		st.clearWarning(apply.AnnotationPrevious)
		return Rejection{}, false
	}
	msg := fmt.Sprintf("The %s annotation of Deployment %s does not hold the probes before its last change, so it cannot be used to undo that change: %v. "+
		"probe-tuner does not use it and replaces it with its next change; to undo by hand, set the probes from the Deployment's history "+
		"(kubectl rollout history) instead", apply.AnnotationPrevious, d.Name, err)
	return st.warn(apply.AnnotationPrevious, raw, RejectedPreviousProbes, msg), true
}

// warn records that a bad value of the annotation is reported, and returns its Rejection: New unless this value
// was reported last.
func (st *WorkloadState) warn(annotation, value, reason, msg string) Rejection {
	sum := digest(value)
	r := Rejection{Annotation: annotation, Reason: reason, Message: msg, New: st.Warned[annotation] != sum}
	if st.Warned == nil {
		st.Warned = map[string]string{}
	}
	st.Warned[annotation] = sum
	return r
}

// clearWarning forgets the bad value reported for the annotation: it is good now, or gone.
func (st *WorkloadState) clearWarning(annotation string) {
	delete(st.Warned, annotation)
	if len(st.Warned) == 0 {
		st.Warned = nil
	}
}

// digest is a short fingerprint of an annotation's value, for the checkpoint.
func digest(v string) string {
	h := fnv.New64a()
	h.Write([]byte(v))
	return strconv.FormatUint(h.Sum64(), 36)
}

// pause is what probetuner.io/paused says: "true" pauses, "false" or no annotation tunes, and anything else is
// unknown, and holds the Deployment (nothing is written, not even a revert) until it is one of them.
type pause struct {
	paused, unknown bool
	value           string
}

func readPause(d *appsv1.Deployment) pause {
	v, ok := d.Annotations[apply.AnnotationPaused]
	switch {
	case !ok || v == "false":
		return pause{}
	case v == "true":
		return pause{paused: true}
	}
	return pause{unknown: true, value: v}
}

// message says what an unknown value does and which values are known.
func (p pause) message() string {
	return PauseUnknownMessage(p.value)
}

// PauseUnknownMessage says what an unknown value of probetuner.io/paused does and which values are known.
func PauseUnknownMessage(value string) string {
	shown := value
	if len(shown) > 64 {
		shown = shown[:64] + "..."
	}
	return fmt.Sprintf("%s is %q, which probe-tuner does not know: the Deployment is held and nothing is written until it is \"true\" (paused) "+
		"or \"false\" (tuned, like no annotation)", apply.AnnotationPaused, shown)
}

// adoptedKind is what an adopted change on the Deployment did: an Apply, or else the revert of one.
func adoptedKind(lc *apply.LastChange) Kind {
	if lc.Action == string(Apply) {
		return Apply
	}
	return Revert
}
