package behavior

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AnnotationDomain is the domain of the behaviour annotations.
// "sim.probetuner.io/<key>" applies to every container of the pod and
// "<container>.sim.probetuner.io/<key>" to one container, overriding the former.
const AnnotationDomain = "sim.probetuner.io"

// annotationKeys lists every key the simulator understands, with its parser.
var annotationKeys = map[string]func(b *Behavior, v string) error{
	"startup":                func(b *Behavior, v string) error { return parseDistInto(&b.Startup, v, true) },
	"startup-growth":         parseGrowth,
	"start-delay":            func(b *Behavior, v string) error { return parseDistInto(&b.StartDelay, v, false) },
	"image-pull":             func(b *Behavior, v string) error { return parseDistInto(&b.ImagePull, v, false) },
	"health-latency":         latencyParser(Startup, Readiness, Liveness),
	"startup-latency":        latencyParser(Startup),
	"readiness-latency":      latencyParser(Readiness),
	"liveness-latency":       latencyParser(Liveness),
	"health-failure-rate":    rateParser(Startup, Readiness, Liveness),
	"startup-failure-rate":   rateParser(Startup),
	"readiness-failure-rate": rateParser(Readiness),
	"liveness-failure-rate":  rateParser(Liveness),
	"hang-after":             func(b *Behavior, v string) error { return parseDistInto(&b.HangAfter, v, true) },
	"hang-blocks-tcp":        func(b *Behavior, v string) error { return parseBool(&b.HangBlocksTCP, v) },
	"crash-after":            func(b *Behavior, v string) error { return parseDistInto(&b.CrashAfter, v, true) },
	"crash-exit-code":        func(b *Behavior, v string) error { return parseExitCode(&b.CrashExitCode, v) },
	"oom-after":              func(b *Behavior, v string) error { return parseDistInto(&b.OOMAfter, v, true) },
	"shutdown":               func(b *Behavior, v string) error { return parseDistInto(&b.Shutdown, v, true) },
	"shutdown-when-hung":     func(b *Behavior, v string) error { return parseDistInto(&b.ShutdownWhenHung, v, true) },
	"shutdown-exit-code":     func(b *Behavior, v string) error { return parseExitCode(&b.ShutdownExitCode, v) },
	"dependency":             parseDependencyName,
	"dependency-outage":      parseOutages,
	"dependency-checked-by":  parseCheckedBy,
}

// AnnotationKeys returns the known behaviour keys, sorted.
func AnnotationKeys() []string {
	keys := make([]string, 0, len(annotationKeys))
	for k := range annotationKeys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ParseBehaviors reads the behaviour annotations of a pod (or pod template) for
// the named containers. Every container gets DefaultBehavior overridden by the
// pod-wide keys and then by its own keys. Unknown keys, unknown container names
// and invalid values are errors naming the annotation and its value.
func ParseBehaviors(annotations map[string]string, containers []string) (map[string]*Behavior, error) {
	out := make(map[string]*Behavior, len(containers))
	for _, c := range containers {
		b := DefaultBehavior()
		out[c] = &b
	}
	keys := make([]string, 0, len(annotations))
	for k := range annotations {
		if strings.Contains(k, AnnotationDomain+"/") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	// Pod-wide keys first, so that container keys override them.
	var scoped []string
	var errs []error
	for _, k := range keys {
		prefix, key, _ := strings.Cut(k, AnnotationDomain+"/")
		if prefix != "" {
			scoped = append(scoped, k)
			continue
		}
		parse, ok := annotationKeys[key]
		if !ok {
			errs = append(errs, unknownKeyError(k, annotations[k]))
			continue
		}
		for _, c := range containers {
			if err := parse(out[c], annotations[k]); err != nil {
				errs = append(errs, fmt.Errorf("%s: %q: %w", k, annotations[k], err))
				break
			}
		}
	}
	for _, k := range scoped {
		prefix, key, _ := strings.Cut(k, AnnotationDomain+"/")
		cname, dotted := strings.CutSuffix(prefix, ".")
		if !dotted || cname == "" {
			errs = append(errs, fmt.Errorf("%s: %q: malformed key (want %s/<key> or <container>.%s/<key>)", k, annotations[k], AnnotationDomain, AnnotationDomain))
			continue
		}
		b, ok := out[cname]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %q: no container named %q in the pod (containers: %s)", k, annotations[k], cname, strings.Join(containers, ", ")))
			continue
		}
		parse, ok := annotationKeys[key]
		if !ok {
			errs = append(errs, unknownKeyError(k, annotations[k]))
			continue
		}
		if err := parse(b, annotations[k]); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q: %w", k, annotations[k], err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func unknownKeyError(k, v string) error {
	return fmt.Errorf("%s: %q: unknown simulator key (known: %s)", k, v, strings.Join(AnnotationKeys(), ", "))
}

func parseDistInto(dst *Distribution, v string, neverOK bool) error {
	d, err := ParseDistribution(v)
	if err != nil {
		return err
	}
	if !neverOK && containsNever(d) {
		return errors.New(`"never" is not allowed for this key`)
	}
	*dst = d
	return nil
}

func containsNever(d Distribution) bool {
	if d.kind == distNever {
		return true
	}
	return slices.ContainsFunc(d.parts, containsNever)
}

func latencyParser(types ...ProbeType) func(b *Behavior, v string) error {
	return func(b *Behavior, v string) error {
		var d Distribution
		if err := parseDistInto(&d, v, false); err != nil {
			return err
		}
		for _, t := range types {
			b.Latency[t] = d
		}
		return nil
	}
}

func rateParser(types ...ProbeType) func(b *Behavior, v string) error {
	return func(b *Behavior, v string) error {
		p, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || p < 0 || p > 1 || math.IsNaN(p) {
			return errors.New("not a probability (want a number from 0 to 1, e.g. 0.05)")
		}
		for _, t := range types {
			b.FailureRate[t] = p
		}
		return nil
	}
}

func parseBool(dst *bool, v string) error {
	x, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return errors.New("not a boolean (want true or false)")
	}
	*dst = x
	return nil
}

func parseExitCode(dst *int32, v string) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > 255 {
		return errors.New("not an exit code (want an integer from 0 to 255)")
	}
	*dst = int32(n)
	return nil
}

