package observe

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Bounds a restored State must keep. They are far above anything observation produces (a container restarting
// every second for a year stays under MaxCount), so that only a damaged or forged checkpoint is refused.
const (
	// MaxCount bounds every counter: restarts, kills, transitions, failures, samples.
	MaxCount = 10_000_000
	// MaxWeight bounds every decayed weight and rate counter that counts things.
	MaxWeight = float64(MaxCount)
	// MaxSeconds bounds every duration and every summed lifetime, in seconds (about 3,170 years of pod time).
	MaxSeconds = 1e11
	// MaxStartSeconds bounds one start's duration and a probe period, in seconds (about 115 days).
	MaxStartSeconds = 1e7
	// MaxFutureSkew is how far past the reconcile's clock a restored time may lie: clocks of two operator
	// replicas differ by seconds, not a day.
	MaxFutureSkew = 24 * time.Hour
	// MaxName bounds names, hashes and IDs (a DNS subdomain is at most 253 bytes).
	MaxName = 253
	// MaxEntries bounds each restored map and list (pods, Events, kills, containers, revisions).
	MaxEntries = 100_000
)

// earliest is the earliest non-zero time a restored State may hold: probe-tuner did not observe anything
// before it.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Validate reports the first value of a restored State outside its bounds (a negative or absurd count, a weight
// that is not finite, a time far in the future, an overlong name, an unknown restart cause), naming where it is.
// A State that observation built always passes; a checkpoint that fails is not to be used.
func (s *State) Validate(now time.Time) error {
	v := validator{now: now}
	v.time("updatedAt", s.UpdatedAt)
	validateEach(&v, "containers", "container name", s.Containers)
	v.entries("revisions", len(s.Revisions))
	for i, r := range s.Revisions {
		if r != nil {
			r.validate(&v, fmt.Sprintf("revisions[%d]", i))
		}
	}
	validateEach(&v, "pods", "pod uid", s.Pods)
	v.entries("events", len(s.Events))
	for _, key := range sortedKeys(s.Events) {
		e := s.Events[key]
		v.str("event key", key, 4*MaxName)
		v.count("events["+key+"].count", int64(e.Count))
		v.time("events["+key+"].seen", e.Seen)
	}
	v.entries("kills", len(s.Kills))
	for i, k := range s.Kills {
		at := fmt.Sprintf("kills[%d]", i)
		v.name(at+".pod", k.Pod)
		v.name(at+".container", k.Container)
		v.time(at+".at", k.At)
	}
	return v.err
}

// validateEach checks a restored map of states: its size, each key (what keyKind names) and each non-nil state,
// in key order so that the first error is always the same one.
func validateEach[T any, P interface {
	*T
	validate(*validator, string)
}](v *validator, field, keyKind string, m map[string]*T) {
	v.entries(field, len(m))
	for _, key := range sortedKeys(m) {
		v.name(keyKind, key)
		if state := m[key]; state != nil {
			P(state).validate(v, field+"["+key+"]")
		}
	}
}

func (c *ContainerState) validate(v *validator, at string) {
	c.Startup.validate(v, at+".startup")
	c.Censored.validate(v, at+".censored")
	v.float(at+".startupResolution", c.StartupResolution, MaxStartSeconds)
	v.float(at+".lastStart", c.LastStartSeconds, MaxStartSeconds)
	v.causes(at+".restarts", c.Restarts)
	v.count(at+".readyTransitions", int64(c.ReadyTransitions))
}

func (h *Histogram) validate(v *validator, at string) {
	v.count(at+".n", int64(h.Count))
	v.time(at+".t", h.DecayedAt)
	v.float(at+".max", h.Max, MaxStartSeconds)
	if len(h.Buckets) > maxBucket+1 {
		v.fail("%s has %d buckets, more than the %d there are", at, len(h.Buckets), maxBucket+1)
	}
	var total float64
	for _, b := range sortedKeys(h.Buckets) {
		if b < 0 || b > maxBucket {
			v.fail("%s bucket %d is outside 0..%d", at, b, maxBucket)
		}
		v.float(fmt.Sprintf("%s bucket %d", at, b), h.Buckets[b], MaxWeight)
		total += h.Buckets[b]
	}
	// Decayed weights only fade: they never add up to more than the samples ever added.
	if v.err == nil && total > float64(h.Count)+1e-6*float64(len(h.Buckets)) {
		v.fail("%s weighs %g, more than its %d samples", at, total, h.Count)
	}
}

func (r *RevisionState) validate(v *validator, at string) {
	v.name(at+".hash", r.Hash)
	v.time(at+".firstSeen", r.FirstSeen)
	v.float(at+".podSeconds", r.PodSeconds, MaxSeconds)
	v.float(at+".notReadySeconds", r.NotReadySeconds, MaxSeconds)
	v.float(at+".serviceSeconds", r.ServiceSeconds, MaxSeconds)
	v.float(at+".serviceNotReadySeconds", r.ServiceNotReadySeconds, MaxSeconds)
	v.entries(at+".containers", len(r.Containers))
	for _, name := range sortedKeys(r.Containers) {
		v.name(at+" container name", name)
		c := r.Containers[name]
		if c == nil {
			continue
		}
		ca := at + ".containers[" + name + "]"
		v.causes(ca+".restarts", c.Restarts)
		for field, n := range map[string]int{"killsAfterReady": c.KillsAfterReady, "killsBeforeReady": c.KillsBeforeReady,
			"transitions": c.Transitions, "livenessFailures": c.LivenessFailures, "nearMissRuns": c.NearMissRuns,
			"nearMissFailures": c.NearMissFailures, "maxCorrelated": c.MaxCorrelated, "readinessFailures": c.ReadinessFailures} {
			v.count(ca+"."+field, int64(n))
		}
		v.time(ca+".decayedAt", c.DecayedAt)
		for field, f := range map[string]float64{"rateTransitions": c.RateTransitions, "rateLivenessKills": c.RateLivenessKills,
			"rateReadinessTimeouts": c.RateReadinessTimeouts, "rateReadinessErrors": c.RateReadinessErrors,
			"rateLivenessTimeouts": c.RateLivenessTimeouts, "rateLivenessErrors": c.RateLivenessErrors, "livenessProbes": c.LivenessProbes} {
			v.float(ca+"."+field, f, MaxWeight)
		}
		v.float(ca+".rateInServiceSeconds", c.RateInServiceSeconds, MaxSeconds)
		v.float(ca+".inServiceSeconds", c.InServiceSeconds, MaxSeconds)
	}
}

func (p *PodState) validate(v *validator, at string) {
	v.name(at+".name", p.Name)
	v.name(at+".revision", p.Revision)
	v.time(at+".lastSeen", p.LastSeen)
	v.entries(at+".containers", len(p.Containers))
	for _, name := range sortedKeys(p.Containers) {
		v.name(at+" container name", name)
		c := p.Containers[name]
		if c == nil {
			continue
		}
		ca := at + ".containers[" + name + "]"
		v.str(ca+".id", c.ID, 2*MaxName)
		v.count(ca+".restartCount", int64(c.RestartCount))
		v.time(ca+".startedAt", c.StartedAt)
		v.time(ca+".notReadySince", c.NotReadySince)
		v.time(ca+".lastFinishedAt", c.LastFinishedAt)
		v.entries(ca+".kills", len(c.Kills))
		for i, k := range c.Kills {
			v.cause(fmt.Sprintf("%s.kills[%d].cause", ca, i), k.Cause)
			v.time(fmt.Sprintf("%s.kills[%d].at", ca, i), k.At)
		}
		v.count(ca+".liveRun", int64(c.LiveRun))
		v.count(ca+".liveRunTimeouts", int64(c.LiveRunTimeouts))
		v.time(ca+".liveRunLast", c.LiveRunLast)
		if c.FailRun.Probe != "" {
			v.cause(ca+".failRun.probe", c.FailRun.Probe)
		}
		v.count(ca+".failRun.failures", int64(c.FailRun.Failures))
		v.time(ca+".failRun.first", c.FailRun.First)
		v.time(ca+".failRun.last", c.FailRun.Last)
	}
}

// validator collects the first bound a State breaks.
type validator struct {
	now time.Time
	err error
}

func (v *validator) fail(format string, args ...any) {
	if v.err == nil {
		v.err = fmt.Errorf(format, args...)
	}
}

func (v *validator) count(at string, n int64) {
	if n < 0 || n > MaxCount {
		v.fail("%s is %d, outside 0..%d", at, n, MaxCount)
	}
}

func (v *validator) float(at string, f, limit float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > limit {
		v.fail("%s is %g, outside 0..%g", at, f, limit)
	}
}

func (v *validator) time(at string, t time.Time) {
	if t.IsZero() {
		return
	}
	if t.Before(earliest) || t.After(v.now.Add(MaxFutureSkew)) {
		v.fail("%s is %s, outside %s..%s", at, t.UTC().Format(time.RFC3339), earliest.Format(time.RFC3339),
			v.now.Add(MaxFutureSkew).UTC().Format(time.RFC3339))
	}
}

func (v *validator) str(at, s string, limit int) {
	if len(s) > limit {
		v.fail("%s is %d bytes long, more than %d", at, len(s), limit)
	}
}

func (v *validator) name(at, s string) { v.str(at, s, MaxName) }

func (v *validator) entries(at string, n int) {
	if n > MaxEntries {
		v.fail("%s holds %d entries, more than %d", at, n, MaxEntries)
	}
}

func (v *validator) cause(at string, c Cause) {
	if !slices.Contains(Causes, c) {
		v.fail("%s %q is not a restart cause", at, c)
	}
}

func (v *validator) causes(at string, m map[Cause]int) {
	for _, c := range sortedKeys(m) {
		v.cause(at, c)
		v.count(fmt.Sprintf("%s[%s]", at, c), int64(m[c]))
	}
}

// sortedKeys returns a map's keys in order, so that the first bound broken is reported the same way each time.
func sortedKeys[K ~string | ~int, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
