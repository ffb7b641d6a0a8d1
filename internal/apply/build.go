package apply

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// LastChange is the content of the last-change annotation: what a person reads to see the last change, and
// what lets probe-tuner apply and record each decision exactly once across restarts. It is bound to its
// Deployment (name, UID, generation) and numbered (Seq), so that a copied, forged or replayed record is told
// from a real one: see ParseLastChange and Check. Records of earlier releases carry none of the binding fields.
type LastChange struct {
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	Policy string    `json:"policy"`
	Action string    `json:"action"`
	// Deployment and UID name the Deployment the record was written on; empty in a record of an earlier release.
	Deployment string    `json:"deployment,omitempty"`
	UID        types.UID `json:"uid,omitempty"`
	// Generation is the Deployment's metadata.generation the change was written on (the write raises it).
	Generation int64 `json:"generation,omitempty"`
	// Seq numbers probe-tuner's writes to this Deployment, 1 for the first: a record with a number the state
	// already holds is not new, however often it is found again.
	Seq int64 `json:"seq,omitempty"`
	// ChangesApplied counts the probe changes Policy has written to this Deployment, this record's included: a
	// policy that lost its checkpoint takes the count back from here instead of counting the record again.
	ChangesApplied int64           `json:"changesApplied,omitempty"`
	Summary        []string        `json:"summary"`
	FromRevision   string          `json:"fromRevision,omitempty"`
	Changes        []probes.Change `json:"changes,omitempty"`
}

// Request is one change to write to a Deployment.
type Request struct {
	Deployment *appsv1.Deployment
	// Owned is what probe-tuner owns before this change (overridden fields already released).
	Owned Owned
	// Changes are the fields to change; Desired holds the complete probes after the change, per container.
	Changes []probes.Change
	Desired map[string]probes.Set
	// LastChange describes the change for the annotation.
	LastChange LastChange
}

// Build returns the object to server-side apply and the owned set after it. The object names the Deployment,
// probe-tuner's annotations, and for each container only the probe fields probe-tuner owns: whatever else anyone
// changes concurrently (image, replicas, other probe fields) is neither reverted nor needed. A native sidecar's
// fields go to its entry of the init containers. A change to a plain init container is refused, and fields owned
// on one (a sidecar someone turned into a plain init container) are dropped from the owned set, unwritten.
func Build(req Request) (*unstructured.Unstructured, Owned, error) {
	d := req.Deployment
	owned := clone(req.Owned)
	for name := range owned {
		if isPlainInit(d, name) {
			delete(owned, name)
		}
	}
	for _, ch := range req.Changes {
		if isPlainInit(d, ch.Container) {
			return nil, nil, fmt.Errorf("change of the %s probe of container %s: it is an init container without restartPolicy Always, which runs to completion and is never tuned", ch.Probe, ch.Container)
		}
	}
	for _, ch := range req.Changes {
		set := req.Desired[ch.Container]
		p := set.Get(ch.Probe)
		switch {
		case ch.Field == probes.WholeProbe && ch.To == 0:
			if op := owned[ch.Container][ch.Probe]; op != nil && len(op.Released) > 0 {
				op.Whole, op.Fields = false, nil // removed, and what was released stays recorded
			} else {
				delete(owned[ch.Container], ch.Probe)
			}
		case ch.Field == probes.WholeProbe:
			if p == nil {
				return nil, nil, fmt.Errorf("change adds a %s probe to container %s but no probe was given", ch.Probe, ch.Container)
			}
			op := owned.probe(ch.Container, ch.Probe)
			op.Whole = true
			op.take(probes.WholeProbe)
			v := probes.Of(p)
			for _, f := range probes.Fields {
				op.Fields[f], _ = v.Field(f)
			}
		default:
			if p == nil {
				return nil, nil, fmt.Errorf("change of %s %s on container %s: the probe does not exist", ch.Probe, ch.Field, ch.Container)
			}
			op := owned.probe(ch.Container, ch.Probe)
			op.Fields[ch.Field] = ch.To
			op.take(ch.Field)
		}
	}

	previous := map[string]map[probes.Kind]*corev1.Probe{}
	for _, ch := range req.Changes {
		if c := findContainer(d, ch.Container); c != nil {
			if previous[ch.Container] == nil {
				previous[ch.Container] = map[probes.Kind]*corev1.Probe{}
			}
			for _, k := range probes.Kinds {
				if p := probes.ContainerSet(c).Get(k); p != nil {
					previous[ch.Container][k] = p
				}
			}
		}
	}

	var containers, sidecars []any
	for _, name := range sortedKeys(owned) {
		c := map[string]any{"name": name}
		for _, k := range probes.Kinds {
			op := owned[name][k]
			if op == nil || (!op.Whole && len(op.Fields) == 0) {
				continue
			}
			probe, err := probeObject(op, req.Desired[name].Get(k), findContainer(d, name), k)
			if err != nil {
				return nil, nil, err
			}
			c[string(k)+"Probe"] = probe
		}
		if len(c) <= 1 {
			continue // a container named with nothing else would still claim the list entry
		}
		if _, sidecar := probes.FindTunable(&d.Spec.Template.Spec, name); sidecar {
			sidecars = append(sidecars, c)
		} else {
			containers = append(containers, c)
		}
	}
	podSpec := map[string]any{"containers": containers}
	if len(sidecars) > 0 {
		// Omitted when empty, like any field probe-tuner no longer owns: server-side apply then drops what it owned.
		podSpec["initContainers"] = sidecars
	}

	managed, err := json.Marshal(owned)
	if err != nil {
		return nil, nil, err
	}
	last, err := encodeLastChange(req.LastChange)
	if err != nil {
		return nil, nil, err
	}
	prev, err := json.Marshal(previous)
	if err != nil {
		return nil, nil, err
	}
	if len(prev) > MaxRecordBytes {
		return nil, nil, fmt.Errorf("the previous probes of the changed containers take %d bytes, more than the %d probe-tuner reads back", len(prev), MaxRecordBytes)
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata": map[string]any{
			"name":      d.Name,
			"namespace": d.Namespace,
			"annotations": map[string]any{
				AnnotationManaged:    string(managed),
				AnnotationLastChange: string(last),
				AnnotationPrevious:   string(prev),
			},
		},
		"spec": map[string]any{"template": map[string]any{"spec": podSpec}},
	}}
	return u, owned, nil
}

