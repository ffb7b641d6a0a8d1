package recommend

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/policy"
)

// probeWrapper builds probes for tests: makeProbe("/healthz").period(10).failure(3).obj().
type probeWrapper struct{ corev1.Probe }

func makeProbe(path string) *probeWrapper {
	return &probeWrapper{corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(8080)}}}}
}

func (p *probeWrapper) delay(s int32) *probeWrapper   { p.InitialDelaySeconds = s; return p }
func (p *probeWrapper) period(s int32) *probeWrapper  { p.PeriodSeconds = s; return p }
func (p *probeWrapper) timeout(s int32) *probeWrapper { p.TimeoutSeconds = s; return p }
func (p *probeWrapper) failure(n int32) *probeWrapper { p.FailureThreshold = n; return p }
func (p *probeWrapper) success(n int32) *probeWrapper { p.SuccessThreshold = n; return p }
func (p *probeWrapper) obj() *corev1.Probe            { return p.DeepCopy() }

// containerWrapper builds recommendation inputs: makeContainer("app").liveness(...).startsCompleted(...).obj().
type containerWrapper struct{ Container }

func makeContainer(name string) *containerWrapper {
	return &containerWrapper{Container{Name: name, Signals: observe.Signals{
		Container: name, Replicas: 3, Startup: &observe.Histogram{}, Censored: &observe.Histogram{},
		Restarts: map[observe.Cause]int{}, TotalRestarts: map[observe.Cause]int{}, CorrelationWindow: 90 * time.Second,
	}}}
}

func (c *containerWrapper) startup(p *corev1.Probe) *containerWrapper   { c.Startup = p; return c }
func (c *containerWrapper) liveness(p *corev1.Probe) *containerWrapper  { c.Liveness = p; return c }
func (c *containerWrapper) readiness(p *corev1.Probe) *containerWrapper { c.Readiness = p; return c }
func (c *containerWrapper) replicas(n int) *containerWrapper            { c.Signals.Replicas = n; return c }

// startsCompleted records completed starts of the given durations.
func (c *containerWrapper) startsCompleted(ds ...time.Duration) *containerWrapper {
	now := time.Unix(1_800_000_000, 0)
	for _, d := range ds {
		c.Signals.Startup.Add(d, now, 24*time.Hour)
	}
	return c
}

// startsKilled records n starts killed before completing after lived.
func (c *containerWrapper) startsKilled(n int, lived time.Duration) *containerWrapper {
	now := time.Unix(1_800_000_000, 0)
	for i := 0; i < n; i++ {
		c.Signals.Censored.Add(lived, now, 24*time.Hour)
	}
	c.Signals.CensoredStarts = n
	c.Signals.StartLowerBound = lived
	c.Signals.Restarts[observe.CauseLiveness] += n
	c.Signals.KillsBeforeReady += n
	return c
}

// livenessKills records kills of ready containers by liveness, after the given number of reported failures.
func (c *containerWrapper) livenessKills(n, failures int, timeoutShare float64) *containerWrapper {
	c.Signals.Restarts[observe.CauseLiveness] += n
	c.Signals.KillsAfterReady += n
	c.Signals.LivenessFailures = failures
	c.Signals.LivenessTimeoutShare = timeoutShare
	c.Signals.LivenessKillsPerHour = float64(n)
	return c
}

// flapping records readiness transitions over in-service hours.
func (c *containerWrapper) flapping(transitions int, hours, timeoutShare float64, failures int) *containerWrapper {
	c.Signals.Transitions = transitions
	c.Signals.InServiceHours = hours
	c.Signals.TransitionsPerHour = float64(transitions) / hours
	c.Signals.ReadinessTimeoutShare = timeoutShare
	c.Signals.ReadinessFailures = failures
	return c
}

func (c *containerWrapper) resolution(d time.Duration) *containerWrapper {
	c.Signals.StartupResolution = d
	return c
}

// nearMisses records liveness failure runs that recovered on their own, among about probes liveness probes.
func (c *containerWrapper) nearMisses(runs, failures int, probes float64) *containerWrapper {
	c.Signals.NearMissRuns, c.Signals.NearMissFailures, c.Signals.LivenessProbes = runs, failures, probes
	return c
}

// readinessFailures records failed readiness probes reported by the kubelet (Unhealthy events).
func (c *containerWrapper) readinessFailures(n int) *containerWrapper {
	c.Signals.ReadinessFailures = n
	return c
}

func (c *containerWrapper) restarts(cause observe.Cause, n int) *containerWrapper {
	c.Signals.Restarts[cause] += n
	return c
}

func (c *containerWrapper) correlated(pods int) *containerWrapper {
	c.Signals.CorrelatedKills = pods
	return c
}

func (c *containerWrapper) notReady(pod string, d time.Duration, everReady bool) *containerWrapper {
	c.Signals.NotReady = append(c.Signals.NotReady, observe.NotReadyPod{Pod: pod, For: d, EverReady: everReady})
	return c
}

func (c *containerWrapper) obj() Container { return c.Container }

// settings resolves a ProbePolicy spec, with edits, into settings.
func settings(edit ...func(*tuningv1alpha1.ProbePolicySpec)) policy.Settings {
	spec := tuningv1alpha1.ProbePolicySpec{Mode: tuningv1alpha1.ModeAuto}
	for _, e := range edit {
		e(&spec)
	}
	s, err := policy.Resolve(spec)
	if err != nil {
		panic(err)
	}
	return s
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

// repeat returns n copies of d.
func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// spread returns n durations evenly from lo to hi seconds.
func spread(lo, hi float64, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration((lo + (hi-lo)*float64(i)/float64(n-1)) * float64(time.Second))
	}
	return out
}
