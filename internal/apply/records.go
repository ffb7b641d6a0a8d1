package apply

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// MaxRecordBytes bounds the last-change and previous-probes annotations probe-tuner reads: a longer value is
// rejected unread. Build keeps what it writes under it (a Deployment's annotations hold 256 KiB in all).
const MaxRecordBytes = 64 << 10

// ClockSkew is how far in the future a last-change record may be dated and still be taken for one written now by
// an operator whose clock runs a little ahead.
const ClockSkew = 2 * time.Minute

// maxProbeValue bounds any timing value a record may name: far above what a policy allows, far below overflow.
const maxProbeValue = 1 << 20

// Actions a last-change record names.
const (
	ActionApply  = "Apply"
	ActionRevert = "Revert"
)

// ParseLastChange reads a last-change annotation on its own: bounded in size, valid JSON, a decision id, a time,
// a known action, at least one change, and changes that name a container, a probe kind, a timing field (or the
// whole probe) and values a probe can hold. Whether the record belongs to a Deployment is Check's question.
func ParseLastChange(raw string) (LastChange, error) {
	var lc LastChange
	if len(raw) > MaxRecordBytes {
		return lc, fmt.Errorf("it is %d bytes long, more than the %d a record probe-tuner writes can be", len(raw), MaxRecordBytes)
	}
	if err := json.Unmarshal([]byte(raw), &lc); err != nil {
		return LastChange{}, fmt.Errorf("it is not valid JSON: %w", err)
	}
	var errs []error
	if lc.ID == "" {
		errs = append(errs, errors.New("it names no decision id"))
	}
	if lc.Time.IsZero() {
		errs = append(errs, errors.New("it has no time"))
	}
	if lc.Action != ActionApply && lc.Action != ActionRevert {
		errs = append(errs, fmt.Errorf("its action %q is neither %s nor %s", lc.Action, ActionApply, ActionRevert))
	}
	if len(lc.Changes) == 0 {
		errs = append(errs, errors.New("it lists no change"))
	}
	if lc.Seq < 0 || lc.ChangesApplied < 0 || lc.Generation < 0 {
		errs = append(errs, fmt.Errorf("negative seq %d, changesApplied %d or generation %d", lc.Seq, lc.ChangesApplied, lc.Generation))
	}
	if lc.Seq > 0 && lc.ChangesApplied > lc.Seq*maxChangesPerWrite {
		errs = append(errs, fmt.Errorf("changesApplied %d is more than %d writes can have made", lc.ChangesApplied, lc.Seq))
	}
	for i, ch := range lc.Changes {
		if err := checkChange(ch); err != nil {
			errs = append(errs, fmt.Errorf("change %d: %w", i+1, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return LastChange{}, err
	}
	return lc, nil
}

// maxChangesPerWrite bounds the changes one write can make: every timing field and the whole probe, of every
// kind, of a pod's maximum of containers is far more than any decision holds.
const maxChangesPerWrite = 1 << 12

// checkChange checks one change of a record on its own.
func checkChange(ch probes.Change) error {
	switch {
	case ch.Container == "":
		return errors.New("it names no container")
	case !slices.Contains(probes.Kinds, ch.Probe):
		return fmt.Errorf("probe kind %q is none of startup, liveness, readiness", ch.Probe)
	case ch.Field == probes.WholeProbe:
		if (ch.From != 0 && ch.From != 1) || (ch.To != 0 && ch.To != 1) || ch.From == ch.To {
			return fmt.Errorf("a whole-probe change goes from %d to %d, not between 0 (no probe) and 1 (a probe)", ch.From, ch.To)
		}
	case !slices.Contains(probes.Fields, ch.Field):
		return fmt.Errorf("field %q is not a probe timing field", ch.Field)
	case ch.From < 0 || ch.To < 0 || ch.From > maxProbeValue || ch.To > maxProbeValue:
		return fmt.Errorf("%s %s goes from %d to %d, outside 0..%d", ch.Probe, ch.Field, ch.From, ch.To, maxProbeValue)
	}
	return nil
}

// Legacy reports whether the record was written by a release before records were bound to their Deployment: it
// names no UID, so only its values can vouch for it.
func (lc LastChange) Legacy() bool { return lc.UID == "" }

// Check reports whether a parsed record belongs to the Deployment as it is now: it names this Deployment (by name
// and UID; a legacy record names neither), it was written on a generation the Deployment has reached, it is not
// dated after now (beyond the clock skew allowed), and the values it says it wrote are the ones the Deployment's
// containers hold now. A record whose values are not in the spec was never written here, or was undone since.
func (lc LastChange) Check(d *appsv1.Deployment, now time.Time) error {
	switch {
	case lc.Deployment != "" && lc.Deployment != d.Name:
		return fmt.Errorf("it was written for Deployment %s, not %s (copied from another workload?)", lc.Deployment, d.Name)
	case lc.UID != "" && lc.UID != d.UID:
		return fmt.Errorf("it was written for a Deployment with UID %s, not this one's %s (copied, or the Deployment was re-created)", lc.UID, d.UID)
	case lc.Generation > d.Generation:
		return fmt.Errorf("it was written on generation %d, and the Deployment is only at %d", lc.Generation, d.Generation)
	case lc.Time.After(now.Add(ClockSkew)):
		return fmt.Errorf("it is dated %s, in the future (now is %s)", lc.Time.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return ValuesHeld(lc.Changes, d)
}

// ValuesHeld reports whether the Deployment's containers hold the values the changes set: each field its "to"
// value, each added probe present, each removed probe gone.
func ValuesHeld(changes []probes.Change, d *appsv1.Deployment) error {
	var errs []error
	for _, ch := range changes {
		c := findContainer(d, ch.Container)
		if c == nil {
			errs = append(errs, fmt.Errorf("the Deployment has no container %s to tune", ch.Container))
			continue
		}
		p := probes.ContainerSet(c).Get(ch.Probe)
		switch {
		case ch.Field == probes.WholeProbe && ch.To == 0 && p != nil:
			errs = append(errs, fmt.Errorf("it removed the %s probe of container %s, which has one", ch.Probe, ch.Container))
		case ch.Field == probes.WholeProbe && ch.To == 1 && p == nil:
			errs = append(errs, fmt.Errorf("it added a %s probe to container %s, which has none", ch.Probe, ch.Container))
		case ch.Field == probes.WholeProbe:
		case p == nil:
			errs = append(errs, fmt.Errorf("it set %s %s of container %s to %d, and the container has no %s probe", ch.Probe, ch.Field, ch.Container, ch.To, ch.Probe))
		default:
			if got, _ := probes.Of(p).Field(ch.Field); got != ch.To {
				errs = append(errs, fmt.Errorf("it set %s %s of container %s to %d, and the Deployment holds %d", ch.Probe, ch.Field, ch.Container, ch.To, got))
			}
		}
	}
	return errors.Join(errs...)
}

// Previous is the content of the previous-probes annotation: per container, the probes before the last change.
type Previous map[string]map[probes.Kind]*corev1.Probe

// ParsePrevious reads a previous-probes annotation on its own: bounded in size, valid JSON, known probe kinds,
// and probes the API server would accept.
func ParsePrevious(raw string) (Previous, error) {
	if len(raw) > MaxRecordBytes {
		return nil, fmt.Errorf("it is %d bytes long, more than the %d a record probe-tuner writes can be", len(raw), MaxRecordBytes)
	}
	var prev Previous
	if err := json.Unmarshal([]byte(raw), &prev); err != nil {
		return nil, fmt.Errorf("it is not valid JSON: %w", err)
	}
	if len(prev) == 0 {
		return nil, errors.New("it names no container")
	}
	var errs []error
	for _, name := range sortedKeys(prev) {
		if name == "" {
			errs = append(errs, errors.New("a container has no name"))
		}
		for k, p := range prev[name] {
			if !slices.Contains(probes.Kinds, k) {
				errs = append(errs, fmt.Errorf("container %s: probe kind %q is none of startup, liveness, readiness", name, k))
				continue
			}
			if p == nil {
				errs = append(errs, fmt.Errorf("container %s: the %s probe is null", name, k))
				continue
			}
			if err := probes.Validate(p, k); err != nil {
				errs = append(errs, fmt.Errorf("container %s: %w", name, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return prev, nil
}

// Check reports whether the previous probes belong to the Deployment: each container is one of its tunable
// containers and, when the Deployment's last-change record is known good (lc not nil), they are the probes that
// change started from: each changed field's "from" value, no probe where the change added one, a probe where
// it removed one.
func (p Previous) Check(d *appsv1.Deployment, lc *LastChange) error {
	var errs []error
	for _, name := range sortedKeys(p) {
		if findContainer(d, name) == nil {
			errs = append(errs, fmt.Errorf("the Deployment has no container %s to tune (copied from another workload?)", name))
		}
	}
	if lc == nil {
		return errors.Join(errs...)
	}
	for _, ch := range lc.Changes {
		probe := p[ch.Container][ch.Probe]
		switch {
		case p[ch.Container] == nil:
			errs = append(errs, fmt.Errorf("it holds nothing for container %s, which the last change %s changed", ch.Container, lc.ID))
		case ch.Field == probes.WholeProbe && ch.From == 0 && probe != nil:
			errs = append(errs, fmt.Errorf("it holds a %s probe for container %s, which had none before the last change %s added one", ch.Probe, ch.Container, lc.ID))
		case ch.Field == probes.WholeProbe && ch.From == 1 && probe == nil:
			errs = append(errs, fmt.Errorf("it holds no %s probe for container %s, whose probe the last change %s removed", ch.Probe, ch.Container, lc.ID))
		case ch.Field == probes.WholeProbe:
		case probe == nil:
			errs = append(errs, fmt.Errorf("it holds no %s probe for container %s, whose %s the last change %s changed", ch.Probe, ch.Container, ch.Field, lc.ID))
		default:
			if got, _ := probes.Of(probe).Field(ch.Field); got != ch.From {
				errs = append(errs, fmt.Errorf("its %s %s of container %s is %d, and the last change %s started from %d", ch.Probe, ch.Field, ch.Container, got, lc.ID, ch.From))
			}
		}
	}
	return errors.Join(errs...)
}

// Restore returns a copy of the Deployment with the previous probes put back in its containers (a probe kind the
// previous probes do not hold is removed from a container they name: it was added by the change).
func (p Previous) Restore(d *appsv1.Deployment) *appsv1.Deployment {
	out := d.DeepCopy()
	for name, kinds := range p {
		c, _ := probes.FindTunable(&out.Spec.Template.Spec, name)
		if c == nil {
			continue
		}
		var set probes.Set
		for k, probe := range kinds {
			set.Set(k, probe.DeepCopy())
		}
		probes.SetContainer(c, set)
	}
	return out
}
