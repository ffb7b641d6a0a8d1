package bench

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// serverSideApply does to the Deployment what the API server does with probe-tuner's server-side apply of obj
// (built by apply.Build): the annotations obj names are set; each probe obj names gets the fields obj gives it
// (a probe probe-tuner added comes whole, handler included; of the others only the owned timing fields), the
// rest of the probe staying as it is; and a probe probe-tuner owned whole before (before) and owns no longer
// (after) is removed, since probe-tuner was its only manager. Fields probe-tuner released to a person are not
// in obj and stay as they are. Native sidecars are named under initContainers, app containers under containers.
// It returns the new pod template, for the fleet to roll out.
func serverSideApply(d *appsv1.Deployment, obj *unstructured.Unstructured, before, after apply.Owned) (corev1.PodTemplateSpec, error) {
	t := *d.Spec.Template.DeepCopy()
	containers, _, err := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
	if err != nil {
		return t, fmt.Errorf("the apply of Deployment %s has no container list: %w", d.Name, err)
	}
	sidecars, _, err := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "initContainers")
	if err != nil {
		return t, fmt.Errorf("the apply of Deployment %s has an unreadable init container list: %w", d.Name, err)
	}
	for i, raw := range append(containers, sidecars...) {
		fields, _ := raw.(map[string]any)
		name, _ := fields["name"].(string)
		c, sidecar := probes.FindTunable(&t.Spec, name)
		if c == nil || sidecar != (i >= len(containers)) {
			return t, fmt.Errorf("the apply of Deployment %s names container %q, which the template lacks in that list", d.Name, name)
		}
		set := probes.ContainerSet(c)
		for _, k := range probes.Kinds {
			patch, ok := fields[string(k)+"Probe"].(map[string]any)
			if !ok {
				continue
			}
			p, err := patchProbe(set.Get(k), patch)
			if err != nil {
				return t, fmt.Errorf("applying the %s probe of container %s of Deployment %s: %w", k, name, d.Name, err)
			}
			set.Set(k, p)
		}
		probes.SetContainer(c, set)
	}
	for name, kinds := range before {
		c, _ := probes.FindTunable(&t.Spec, name)
		if c == nil {
			continue
		}
		set := probes.ContainerSet(c)
		for k, op := range kinds {
			if op.Whole && after[name][k] == nil {
				set.Set(k, nil)
			}
		}
		probes.SetContainer(c, set)
	}
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	for k, v := range obj.GetAnnotations() {
		d.Annotations[k] = v
	}
	return t, nil
}

// patchProbe sets the fields the patch names on a copy of the probe (a new probe when there is none).
func patchProbe(p *corev1.Probe, patch map[string]any) (*corev1.Probe, error) {
	merged := map[string]any{}
	if p != nil {
		current, err := runtime.DefaultUnstructuredConverter.ToUnstructured(p)
		if err != nil {
			return nil, err
		}
		merged = current
	}
	for k, v := range patch {
		merged[k] = runtime.DeepCopyJSONValue(v)
	}
	out := &corev1.Probe{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(merged, out); err != nil {
		return nil, err
	}
	return out, nil
}
