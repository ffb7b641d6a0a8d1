package bench

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/test/harness/sim"
)

func generate(t *testing.T, family string, count int, seed uint64) []GeneratedScenario {
	t.Helper()
	scs, err := Generate(family, count, seed)
	if err != nil {
		t.Fatal(err)
	}
	return scs
}

// parsed generates and parses a family's scenarios.
func parsed(t *testing.T, family string, count int) []*Scenario {
	t.Helper()
	var out []*Scenario
	for _, g := range generate(t, family, count, 1) {
		sc, err := Parse(g.Data)
		if err != nil {
			t.Fatalf("%s: %v", g.Name, err)
		}
		out = append(out, sc)
	}
	return out
}

func TestGenerateIsDeterministic(t *testing.T) {
	a := generate(t, FamilyAll, 44, 7)
	b := generate(t, FamilyAll, 44, 7)
	other := generate(t, FamilyAll, 44, 8)
	if len(a) != len(b) {
		t.Fatalf("%d and %d scenarios from the same arguments", len(a), len(b))
	}
	differ := 0
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("%s: the same arguments gave different files", a[i].Name)
		}
		if !bytes.Equal(a[i].Data, other[i].Data) {
			differ++
		}
	}
	if differ < len(a)*9/10 {
		t.Errorf("only %d of %d scenarios change with the seed", differ, len(a))
	}
	// A family's first scenarios do not depend on how many are asked for.
	short, long := generate(t, "slow-start", 5, 7), generate(t, "slow-start", 12, 7)
	for i := range short {
		if !bytes.Equal(short[i].Data, long[i].Data) {
			t.Errorf("%s differs between --count 5 and --count 12", short[i].Name)
		}
	}
}

