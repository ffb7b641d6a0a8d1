package bench

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// A Family generates benchmark scenarios of one kind: a grid of discrete axes (handler, probe layout, shape of
// the behaviour) walked by stratified draws, with seeded random draws for the continuous values. Every family
// decides probeProblem from the parameters it drew, with margins wide enough that no variant sits on the edge.
type Family struct {
	// Name names the family and prefixes its scenarios' names.
	Name string
	// Summary is the one-line description `probebench gen --list` prints.
	Summary string
	build   func(d *draw) *genScenario
}

// families lists every family in a fixed order: `--family all` spreads the count over them in this order.
var families = []Family{
	{Name: "slow-start", Summary: "starts of 1 s to 10 min (fixed, uniform, log-normal, bimodal, growing) against kill windows of 2 s to 10 min, with and without startup probes and delays", build: genSlowStart},
	{Name: "liveness-tail", Summary: "answers of tens of ms with a tail of seconds against tight liveness probes (timeout 1 s, failureThreshold 1-2) or comfortable ones (no problem)", build: genLivenessTail},
	{Name: "over-generous-liveness", Summary: "liveness probes of up to 30 x 60 s, beyond the policy's time to detect, with injected hangs that wait for them", build: genOverGenerous},
	{Name: "hangs", Summary: "hang-after and injected hangs that sensible liveness probes catch (no probe problem)", build: genHangs},
	{Name: "oom", Summary: "OOM kills after minutes to hours (no probe problem unless a start is also killed)", build: genOOM},
	{Name: "crash", Summary: "application exits after minutes to hours (no probe problem unless a start is also killed)", build: genCrash},
	{Name: "shared-dependency", Summary: "outages of a dependency the liveness (or readiness) probe checks, on 2-12 replicas (no probe problem)", build: genSharedDependency},
	{Name: "readiness-flapping", Summary: "readiness latency or failure rates against tight readiness probes; some tight probes with a fast app (no problem)", build: genReadinessFlapping},
	{Name: "multi-container", Summary: "2-3 containers with their own behaviour; a problem in a container the policy does not tune is no probe problem", build: genMultiContainer},
	{Name: "sidecar", Summary: "an app beside a native sidecar (mesh proxy, log shipper, auth proxy), some with a plain init container: the sidecar's slow start or flapping readiness, the app's problem, or none", build: genSidecar},
	{Name: "release", Summary: "a release mid-run that starts slower or answers slower than the probes allow, or changes nothing that matters", build: genRelease},
	{Name: "well-tuned", Summary: "healthy workloads with sensible probes, releases and an occasional hang the liveness probe catches (no probe problem)", build: genWellTuned},
}

// Families returns the scenario families in their fixed order.
func Families() []Family { return families }

// GeneratedScenario is one generated scenario file.
type GeneratedScenario struct {
	// Name is the scenario's name, "<family>-<nnn>"; the file is Name + ".yaml".
	Name string
	// Family is the family that generated it.
	Family string
	// Data is the file's content, which Parse accepts.
	Data []byte
}

// FamilyAll selects every family in Generate.
const FamilyAll = "all"

// Generate builds count scenarios of the named family (or of every family, FamilyAll: the count is spread over
// them, the first families getting one more when it does not divide). The result depends only on the arguments:
// the same family, count and seed give byte-identical files, and the first n scenarios of a family are the same
// whatever the count. Every file is checked with Parse; a file Parse rejects is a generator bug and an error.
func Generate(family string, count int, seed uint64) ([]GeneratedScenario, error) {
	if count < 1 {
		return nil, fmt.Errorf("count %d: want at least 1", count)
	}
	counts := map[string]int{}
	var chosen []Family
	if family == FamilyAll {
		chosen = families
		for i, f := range families {
			counts[f.Name] = count / len(families)
			if i < count%len(families) {
				counts[f.Name]++
			}
		}
	} else {
		for _, f := range families {
			if f.Name == family {
				chosen = []Family{f}
				counts[f.Name] = count
			}
		}
		if chosen == nil {
			return nil, fmt.Errorf("unknown family %q (probebench gen --list lists them)", family)
		}
	}
	var out []GeneratedScenario
	var errs []error
	for _, f := range chosen {
		for i := range counts[f.Name] {
			s := f.build(newDraw(seed, f.Name, i))
			s.name = fmt.Sprintf("%s-%03d", f.Name, i+1)
			data := s.render()
			if _, err := Parse(data); err != nil {
				errs = append(errs, fmt.Errorf("generated scenario %s does not parse (a generator bug): %w", s.name, err))
				continue
			}
			out = append(out, GeneratedScenario{Name: s.name, Family: f.Name, Data: data})
		}
	}
	return out, errors.Join(errs...)
}

// WriteGenerated writes each scenario to dir/<name>.yaml, creating dir. Other files in dir are left alone.
func WriteGenerated(dir string, scs []GeneratedScenario) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, s := range scs {
		if err := os.WriteFile(filepath.Join(dir, s.Name+".yaml"), s.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// draw is the source of one generated scenario's parameters: stratified levels for the grid axes and a random
// stream for the rest, both derived from the seed, the family and the scenario's index only.
type draw struct {
	seed   uint64
	family string
	index  int
	r      *rand.Rand
}

func newDraw(seed uint64, family string, index int) *draw {
	return &draw{seed: seed, family: family, index: index, r: rand.New(rand.NewPCG(seed, hashString(family)+uint64(index)*0x9e3779b97f4a7c15))}
}

// level returns the scenario's level on a grid axis of n levels. Levels are stratified: every n consecutive
// scenarios of a family see each level once, in an order shuffled per block (and per axis, so that axes of the
// same size do not move in lockstep). A family of count >= n therefore covers the whole axis.
func (d *draw) level(axis string, n int) int {
	block := uint64(d.index / n)
	perm := rand.New(rand.NewPCG(d.seed^0x5851f42d4c957f2d, hashString(d.family+"/"+axis)+block)).Perm(n)
	return perm[d.index%n]
}

// pick returns one of the values, stratified over the family's scenarios (see draw.level).
func pick[T any](d *draw, axis string, values ...T) T { return values[d.level(axis, len(values))] }

// uniform draws from [lo, hi).
func (d *draw) uniform(lo, hi float64) float64 { return lo + d.r.Float64()*(hi-lo) }

// logUniform draws from [lo, hi) evenly on a log scale.
func (d *draw) logUniform(lo, hi float64) float64 {
	return math.Exp(d.uniform(math.Log(lo), math.Log(hi)))
}

// intn draws an integer from [lo, hi].
func (d *draw) intn(lo, hi int) int { return lo + d.r.IntN(hi-lo+1) }

// chance is true with probability p.
func (d *draw) chance(p float64) bool { return d.r.Float64() < p }

// oneOf draws one of the values at random (not stratified).
func oneOf[T any](d *draw, values ...T) T { return values[d.r.IntN(len(values))] }

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
