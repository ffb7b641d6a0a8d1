package tuner

import (
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// revertSuffix ends the ID of the revert of a change: the revert of decision d-1 is d-1-revert (see verify).
const revertSuffix = "-revert"

// deploymentCheck is what the Deployment says beyond its probes: the hand edits not known before, a change the
// state does not know, and the fields probe-tuner still owns.
type deploymentCheck struct {
	// overrides are the owned fields someone changed since probe-tuner wrote them, not known before.
	overrides []probes.FieldRef
	// adopted is the last change recorded on the Deployment when the state did not know it.
	adopted *apply.LastChange
	// owned is what probe-tuner owns on the Deployment, frozen fields released.
	owned apply.Owned
	// ignored is a last-change annotation that could not be read (it is then ignored).
	ignored error
}

// checkDeployment folds what the Deployment records into the state: new overrides are frozen, and a last change
// the state does not know is adopted (it counts for cooldown and verification and is not applied again).
func checkDeployment(st *WorkloadState, d *appsv1.Deployment) (deploymentCheck, error) {
	owned, err := apply.ReadOwned(d)
	if err != nil {
		return deploymentCheck{}, err
	}
	var c deploymentCheck
	c.overrides = newOverrides(st, apply.Overrides(owned, d))
	st.Frozen = append(st.Frozen, c.overrides...)
	owned.Release(st.Frozen)
	c.owned = owned
	c.adopted, c.ignored = adoptLastChange(st, d)
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
// operator died after writing the Deployment and before checkpointing, or another writer made it. The change
// then counts for cooldown and verification, is not applied again, and is returned so that its decisions are
// recorded once. An annotation that cannot be read is returned as an error and otherwise ignored.
func adoptLastChange(st *WorkloadState, d *appsv1.Deployment) (*apply.LastChange, error) {
	raw := d.Annotations[apply.AnnotationLastChange]
	if raw == "" {
		return nil, nil
	}
	var lc apply.LastChange
	if err := json.Unmarshal([]byte(raw), &lc); err != nil {
		return nil, fmt.Errorf("annotation %s on Deployment %s/%s is not valid JSON, ignoring it: %w", apply.AnnotationLastChange, d.Namespace, d.Name, err)
	}
	if lc.ID == "" {
		return nil, fmt.Errorf("annotation %s on Deployment %s/%s names no decision id, ignoring it", apply.AnnotationLastChange, d.Namespace, d.Name)
	}
	if known(st.LastChange, lc) {
		return nil, nil
	}
	reverted := lc.Action == string(Revert)
	st.LastChange = &ChangeRecord{ID: lc.ID, Time: lc.Time, FromRevision: lc.FromRevision, Changes: lc.Changes, Reverted: reverted, Verified: reverted}
	return &lc, nil
}

// adoptedKind is what an adopted change on the Deployment did: an Apply, or else the revert of one.
func adoptedKind(lc *apply.LastChange) Kind {
	if lc.Action == string(Apply) {
		return Apply
	}
	return Revert
}

// known reports whether the state already accounts for the change recorded on the Deployment: it is the last
// change, an older one, or the revert of the last change once that revert was written (Applied keeps the
// change's record and marks it reverted, so the revert's own ID is not the record's).
func known(last *ChangeRecord, lc apply.LastChange) bool {
	if last == nil {
		return false
	}
	return last.ID == lc.ID || last.Time.After(lc.Time) || (last.Reverted && lc.ID == last.ID+revertSuffix)
}