func TestGenerateHonoursTheCount(t *testing.T) {
	cases := []struct {
		family string
		count  int
		// perFamily is the least and most scenarios one family gets.
		minPer, maxPer int
	}{
		{"slow-start", 1, 1, 1},
		{"well-tuned", 17, 17, 17},
		{FamilyAll, len(families), 1, 1},
		{FamilyAll, 25, 2, 3},
		{FamilyAll, 330, 27, 28}, // what make bench-quality generates: 12 families, the first 6 get 28
	}
	for _, tc := range cases {
		scs := generate(t, tc.family, tc.count, 1)
		if len(scs) != tc.count {
			t.Errorf("%s x %d: %d scenarios", tc.family, tc.count, len(scs))
		}
		per := map[string]int{}
		names := map[string]bool{}
		for _, s := range scs {
			per[s.Family]++
			if names[s.Name] {
				t.Errorf("%s x %d: %s twice", tc.family, tc.count, s.Name)
			}
			names[s.Name] = true
			if want := fmt.Sprintf("%s-%03d", s.Family, per[s.Family]); s.Name != want {
				t.Errorf("%s x %d: scenario %s, want %s", tc.family, tc.count, s.Name, want)
			}
		}
		for f, n := range per {
			if n < tc.minPer || n > tc.maxPer {
				t.Errorf("%s x %d: family %s got %d, want %d..%d", tc.family, tc.count, f, n, tc.minPer, tc.maxPer)
			}
		}
		if tc.family == FamilyAll && len(per) != min(tc.count, len(families)) {
			t.Errorf("%s x %d: %d families, want every one", tc.family, tc.count, len(per))
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	if _, err := Generate("no-such-family", 3, 1); err == nil || !strings.Contains(err.Error(), `unknown family "no-such-family"`) {
		t.Errorf("unknown family: %v", err)
	}
	if _, err := Generate("slow-start", 0, 1); err == nil {
		t.Error("count 0 accepted")
	}
}

// TestEveryFamilyParses: every family's files pass Parse and read as what they claim: a name matching the
// file, an explicit probeProblem, a description and a duration of at most a day.
func TestEveryFamilyParses(t *testing.T) {
	for _, f := range Families() {
		t.Run(f.Name, func(t *testing.T) {
			for _, g := range generate(t, f.Name, 24, 3) {
				sc, err := Parse(g.Data)
				if err != nil {
					t.Fatalf("%s: %v", g.Name, err)
				}
				if sc.Name != g.Name || sc.ProbeProblem == nil || len(sc.Description) < 80 {
					t.Errorf("%s: name %q, probeProblem %v, description %q", g.Name, sc.Name, sc.ProbeProblem, sc.Description)
				}
				if sc.Duration.Duration > 24*time.Hour || (sc.Duration.Duration > 6*time.Hour && !strings.Contains(sc.Description, "grows")) {
					t.Errorf("%s: %s is longer than the suite needs", g.Name, sc.Duration)
				}
			}
		})
	}
}

// facts are what the range tests read from a generated scenario.
type facts struct {
	sc         *Scenario
	behaviours map[string]*sim.Behavior
	main       corev1.Container
}

func factsOf(t *testing.T, sc *Scenario) facts {
	t.Helper()
	names := sim.ContainerNames(&sc.Deployment.Spec.Template.Spec) // native sidecars have behaviours too
	b, err := sim.ParseBehaviors(sc.Deployment.Spec.Template.Annotations, names)
	if err != nil {
		t.Fatal(err)
	}
	return facts{sc: sc, behaviours: b, main: sc.Deployment.Spec.Template.Spec.Containers[0]}
}

func (f facts) startUpper() time.Duration {
	u, _ := f.behaviours[f.main.Name].Startup.Upper()
	return u
}

// guard is the probe that kills a slow start: the startup probe, else the liveness probe.
func (f facts) guard() *corev1.Probe {
	if f.main.StartupProbe != nil {
		return f.main.StartupProbe
	}
	return f.main.LivenessProbe
}

func handlerOf(p *corev1.Probe) string {
	switch {
	case p == nil:
		return "none"
	case p.HTTPGet != nil:
		return "httpGet"
	case p.TCPSocket != nil:
		return "tcpSocket"
	case p.GRPC != nil:
		return "grpc"
	}
	return "exec"
}

// span collects the least and the largest of some values.
type span struct{ lo, hi float64 }

func (s *span) add(v float64) {
	if *s == (span{}) {
		*s = span{v, v}
	}
	s.lo, s.hi = min(s.lo, v), max(s.hi, v)
}

// TestFamiliesCoverTheirRanges: each family, generated at the size the suite uses, spans the ranges its
// definition promises and labels its variants as the definition says.
func TestFamiliesCoverTheirRanges(t *testing.T) {
	cases := []struct {
		family string
		check  func(t *testing.T, fs []facts)
	}{
		{"slow-start", func(t *testing.T, fs []facts) {
			var start, window, replicas span
			handlers, seen := map[string]bool{}, map[string]bool{}
			for _, f := range fs {
				start.add(f.startUpper().Seconds())
				window.add(float64(probes.Of(f.guard()).Budget()))
				replicas.add(float64(f.sc.Replicas))
				handlers[handlerOf(f.guard())] = true
				seen[fmt.Sprintf("startup probe %v", f.main.StartupProbe != nil)] = true
				seen[fmt.Sprintf("initial delay %v", f.guard().InitialDelaySeconds > 0)] = true
				seen[fmt.Sprintf("problem %v", f.sc.IsProbeProblem())] = true
				if f.startUpper() > time.Duration(f.sc.settings.Startup.MaxBudgetSeconds)*time.Second {
					seen["maxBudgetSeconds below the start"] = true
				}
				g := probes.Of(f.guard())
				longest := f.startUpper().Seconds()
				if b := f.behaviours[f.main.Name]; b.StartupGrowthPer > 0 {
					seen["growing"] = true
					longest += b.StartupGrowth.Seconds() * f.sc.Duration.Seconds() / b.StartupGrowthPer.Seconds()
				}
				switch capped := strings.Contains(f.sc.Description, ", capped)"); {
				case !f.sc.IsProbeProblem() && !capped && float64(g.InitialDelaySeconds+(g.FailureThreshold-1)*g.PeriodSeconds) < comfortStart*longest-1:
					t.Errorf("%s: no problem, but the kill window %+v is below 1.5 x the longest start of %.0fs", f.sc.Name, g, longest)
				case f.sc.IsProbeProblem() && float64(g.Budget()) >= longest:
					t.Errorf("%s: a probe problem, but the budget %ds covers the longest start of %.0fs", f.sc.Name, g.Budget(), longest)
				}
				for _, shape := range []string{"-", "lognormal(", "mix("} {
					if strings.Contains(f.behaviours[f.main.Name].Startup.String(), shape) {
						seen["shape "+shape] = true
					}
				}
			}
			if start.lo > 1.25 || start.hi < 540 {
				t.Errorf("longest starts span %.1f-%.0f s, want about 1 s to 10 min", start.lo, start.hi)
			}
			if window.lo > 2 || window.hi < 600 {
				t.Errorf("kill budgets span %.0f-%.0f s, want 2 s to 10 min", window.lo, window.hi)
			}
			if replicas.lo != 1 || replicas.hi != 20 {
				t.Errorf("replicas span %v, want 1-20", replicas)
			}
			if len(handlers) != 4 {
				t.Errorf("handlers %v, want all four", handlers)
			}
			for _, want := range []string{"startup probe true", "startup probe false", "initial delay true", "initial delay false",
				"problem true", "problem false", "maxBudgetSeconds below the start", "growing", "shape -", "shape lognormal(", "shape mix("} {
				if !seen[want] {
					t.Errorf("no variant with %s", want)
				}
			}
		}},
		{"liveness-tail", func(t *testing.T, fs []facts) {
			labels := map[bool]int{}
			for _, f := range fs {
				lat := f.behaviours[f.main.Name].Latency[sim.Liveness]
				median := genDistOf(t, lat.String()).quantile(0.5)
				if median > 100*time.Millisecond || genDistOf(t, lat.String()).quantile(0.999) < time.Second {
					t.Errorf("%s: latency %s has no median of tens of ms with a tail of seconds", f.sc.Name, lat)
				}
				live := probes.Of(f.main.LivenessProbe)
				tight := live.TimeoutSeconds == 1 && live.FailureThreshold <= 2
				if tight != f.sc.IsProbeProblem() {
					t.Errorf("%s: liveness %+v labelled probeProblem %v", f.sc.Name, live, f.sc.IsProbeProblem())
				}
				labels[f.sc.IsProbeProblem()]++
			}
			if labels[true] == 0 || labels[false] == 0 {
				t.Errorf("labels %v, want tight and comfortable variants", labels)
			}
		}},
		{"over-generous-liveness", func(t *testing.T, fs []facts) {
			var failure, period span
			for _, f := range fs {
				live := probes.Of(f.main.LivenessProbe)
				failure.add(float64(live.FailureThreshold))
				period.add(float64(live.PeriodSeconds))
				hangs := 0
				for _, e := range f.sc.Events {
					if e.Hang != nil {
						hangs++
					}
				}
				if hangs == 0 || live.TimeToDetect() <= int64(f.sc.settings.Liveness.MaxTimeToDetectSeconds) || !f.sc.IsProbeProblem() {
					t.Errorf("%s: %d hangs, time to detect %d s against a bound of %d, probeProblem %v", f.sc.Name, hangs,
						live.TimeToDetect(), f.sc.settings.Liveness.MaxTimeToDetectSeconds, f.sc.IsProbeProblem())
				}
			}
			if failure.hi != 30 || period.hi != 60 {
				t.Errorf("failureThreshold up to %.0f, period up to %.0f s; want 30 and 60", failure.hi, period.hi)
			}
		}},
		{"hangs", func(t *testing.T, fs []facts) {
			sources := map[string]bool{}
			for _, f := range fs {
				if !f.behaviours[f.main.Name].HangAfter.IsNever() {
					sources["hang-after"] = true
				}
				for _, e := range f.sc.Events {
					if e.Hang != nil {
						sources["event"] = true
					}
				}
				if f.sc.IsProbeProblem() {
					t.Errorf("%s: a hang the probes catch is labelled a probe problem", f.sc.Name)
				}
			}
			if len(sources) != 2 {
				t.Errorf("hang sources %v, want hang-after and events", sources)
			}
		}},
		{"oom", runtimeFailureCheck(func(b *sim.Behavior) bool { return !b.OOMAfter.IsNever() })},
		{"crash", runtimeFailureCheck(func(b *sim.Behavior) bool { return !b.CrashAfter.IsNever() })},
		{"shared-dependency", func(t *testing.T, fs []facts) {
			var replicas span
			checkedByLiveness := 0
			for _, f := range fs {
				replicas.add(float64(f.sc.Replicas))
				if f.behaviours[f.main.Name].CheckedBy[sim.Liveness] {
					checkedByLiveness++
				}
				if f.sc.IsProbeProblem() {
					t.Errorf("%s: a shared dependency is labelled a probe problem", f.sc.Name)
				}
			}
			if replicas.lo != 2 || replicas.hi != 12 || checkedByLiveness == 0 || checkedByLiveness == len(fs) {
				t.Errorf("replicas %v, %d of %d check the dependency in liveness; want 2-12 and a mix", replicas, checkedByLiveness, len(fs))
			}
		}},
		{"readiness-flapping", func(t *testing.T, fs []facts) {
			labels := map[bool]int{}
			for _, f := range fs {
				r := probes.Of(f.main.ReadinessProbe)
				if r.TimeoutSeconds != 1 || r.FailureThreshold > 2 {
					t.Errorf("%s: readiness %+v is not tight", f.sc.Name, r)
				}
				labels[f.sc.IsProbeProblem()]++
			}
			if labels[true] == 0 || labels[false] == 0 {
				t.Errorf("labels %v, want flapping and quiet variants", labels)
			}
		}},
		{"multi-container", func(t *testing.T, fs []facts) {
			sizes, scoped := map[int]bool{}, 0
			for _, f := range fs {
				cs := f.sc.Deployment.Spec.Template.Spec.Containers
				sizes[len(cs)] = true
				perContainer := false
				for k := range f.sc.Deployment.Spec.Template.Annotations {
					perContainer = perContainer || strings.HasPrefix(k, cs[0].Name+"."+sim.AnnotationDomain)
				}
				if !perContainer {
					t.Errorf("%s: no per-container annotation", f.sc.Name)
				}
				if len(f.sc.Policy.Containers) > 0 {
					scoped++
				}
			}
			if !sizes[2] || !sizes[3] || scoped == 0 {
				t.Errorf("pod sizes %v, %d scoped policies; want 2 and 3 containers and some scoped", sizes, scoped)
			}
		}},
		{"sidecar", sidecarRangeCheck},
		{"release", func(t *testing.T, fs []facts) {
			labels := map[bool]int{}
			for _, f := range fs {
				changed := false
				for _, e := range f.sc.Events {
					changed = changed || (e.Deploy != nil && len(e.Deploy.Annotations) > 0)
				}
				if !changed {
					t.Errorf("%s: no release that changes behaviour", f.sc.Name)
				}
				labels[f.sc.IsProbeProblem()]++
			}
			if labels[true] == 0 || labels[false] == 0 {
				t.Errorf("labels %v, want both", labels)
			}
		}},
		{"well-tuned", func(t *testing.T, fs []facts) {
			for _, f := range fs {
				if f.sc.IsProbeProblem() || f.main.LivenessProbe == nil || f.main.ReadinessProbe == nil {
					t.Errorf("%s: probeProblem %v, liveness %v, readiness %v", f.sc.Name, f.sc.IsProbeProblem(), f.main.LivenessProbe != nil, f.main.ReadinessProbe != nil)
				}
			}
		}},
	}
	if len(cases) != len(Families()) {
		t.Fatalf("%d range checks for %d families", len(cases), len(Families()))
	}
	for _, tc := range cases {
		t.Run(tc.family, func(t *testing.T) {
			var fs []facts
			for _, sc := range parsed(t, tc.family, 60) {
				fs = append(fs, factsOf(t, sc))
			}
			tc.check(t, fs)
		})
	}
}

// runtimeFailureCheck: every variant has the failure; it is a probe problem exactly when the start is also
// killed (a liveness window shorter than the start, without a startup probe).
func runtimeFailureCheck(has func(*sim.Behavior) bool) func(t *testing.T, fs []facts) {
	return func(t *testing.T, fs []facts) {
		labels := map[bool]int{}
		for _, f := range fs {
			if !has(f.behaviours[f.main.Name]) {
				t.Errorf("%s: the failure is missing", f.sc.Name)
			}
			killed := f.main.StartupProbe == nil && time.Duration(probes.Of(f.main.LivenessProbe).Budget())*time.Second < f.startUpper()
			if killed != f.sc.IsProbeProblem() {
				t.Errorf("%s: starts killed %v, probeProblem %v", f.sc.Name, killed, f.sc.IsProbeProblem())
			}
			labels[f.sc.IsProbeProblem()]++
		}
		if labels[true] == 0 || labels[false] == 0 {
			t.Errorf("labels %v, want both", labels)
		}
	}
}

var distRE = regexp.MustCompile(`^lognormal\((.+),(.+)\)$`)

// genDistOf reads back the generator's latency shapes (log-normal, uniform, or a mix of two uniforms) to
// measure them.
func genDistOf(t *testing.T, s string) genDist {
	t.Helper()
	dur := func(v string) time.Duration {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		return d
	}
	uniform := func(v string) genDist {
		lo, hi, _ := strings.Cut(v, "-")
		return uniformDist(dur(lo), dur(hi))
	}
	if m := distRE.FindStringSubmatch(s); m != nil {
		return logNormalDist(dur(m[1]), dur(m[2]))
	}
	if inner, ok := strings.CutPrefix(s, "mix("); ok {
		var weights []float64
		var parts []genDist
		for _, p := range strings.Split(strings.TrimSuffix(inner, ")"), ",") {
			w, d, _ := strings.Cut(p, ":")
			var x float64
			fmt.Sscan(w, &x)
			weights, parts = append(weights, x), append(parts, uniform(d))
		}
		return mixDist(weights, parts...)
	}
	return uniform(s)
}

// TestLabelsAgreeWithTheSimulator runs the baselines of generated scenarios whose label says what the untuned
// run must show: a comfortable or well-tuned variant has no needless probe restart, a slow-start crash loop or
// a tight liveness probe against a tail has some.
func TestLabelsAgreeWithTheSimulator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs simulations")
	}
	for _, family := range []string{"slow-start", "liveness-tail", "well-tuned", "hangs"} {
		for _, sc := range parsed(t, family, 30) {
			if strings.Contains(sc.Description, ", capped)") {
				continue // a capped variant crash-loops whatever its label says about what probe-tuner may do
			}
			res, err := runScenario(sc, runOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Metrics.ProbeRestarts; (got > 0) != sc.IsProbeProblem() {
				t.Errorf("%s (probeProblem %v): %d needless probe restarts without tuning", sc.Name, sc.IsProbeProblem(), got)
			}
		}
	}
}

// sidecarRangeCheck: every sidecar variant has one native sidecar beside one app container, plain init
// containers without probes in some of them, and labels that follow from the probes: a sidecar whose liveness
// window is shorter than its start (no startup probe) or whose readiness probe gives up at the first of many
// failures is a probe problem, and so is every app-problem variant; the healthy ones are not.
func sidecarRangeCheck(t *testing.T, fs []facts) {
	labels := map[bool]int{}
	kinds := map[string]bool{}
	var withInit, slow, flapping, appFault, oom int
	for _, f := range fs {
		spec := f.sc.Deployment.Spec.Template.Spec
		var sidecars []corev1.Container
		plain := 0
		for _, c := range spec.InitContainers {
			if probes.IsNativeSidecar(&c) {
				sidecars = append(sidecars, c)
				continue
			}
			plain++
			if c.StartupProbe != nil || c.LivenessProbe != nil || c.ReadinessProbe != nil {
				t.Errorf("%s: plain init container %s has probes", f.sc.Name, c.Name)
			}
		}
		if len(sidecars) != 1 || len(spec.Containers) != 1 {
			t.Errorf("%s: %d native sidecars and %d containers, want 1 and 1", f.sc.Name, len(sidecars), len(spec.Containers))
			continue
		}
		if plain > 0 {
			withInit++
		}
		sc := sidecars[0]
		kinds[sc.Name] = true
		b := f.behaviours[sc.Name]
		start, _ := b.Startup.Upper()
		killed := sc.StartupProbe == nil && sc.LivenessProbe != nil &&
			time.Duration(probes.Of(sc.LivenessProbe).Budget())*time.Second < start
		flaps := sc.ReadinessProbe != nil && sc.ReadinessProbe.FailureThreshold == 1 && b.FailureRate[sim.Readiness] > 0
		sidecarFault := killed || flaps
		switch {
		case killed:
			slow++
		case flaps:
			flapping++
		case !b.OOMAfter.IsNever():
			oom++
		}
		app := strings.Contains(f.sc.Description, "("+sidecarAppFault+")")
		if app {
			appFault++
			if sidecarFault {
				t.Errorf("%s: the app is at fault, but the sidecar's probes are too (killed %v, flapping %v)", f.sc.Name, killed, flaps)
			}
		}
		if want := sidecarFault || app; f.sc.IsProbeProblem() != want {
			t.Errorf("%s: probeProblem %v; sidecar killed %v, flapping %v, app at fault %v", f.sc.Name, f.sc.IsProbeProblem(), killed, flaps, app)
		}
		labels[f.sc.IsProbeProblem()]++
	}
	if labels[true] == 0 || labels[false] == 0 || withInit == 0 || withInit == len(fs) {
		t.Errorf("labels %v, %d of %d with a plain init container; want both labels, and pods with and without", labels, withInit, len(fs))
	}
	if slow == 0 || flapping == 0 || appFault == 0 || oom == 0 || len(kinds) < 5 {
		t.Errorf("%d slow sidecars, %d flapping, %d app faults, %d OOM sidecars, sidecars %v; want each, and 5 or more sidecar names",
			slow, flapping, appFault, oom, kinds)
	}
}
