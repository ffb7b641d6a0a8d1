package behavior

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// distKind enumerates the shapes a Distribution can have.
type distKind uint8

const (
	distFixed distKind = iota
	distUniform
	distLogNormal
	distMix
	distNever
)

// z99 is the 99th percentile of the standard normal distribution; it turns a
// (median, p99) pair into the sigma of a log-normal distribution.
const z99 = 2.3263478740408408

// Distribution is a distribution of durations parsed from an annotation value:
//
//	45s                          fixed
//	40s-50s                      uniform between the two bounds
//	lognormal(30s,120s)          log-normal with the given median and 99th percentile
//	mix(0.7:5s-8s,0.3:60s-70s)   mixture; weights must sum to 1
//	never                        the thing never happens
//
// The zero value is the fixed duration 0s. A fixed distribution draws no random
// numbers, so it never perturbs the random stream of anything else.
type Distribution struct {
	kind    distKind
	a, b    time.Duration // fixed value (a) or uniform bounds [a, b]
	mu      float64       // log-normal parameters, in log-seconds
	sigma   float64
	weights []float64 // cumulative weights of the mixture
	parts   []Distribution
	src     string
}

// Fixed returns the distribution that always yields d.
func Fixed(d time.Duration) Distribution {
	return Distribution{kind: distFixed, a: d, src: d.String()}
}

// Never returns the distribution whose event never happens.
func Never() Distribution { return Distribution{kind: distNever, src: "never"} }

// IsNever reports whether the distribution is "never".
func (d Distribution) IsNever() bool { return d.kind == distNever }

// IsZero reports whether the distribution always yields 0s.
func (d Distribution) IsZero() bool { return d.kind == distFixed && d.a == 0 }

// String returns the source text of the distribution.
func (d Distribution) String() string {
	if d.src == "" {
		return d.a.String()
	}
	return d.src
}

// Sample draws a duration. ok is false when the distribution is "never". Fixed
// distributions consume no randomness.
func (d Distribution) Sample(r *rand.Rand) (v time.Duration, ok bool) {
	switch d.kind {
	case distFixed:
		return d.a, true
	case distUniform:
		return d.a + time.Duration(r.Float64()*float64(d.b-d.a)), true
	case distLogNormal:
		s := math.Exp(d.mu + d.sigma*r.NormFloat64())
		if s > maxSampleSeconds {
			s = maxSampleSeconds
		}
		return time.Duration(s * float64(time.Second)), true
	case distMix:
		u := r.Float64()
		for i, w := range d.weights {
			if u < w || i == len(d.weights)-1 {
				return d.parts[i].Sample(r)
			}
		}
	}
	return 0, false
}

// maxSampleSeconds caps log-normal draws (about 31 years) to keep durations finite.
const maxSampleSeconds = 1e9

// errNotDistribution is wrapped by every distribution parse error.
var errNotDistribution = errors.New("not a duration or distribution (want 45s, 40s-50s, lognormal(30s,120s), mix(0.7:5s,0.3:60s) or never)")

// ParseDistribution parses a distribution; see Distribution for the syntax.
func ParseDistribution(s string) (Distribution, error) {
	d, err := parseDist(strings.TrimSpace(s), 0)
	if err != nil {
		return Distribution{}, err
	}
	d.src = strings.TrimSpace(s)
	return d, nil
}

func parseDist(s string, depth int) (Distribution, error) {
	if depth > 4 {
		return Distribution{}, fmt.Errorf("%w: nested too deeply", errNotDistribution)
	}
	switch {
	case s == "never":
		return Never(), nil
	case strings.HasPrefix(s, "lognormal(") && strings.HasSuffix(s, ")"):
		args := splitTopLevel(s[len("lognormal(") : len(s)-1])
		if len(args) != 2 {
			return Distribution{}, fmt.Errorf("%w: lognormal takes (median,p99)", errNotDistribution)
		}
		med, err1 := parseDuration(args[0])
		p99, err2 := parseDuration(args[1])
		if err1 != nil || err2 != nil {
			return Distribution{}, errNotDistribution
		}
		if med <= 0 || p99 < med {
			return Distribution{}, fmt.Errorf("%w: lognormal needs 0 < median <= p99", errNotDistribution)
		}
		mu := math.Log(med.Seconds())
		return Distribution{kind: distLogNormal, mu: mu, sigma: (math.Log(p99.Seconds()) - mu) / z99, src: s}, nil
	case strings.HasPrefix(s, "mix(") && strings.HasSuffix(s, ")"):
		items := splitTopLevel(s[len("mix(") : len(s)-1])
		if len(items) < 2 {
			return Distribution{}, fmt.Errorf("%w: mix needs at least two weight:distribution parts", errNotDistribution)
		}
		d := Distribution{kind: distMix, src: s}
		total := 0.0
		for _, it := range items {
			ws, ds, ok := strings.Cut(it, ":")
			if !ok {
				return Distribution{}, fmt.Errorf("%w: mix part %q is not weight:distribution", errNotDistribution, it)
			}
			w, err := strconv.ParseFloat(strings.TrimSpace(ws), 64)
			if err != nil || w < 0 || w > 1 || math.IsNaN(w) {
				return Distribution{}, fmt.Errorf("%w: mix weight %q is not a number in [0,1]", errNotDistribution, ws)
			}
			part, err := parseDist(strings.TrimSpace(ds), depth+1)
			if err != nil {
				return Distribution{}, err
			}
			total += w
			d.weights = append(d.weights, total)
			d.parts = append(d.parts, part)
		}
		if math.Abs(total-1) > 1e-6 {
			return Distribution{}, fmt.Errorf("%w: mix weights sum to %g, not 1", errNotDistribution, total)
		}
		return d, nil
	}
	if i := strings.Index(s[min(1, len(s)):], "-"); i >= 0 {
		i++ // index in s
		lo, err1 := parseDuration(s[:i])
		hi, err2 := parseDuration(s[i+1:])
		if err1 != nil || err2 != nil {
			return Distribution{}, errNotDistribution
		}
		if hi < lo {
			return Distribution{}, fmt.Errorf("%w: range %s is reversed", errNotDistribution, s)
		}
		if hi == lo {
			return Distribution{kind: distFixed, a: lo, src: s}, nil
		}
		return Distribution{kind: distUniform, a: lo, b: hi, src: s}, nil
	}
	v, err := parseDuration(s)
	if err != nil {
		return Distribution{}, errNotDistribution
	}
	return Distribution{kind: distFixed, a: v, src: s}, nil
}

// parseDuration parses a non-negative Go duration ("0" is accepted as 0s).
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %s", s)
	}
	return d, nil
}

// splitTopLevel splits s on commas that are not inside parentheses.
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// Upper returns the longest duration the distribution is meant to yield: the value of a fixed distribution, the
// upper bound of a uniform one, the largest upper bound of a mixture's parts, and the 99th percentile of a
// log-normal one (which has no upper bound; its p99 is what the annotation states). ok is false when the event
// may never happen ("never", or a mixture with a "never" part).
func (d Distribution) Upper() (v time.Duration, ok bool) {
	switch d.kind {
	case distFixed:
		return d.a, true
	case distUniform:
		return d.b, true
	case distLogNormal:
		return time.Duration(math.Exp(d.mu+d.sigma*z99) * float64(time.Second)).Round(time.Millisecond), true
	case distMix:
		for _, p := range d.parts {
			u, ok := p.Upper()
			if !ok {
				return 0, false
			}
			v = max(v, u)
		}
		return v, true
	}
	return 0, false
}
