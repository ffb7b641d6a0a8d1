package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/test/harness/sim"
)

// MaxDuration is the longest virtual time a scenario may ask for.
const MaxDuration = 14 * 24 * time.Hour

// MaxReplicas bounds a scenario's replicas, so that one file cannot make the suite slow by accident.
const MaxReplicas = 50

// Scenario is one benchmark scenario as written in a file under test/scenarios/.
type Scenario struct {
	// Name identifies the scenario in the output; unique within a suite.
	Name string `json:"name"`
	// Description says what the scenario models and which real failure story it comes from.
	Description string `json:"description"`
	// Duration is the virtual time simulated ("6h", "72h").
	Duration Duration `json:"duration"`
	// Seed seeds the simulator (default 1).
	Seed uint64 `json:"seed,omitempty"`
	// Replicas overrides the Deployment's spec.replicas.
	Replicas int32 `json:"replicas,omitempty"`
	// ProbeProblem says whether the probes are at fault. False: the right answer is to change nothing (default
	// true).
	ProbeProblem *bool `json:"probeProblem,omitempty"`
	// Deployment is the apps/v1 Deployment, with simulator behaviour annotations on its pod template.
	Deployment appsv1.Deployment `json:"deployment"`
	// Policy is the ProbePolicy spec that selects the Deployment (its selector may be omitted; mode defaults to
	// Auto).
	Policy tuningv1alpha1.ProbePolicySpec `json:"policy"`
	// Events are things that happen at given virtual times.
	Events []Event `json:"events,omitempty"`

	// File is where the scenario was read from (not part of the file format).
	File string `json:"-"`
	// settings is Policy resolved.
	settings policy.Settings
	// surge and unavailable are the Deployment's rolling update bounds, resolved for Replicas.
	surge, unavailable int32
}

// Event is one timed event of a scenario: exactly one of Deploy, Outage and Hang.
type Event struct {
	// At is the virtual time since the start of the run.
	At     Duration     `json:"at"`
	Deploy *DeployEvent `json:"deploy,omitempty"`
	Outage *OutageEvent `json:"outage,omitempty"`
	Hang   *HangEvent   `json:"hang,omitempty"`
}

// DeployEvent is a release that probe-tuner did not cause: it changes container images and pod template
// annotations (simulator behaviour included) and leaves the probes as they are, like `kubectl set image`.
type DeployEvent struct {
	// Images maps container names to their new image.
	Images map[string]string `json:"images,omitempty"`
	// Annotations are merged into the pod template's annotations; an empty value removes the key.
	Annotations map[string]string `json:"annotations,omitempty"`
}

// OutageEvent takes a shared dependency down for every container that names it (sim.probetuner.io/dependency).
type OutageEvent struct {
	// Dependency is the dependency's name ("default" when empty).
	Dependency string `json:"dependency,omitempty"`
	// For is how long the outage lasts.
	For Duration `json:"for"`
}