// parseGrowth parses "10s/24h": the startup time grows by 10s per 24h.
func parseGrowth(b *Behavior, v string) error {
	amount, per, ok := strings.Cut(v, "/")
	bad := errors.New("not a growth rate (want <duration>/<duration>, e.g. 10s/24h)")
	if !ok {
		return bad
	}
	a, err1 := parseDuration(amount)
	p, err2 := parseDuration(per)
	if err1 != nil || err2 != nil || p <= 0 {
		return bad
	}
	b.StartupGrowth, b.StartupGrowthPer = a, p
	return nil
}

func parseDependencyName(b *Behavior, v string) error {
	v = strings.TrimSpace(v)
	if v == "" || strings.ContainsAny(v, " ,\t") {
		return errors.New("not a dependency name (want a single word, e.g. redis)")
	}
	b.Dependency = v
	return nil
}

// parseOutages parses comma-separated windows: "at 2m for 30s",
// "every 10m for 1m" (first at 10m) or "every 10m for 1m from 1m".
func parseOutages(b *Behavior, v string) error {
	var ws []Window
	for _, part := range strings.Split(v, ",") {
		w, err := parseWindow(strings.Fields(part))
		if err != nil {
			return fmt.Errorf("window %q: %w", strings.TrimSpace(part), err)
		}
		ws = append(ws, w)
	}
	b.Outages = ws
	return nil
}

var errWindow = errors.New(`want "at <time> for <duration>" or "every <period> for <duration> [from <time>]"`)

func parseWindow(f []string) (Window, error) {
	dur := func(s string) (time.Duration, bool) {
		d, err := parseDuration(s)
		return d, err == nil
	}
	switch {
	case len(f) == 4 && f[0] == "at" && f[2] == "for":
		at, ok1 := dur(f[1])
		l, ok2 := dur(f[3])
		if !ok1 || !ok2 || l <= 0 {
			return Window{}, errWindow
		}
		return Window{Start: at, Length: l}, nil
	case (len(f) == 4 || len(f) == 6) && f[0] == "every" && f[2] == "for":
		every, ok1 := dur(f[1])
		l, ok2 := dur(f[3])
		if !ok1 || !ok2 || l <= 0 || every <= 0 {
			return Window{}, errWindow
		}
		if l > every {
			return Window{}, errors.New("the outage is longer than its period")
		}
		start := every
		if len(f) == 6 {
			if f[4] != "from" {
				return Window{}, errWindow
			}
			s, ok := dur(f[5])
			if !ok {
				return Window{}, errWindow
			}
			start = s
		}
		return Window{Start: start, Length: l, Every: every}, nil
	}
	return Window{}, errWindow
}

func parseCheckedBy(b *Behavior, v string) error {
	var set [NumProbeTypes]bool
	for _, s := range strings.Split(v, ",") {
		switch strings.TrimSpace(s) {
		case "liveness":
			set[Liveness] = true
		case "readiness":
			set[Readiness] = true
		case "startup":
			set[Startup] = true
		case "none":
		default:
			return errors.New("not a probe list (want liveness, readiness, startup or none, comma-separated)")
		}
	}
	b.CheckedBy = set
	return nil
}