// probeObject renders the owned part of one probe: the whole probe (handler included) when probe-tuner added it,
// otherwise only the owned timing fields. Values come from the desired probe, or the current one when the
// container is not being changed now.
func probeObject(op *OwnedProbe, desired *corev1.Probe, current *corev1.Container, k probes.Kind) (map[string]any, error) {
	src := desired
	if src == nil && current != nil {
		src = probes.ContainerSet(current).Get(k)
	}
	if src == nil {
		return nil, fmt.Errorf("no %s probe to take the owned fields from", k)
	}
	out := map[string]any{}
	if op.Whole {
		full, err := runtime.DefaultUnstructuredConverter.ToUnstructured(src)
		if err != nil {
			return nil, err
		}
		out = full
	}
	v := probes.Of(src)
	for _, f := range probes.Fields {
		if _, ok := op.Fields[f]; !ok {
			delete(out, string(f))
			continue
		}
		val, _ := v.Field(f)
		op.Fields[f] = val
		out[string(f)] = int64(val)
	}
	return out, nil
}

func clone(o Owned) Owned {
	out := Owned{}
	for c, m := range o {
		out[c] = map[probes.Kind]*OwnedProbe{}
		for k, p := range m {
			cp := &OwnedProbe{Whole: p.Whole, Fields: map[probes.Field]int32{}, Released: slices.Clone(p.Released)}
			for f, v := range p.Fields {
				cp.Fields[f] = v
			}
			out[c][k] = cp
		}
	}
	return out
}

// encodeLastChange renders the record, without the changes' evidence when the whole would be longer than
// ParseLastChange reads (the evidence is in the Events and the status too). A record too long even so is an
// error: probe-tuner does not write a record it could not read back.
func encodeLastChange(lc LastChange) ([]byte, error) {
	out, err := json.Marshal(lc)
	if err != nil || len(out) <= MaxRecordBytes {
		return out, err
	}
	lc.Changes = slices.Clone(lc.Changes)
	for i := range lc.Changes {
		lc.Changes[i].Evidence = ""
	}
	if out, err = json.Marshal(lc); err != nil {
		return nil, err
	}
	if len(out) > MaxRecordBytes {
		return nil, fmt.Errorf("the last-change record of decision %s takes %d bytes, more than the %d probe-tuner reads back", lc.ID, len(out), MaxRecordBytes)
	}
	return out, nil
}