// HangEvent makes one container of one pod hang: every HTTP, gRPC and exec check times out until the container
// is restarted.
type HangEvent struct {
	// Pod indexes the Deployment's pods that are not terminating, oldest first; a negative index counts from
	// the newest (-1 is the newest pod).
	Pod int `json:"pod"`
	// Container is the container that hangs (the first one when empty).
	Container string `json:"container,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("90s", "6h", "1h30m").
type Duration struct{ time.Duration }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"90s\" or \"6h\", got %s", string(b))
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (want Go syntax such as 90s, 6h or 1h30m)", s)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// IsProbeProblem reports whether the scenario's probes are at fault.
func (s *Scenario) IsProbeProblem() bool { return s.ProbeProblem == nil || *s.ProbeProblem }

// Settings returns the scenario's resolved policy settings.
func (s *Scenario) Settings() policy.Settings { return s.settings }

// Load reads the scenarios of a file, or of every *.yaml and *.yml file of a directory (not recursive), sorted
// by file name. Every problem of every file is reported, each prefixed with its file.
func Load(path string) ([]*Scenario, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	files := []string{path}
	if info.IsDir() {
		files = nil
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: no *.yaml scenario file", path)
		}
		sort.Strings(files)
	}
	var out []*Scenario
	var errs []error
	names := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sc, err := Parse(data)
		if err != nil {
			errs = append(errs, prefixErrors(f, err))
			continue
		}
		sc.File = f
		if other, dup := names[sc.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: name: %q is already used by %s", f, sc.Name, other))
			continue
		}
		names[sc.Name] = f
		out = append(out, sc)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// prefixErrors prefixes every line of a (joined) error with the file name.
func prefixErrors(file string, err error) error {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = file + ": " + l
	}
	return errors.New(strings.Join(lines, "\n"))
}

// Parse reads and validates one scenario. Unknown fields are errors; every problem found is reported, one per
// line, with the path of the offending field.
func Parse(data []byte) (*Scenario, error) {
	sc := &Scenario{}
	if err := yaml.UnmarshalStrict(data, sc); err != nil {
		return nil, fmt.Errorf("not a valid scenario: %s", cleanYAMLError(err))
	}
	if err := sc.validate(); err != nil {
		return nil, err
	}
	return sc, nil
}

// cleanYAMLError drops the decoder's internal prefixes from an unmarshalling error.
func cleanYAMLError(err error) string {
	msg := err.Error()
	for _, p := range []string{"error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return msg
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// validate checks the scenario and fills in defaults. It collects every problem.
func (s *Scenario) validate() error {
	var errs []string
	bad := func(field, format string, args ...any) {
		errs = append(errs, field+": "+fmt.Sprintf(format, args...))
	}
	switch {
	case s.Name == "":
		bad("name", "required")
	case len(s.Name) > 63 || !nameRE.MatchString(s.Name):
		bad("name", "%q must be lower-case letters, digits and '-', at most 63 characters", s.Name)
	}
	if strings.TrimSpace(s.Description) == "" {
		bad("description", "required: say what the scenario models and which failure story it comes from")
	}
	switch {
	case s.Duration.Duration <= 0:
		bad("duration", "required and must be positive (for example \"6h\")")
	case s.Duration.Duration > MaxDuration:
		bad("duration", "%s is longer than the maximum of %s", s.Duration, MaxDuration)
	}
	if s.Seed == 0 {
		s.Seed = 1
	}

	d := &s.Deployment
	if d.APIVersion != "" && d.APIVersion != "apps/v1" {
		bad("deployment.apiVersion", "%q is not supported (want apps/v1)", d.APIVersion)
	}
	if d.Kind != "" && d.Kind != "Deployment" {
		bad("deployment.kind", "%q is not a Deployment", d.Kind)
	}
	if d.Name == "" {
		bad("deployment.metadata.name", "required")
	}
	if d.Namespace == "" {
		d.Namespace = corev1.NamespaceDefault
	}
	switch {
	case s.Replicas < 0:
		bad("replicas", "%d is negative", s.Replicas)
	case s.Replicas == 0 && d.Spec.Replicas != nil:
		s.Replicas = *d.Spec.Replicas
	case s.Replicas == 0:
		bad("replicas", "required (or set deployment.spec.replicas)")
	}
	if s.Replicas < 0 || s.Replicas > MaxReplicas {
		bad("replicas", "%d is outside 1..%d", s.Replicas, MaxReplicas)
	}
	r := s.Replicas
	d.Spec.Replicas = &r

	containers := map[string]bool{}
	var names []string
	tmpl := &d.Spec.Template
	if len(tmpl.Spec.Containers) == 0 {
		bad("deployment.spec.template.spec.containers", "at least one container is required")
	}
	for i, c := range tmpl.Spec.Containers {
		switch {
		case c.Name == "":
			bad(fmt.Sprintf("deployment.spec.template.spec.containers[%d].name", i), "required")
		case containers[c.Name]:
			bad(fmt.Sprintf("deployment.spec.template.spec.containers[%d].name", i), "%q is used twice", c.Name)
		}
		if c.Image == "" {
			bad(fmt.Sprintf("deployment.spec.template.spec.containers[%d].image", i), "required")
		}
		containers[c.Name] = true
	}
	// Init containers share the containers' names; native sidecars are run, tuned and named like containers,
	// plain init containers only complete.
	initNames := map[string]bool{}
	for i, c := range tmpl.Spec.InitContainers {
		path := fmt.Sprintf("deployment.spec.template.spec.initContainers[%d]", i)
		switch {
		case c.Name == "":
			bad(path+".name", "required")
		case containers[c.Name] || initNames[c.Name]:
			bad(path+".name", "%q is used twice", c.Name)
		}
		if c.Image == "" {
			bad(path+".image", "required")
		}
		initNames[c.Name] = true
		if probes.IsNativeSidecar(&c) {
			containers[c.Name] = true
		}
	}
	names = sim.ContainerNames(&tmpl.Spec)
	sim.ApplyDefaults(&tmpl.Spec)
	for _, e := range sim.ValidateProbes(&tmpl.Spec) {
		bad("deployment.spec.template."+e.Field, "%s", e.ErrorBody())
	}
	if _, err := sim.ParseBehaviors(tmpl.Annotations, names); err != nil {
		bad("deployment.spec.template.metadata.annotations", "%v", err)
	}
	if len(tmpl.Labels) == 0 {
		bad("deployment.spec.template.metadata.labels", "required: the pods need labels for the selector")
	}
	s.resolveStrategy(bad)

	if s.Policy.Mode == "" {
		s.Policy.Mode = tuningv1alpha1.ModeAuto
	}
	settings, err := policy.Resolve(s.Policy)
	if err != nil {
		bad("policy", "%v", err)
	}
	s.settings = settings
	for i, c := range s.Policy.Containers {
		if !containers[c] {
			bad(fmt.Sprintf("policy.containers[%d]", i), "%q is not a container of the Deployment", c)
		}
	}

	annotations := map[string]string{}
	for k, v := range tmpl.Annotations {
		annotations[k] = v
	}
	for i := range s.Events {
		e := &s.Events[i]
		path := fmt.Sprintf("events[%d]", i)
		if e.At.Duration < 0 || (s.Duration.Duration > 0 && e.At.Duration >= s.Duration.Duration) {
			bad(path+".at", "%s is outside the run (0 to %s)", e.At, s.Duration)
		}
		if i > 0 && e.At.Duration < s.Events[i-1].At.Duration {
			bad(path+".at", "%s comes before the previous event (%s): list events in time order", e.At, s.Events[i-1].At)
		}
		n := 0
		if e.Deploy != nil {
			n++
			dp := e.Deploy
			if len(dp.Images) == 0 && len(dp.Annotations) == 0 {
				bad(path+".deploy", "changes nothing: set images or annotations")
			}
			for _, c := range sortedKeys(dp.Images) {
				if !containers[c] {
					bad(path+".deploy.images", "%q is not a container of the Deployment", c)
				}
				if dp.Images[c] == "" {
					bad(path+".deploy.images."+c, "empty image")
				}
			}
			for k, v := range dp.Annotations {
				if v == "" {
					delete(annotations, k)
				} else {
					annotations[k] = v
				}
			}
			if _, err := sim.ParseBehaviors(annotations, names); err != nil {
				bad(path+".deploy.annotations", "the template annotations after this deploy are invalid: %v", err)
			}
		}
		if e.Outage != nil {
			n++
			if e.Outage.For.Duration <= 0 {
				bad(path+".outage.for", "required and must be positive")
			}
		}
		if e.Hang != nil {
			n++
			if s.Replicas > 0 && (e.Hang.Pod >= int(s.Replicas) || e.Hang.Pod < -int(s.Replicas)) {
				bad(path+".hang.pod", "%d is out of range for %d replicas (use 0..%d, or -1 for the newest pod)", e.Hang.Pod, s.Replicas, s.Replicas-1)
			}
			if e.Hang.Container != "" && !containers[e.Hang.Container] {
				bad(path+".hang.container", "%q is not a container of the Deployment", e.Hang.Container)
			}
		}
		if n != 1 {
			bad(path, "set exactly one of deploy, outage and hang (found %d)", n)
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}

// resolveStrategy reads the Deployment's rolling update bounds (default 25% / 25%), rounding maxSurge up and
// maxUnavailable down as the Deployment controller does.
func (s *Scenario) resolveStrategy(bad func(field, format string, args ...any)) {
	st := s.Deployment.Spec.Strategy
	if st.Type != "" && st.Type != appsv1.RollingUpdateDeploymentStrategyType {
		bad("deployment.spec.strategy.type", "%q is not supported (only RollingUpdate is modelled)", st.Type)
		return
	}
	quarter := intstr.FromString("25%")
	surge, unavailable := quarter, quarter
	if ru := st.RollingUpdate; ru != nil {
		if ru.MaxSurge != nil {
			surge = *ru.MaxSurge
		}
		if ru.MaxUnavailable != nil {
			unavailable = *ru.MaxUnavailable
		}
	}
	n := int(s.Replicas)
	sv, err := intstr.GetScaledValueFromIntOrPercent(&surge, n, true)
	if err != nil || sv < 0 {
		bad("deployment.spec.strategy.rollingUpdate.maxSurge", "%q is not a non-negative number or percentage", surge.String())
		return
	}
	uv, err := intstr.GetScaledValueFromIntOrPercent(&unavailable, n, false)
	if err != nil || uv < 0 {
		bad("deployment.spec.strategy.rollingUpdate.maxUnavailable", "%q is not a non-negative number or percentage", unavailable.String())
		return
	}
	if sv == 0 && uv == 0 {
		if isZero(surge) && isZero(unavailable) {
			bad("deployment.spec.strategy.rollingUpdate", "maxSurge and maxUnavailable may not both be 0")
			return
		}
		uv = 1 // the Deployment controller's rule when percentages round to zero
	}
	s.surge, s.unavailable = int32(sv), int32(min(uv, n))
}

func isZero(v intstr.IntOrString) bool {
	return (v.Type == intstr.Int && v.IntVal == 0) || (v.Type == intstr.String && strings.TrimSuffix(v.StrVal, "%") == "0")
}

// sortedKeys returns the keys of m in order, for a deterministic iteration.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
