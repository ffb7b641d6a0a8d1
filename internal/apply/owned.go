// Package apply builds the server-side apply request probe-tuner sends for a Deployment: exactly the probe
// fields it owns (and nothing else of the pod template), plus its annotations. App containers are written under
// spec.template.spec.containers, native sidecars under spec.template.spec.initContainers (both lists keyed by
// name); plain init containers never. It also finds the fields a person
// changed by hand after probe-tuner set them, so that probe-tuner respects them instead of fighting.
//
// It is pure: it reads a Deployment and returns an object to apply; the controller sends it.
package apply

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// Annotations probe-tuner writes on the Deployments it tunes.
const (
	// AnnotationManaged records the probe fields probe-tuner owns and the values it wrote.
	AnnotationManaged = "probetuner.io/managed-probes"
	// AnnotationLastChange describes the last change, for people and for exactly-once recording.
	AnnotationLastChange = "probetuner.io/last-change"
	// AnnotationPrevious holds the probes of the changed containers as they were before the last change, so a
	// person can see and undo it.
	AnnotationPrevious = "probetuner.io/previous-probes"
	// AnnotationPaused, set to "true" by a person, stops probe-tuner from changing the Deployment.
	AnnotationPaused = "probetuner.io/paused"
)

// Owned maps container name and probe kind to the fields probe-tuner owns.
type Owned map[string]map[probes.Kind]*OwnedProbe

// OwnedProbe is what probe-tuner owns of one probe.
type OwnedProbe struct {
	// Whole says probe-tuner added the probe and owns it entirely, handler included.
	Whole bool `json:"whole,omitempty"`
	// Fields are the timing fields owned and the values written.
	Fields map[probes.Field]int32 `json:"fields,omitempty"`
	// Released are the fields (probes.WholeProbe: the whole probe) a person changed after probe-tuner had set them.
	// probe-tuner owns them no more and leaves them alone; kept on the Deployment so that a lost checkpoint
	// neither forgets nor reports them again.
	Released []probes.Field `json:"released,omitempty"`
}

func (op *OwnedProbe) released(f probes.Field) bool { return slices.Contains(op.Released, f) }

// ReleasedRefs lists the fields released to people on the containers the Deployment has, each once and only of
// the field names probe-tuner knows (the annotation is a person's to edit too).
func (o Owned) ReleasedRefs(d *appsv1.Deployment) []probes.FieldRef {
	var out []probes.FieldRef
	for _, c := range sortedKeys(o) {
		if findContainer(d, c) == nil {
			continue
		}
		for _, k := range probes.Kinds {
			op := o[c][k]
			if op == nil {
				continue
			}
			for _, f := range append([]probes.Field{probes.WholeProbe}, probes.Fields...) {
				if op.released(f) {
					out = append(out, probes.FieldRef{Container: c, Probe: k, Field: f})
				}
			}
		}
	}
	return out
}

// ReadOwned reads the owned fields recorded on a Deployment.
func ReadOwned(d *appsv1.Deployment) (Owned, error) {
	raw, ok := d.Annotations[AnnotationManaged]
	if !ok || raw == "" {
		return Owned{}, nil
	}
	owned := Owned{}
	if err := json.Unmarshal([]byte(raw), &owned); err != nil {
		return nil, fmt.Errorf("annotation %s on Deployment %s/%s is not valid JSON: %w", AnnotationManaged, d.Namespace, d.Name, err)
	}
	return owned, nil
}

func (o Owned) probe(container string, k probes.Kind) *OwnedProbe {
	if o[container] == nil {
		o[container] = map[probes.Kind]*OwnedProbe{}
	}
	p := o[container][k]
	if p == nil {
		p = &OwnedProbe{Fields: map[probes.Field]int32{}}
		o[container][k] = p
	}
	if p.Fields == nil {
		p.Fields = map[probes.Field]int32{}
	}
	return p
}

// Overrides lists the owned fields whose value on the Deployment is no longer the one probe-tuner wrote: a person
// (or another tool) changed them. A probe probe-tuner added that is gone counts as overridden too.
func Overrides(o Owned, d *appsv1.Deployment) []probes.FieldRef {
	var out []probes.FieldRef
	for _, c := range sortedKeys(o) {
		container := findContainer(d, c)
		for _, k := range probes.Kinds {
			op := o[c][k]
			if op == nil || op.released(probes.WholeProbe) || (!op.Whole && len(op.Fields) == 0) {
				continue // nothing of it is probe-tuner's
			}
			var p *corev1.Probe
			if container != nil {
				p = probes.ContainerSet(container).Get(k)
			}
			if p == nil {
				out = append(out, probes.FieldRef{Container: c, Probe: k, Field: probes.WholeProbe})
				continue
			}
			v := probes.Of(p)
			for _, field := range probes.Fields {
				want, ok := op.Fields[field]
				if !ok {
					continue
				}
				if got, _ := v.Field(field); got != want {
					out = append(out, probes.FieldRef{Container: c, Probe: k, Field: field})
				}
			}
		}
	}
	return out
}

// Release drops fields from the owned set, so that the next apply leaves them to whoever set them, and marks them
// released, so that the next apply records on the Deployment that they are the person's.
func (o Owned) Release(refs []probes.FieldRef) {
	for _, r := range refs {
		op := o.probe(r.Container, r.Probe)
		if r.Field == probes.WholeProbe {
			op.Whole, op.Fields = false, nil
		} else {
			delete(op.Fields, r.Field)
		}
		if !op.released(r.Field) {
			op.Released = append(op.Released, r.Field)
		}
	}
}

// take makes a field (or the whole probe) owned again: probe-tuner writes it now.
func (op *OwnedProbe) take(f probes.Field) {
	op.Released = slices.DeleteFunc(op.Released, func(r probes.Field) bool { return r == f || f == probes.WholeProbe })
}

// findContainer returns the Deployment's app container or native sidecar of that name; nil for none, and for a
// plain init container, which is never tuned.
func findContainer(d *appsv1.Deployment, name string) *corev1.Container {
	c, _ := probes.FindTunable(&d.Spec.Template.Spec, name)
	return c
}

// isPlainInit reports whether the Deployment's pods have an init container of that name that is not a native
// sidecar: it runs to completion, may not have probes, and probe-tuner must never write it.
func isPlainInit(d *appsv1.Deployment, name string) bool {
	for i := range d.Spec.Template.Spec.InitContainers {
		if c := &d.Spec.Template.Spec.InitContainers[i]; c.Name == name {
			return !probes.IsNativeSidecar(c)
		}
	}
	return false
}

// sortedKeys returns the keys of m in order, for a deterministic iteration.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
