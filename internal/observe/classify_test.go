package observe

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// viewProbe is observation's view of an API probe, as FromAPIPod builds it.
func viewProbe(p *corev1.Probe) *Probe {
	return &Probe{Values: probes.Of(p), TerminationGracePeriodSeconds: p.TerminationGracePeriodSeconds}
}

func TestClassify(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(30 * time.Second)
	term := func(code int32, reason string) *Termination {
		return &Termination{ExitCode: code, Reason: reason, StartedAt: start, FinishedAt: end}
	}
	grace := 10 * time.Second
	live := viewProbe(&corev1.Probe{PeriodSeconds: 10, FailureThreshold: 3})
	startup := viewProbe(&corev1.Probe{PeriodSeconds: 5, FailureThreshold: 6})
	run := func(probe Cause, n int, first, last time.Time) FailRun {
		return FailRun{Probe: probe, Failures: n, First: first, Last: last}
	}
	liveRun := run(CauseLiveness, 2, end.Add(-12*time.Second), end.Add(-10*time.Second))
	cases := []struct {
		name string
		t    *Termination
		ev   killEvidence
		now  time.Time
		want Cause
		wait bool
	}{
		{name: "OOMKilled is OOM even with a kill event", t: term(137, "OOMKilled"), ev: killEvidence{kills: []KillMark{{CauseLiveness, end}}, liveness: live}, now: end, want: CauseOOM},
		{name: "a Killing event for liveness inside the run", t: term(137, "Error"), ev: killEvidence{kills: []KillMark{{CauseLiveness, end.Add(-2 * time.Second)}}, liveness: live}, now: end, want: CauseLiveness},
		{name: "a Killing event for the startup probe", t: term(143, "Error"), ev: killEvidence{kills: []KillMark{{CauseStartup, end}}, startup: startup}, now: end, want: CauseStartup},
		{name: "a Killing event of an earlier run does not match", t: term(1, "Error"), ev: killEvidence{kills: []KillMark{{CauseLiveness, start.Add(-time.Minute)}}, liveness: live}, now: end, want: CauseError},
		{name: "exit 0 completed", t: term(0, "Completed"), ev: killEvidence{liveness: live}, now: end, want: CauseCompleted},
		{name: "exit 1 is an application crash", t: term(1, "Error"), ev: killEvidence{liveness: live}, now: end, want: CauseError},
		{name: "exit 1 is an application crash even during a failure run", t: term(1, "Error"), ev: killEvidence{liveness: live, run: liveRun}, now: end, want: CauseError},
		{name: "a signal exit waits for the Killing event", t: term(137, "Error"), ev: killEvidence{liveness: live}, now: end.Add(2 * time.Second), wait: true},
		{name: "after the grace, a signal exit under liveness is a liveness kill", t: term(137, "Error"), ev: killEvidence{liveness: live, everStarted: true}, now: end.Add(grace), want: CauseLiveness},
		{name: "after the grace, a never-started container under a startup probe was killed by it", t: term(143, "Error"), ev: killEvidence{liveness: live, startup: startup}, now: end.Add(grace), want: CauseStartup},
		{name: "a signal exit without probes is the application's", t: term(137, "Error"), now: end, want: CauseError},

		// Failure runs from Unhealthy Events stand in for a late Killing Event.
		{name: "a signal exit after failureThreshold-1 liveness failures is a liveness kill at once", t: term(137, "Error"), ev: killEvidence{liveness: live, run: liveRun}, now: end, want: CauseLiveness},
		{name: "one liveness failure of three is not enough", t: term(137, "Error"), ev: killEvidence{liveness: live, run: run(CauseLiveness, 1, end.Add(-10*time.Second), end.Add(-10*time.Second))}, now: end, wait: true},
		{name: "a run long before the end is not the kill", t: term(137, "Error"), ev: killEvidence{liveness: live, podGrace: 5 * time.Second, run: run(CauseLiveness, 2, start, start.Add(time.Second))}, now: end, wait: true},
		{name: "the termination grace allows a slow stop", t: term(143, "Error"), ev: killEvidence{liveness: live, podGrace: 30 * time.Second, run: run(CauseLiveness, 2, start, start.Add(time.Second))}, now: end, want: CauseLiveness},
		{name: "a run of a later instance does not explain this one", t: term(137, "Error"), ev: killEvidence{liveness: live, run: run(CauseLiveness, 2, end.Add(5*time.Second), end.Add(15*time.Second))}, now: end, wait: true},
		{name: "a run that began before the instance does not explain it", t: term(137, "Error"), ev: killEvidence{liveness: live, run: run(CauseLiveness, 2, start.Add(-20*time.Second), end)}, now: end, wait: true},
		{name: "startup failures of a never-started container are a startup kill", t: term(137, "Error"), ev: killEvidence{liveness: live, startup: startup, run: run(CauseStartup, 5, start.Add(5*time.Second), end)}, now: end, want: CauseStartup},
		{name: "startup failures below threshold-1 wait", t: term(137, "Error"), ev: killEvidence{liveness: live, startup: startup, run: run(CauseStartup, 4, start.Add(5*time.Second), end)}, now: end, wait: true},
		{name: "liveness failures cannot kill a container its startup probe still gates", t: term(137, "Error"), ev: killEvidence{liveness: live, startup: startup, run: liveRun}, now: end, wait: true},
		{name: "the API default threshold of 3 applies when unset", t: term(137, "Error"), ev: killEvidence{liveness: viewProbe(&corev1.Probe{}), run: liveRun}, now: end, want: CauseLiveness},
		{name: "a per-probe grace period overrides the pod's", t: term(143, "Error"), ev: killEvidence{liveness: viewProbe(&corev1.Probe{PeriodSeconds: 10, TerminationGracePeriodSeconds: ptr.To[int64](1)}), podGrace: time.Hour, run: run(CauseLiveness, 2, start, start.Add(time.Second))}, now: end, wait: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.t, tc.ev, tc.now, grace)
			if got.wait != tc.wait || (!tc.wait && got.cause != tc.want) {
				t.Errorf("classify = %+v, want cause %q wait %v", got, tc.want, tc.wait)
			}
		})
	}
}

func TestFailRunExtend(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var r FailRun
	r.extend(CauseLiveness, at, 1, 10*time.Second)
	r.extend(CauseLiveness, at.Add(10*time.Second), 2, 10*time.Second)
	if r.Failures != 3 || !r.First.Equal(at) || !r.Last.Equal(at.Add(10*time.Second)) {
		t.Errorf("consecutive failures: %+v", r)
	}
	r.extend(CauseLiveness, at.Add(41*time.Second), 1, 10*time.Second)
	if r.Failures != 1 || !r.First.Equal(at.Add(41*time.Second)) {
		t.Errorf("a gap of more than two periods starts a new run: %+v", r)
	}
	r.extend(CauseStartup, at.Add(42*time.Second), 1, 10*time.Second)
	if r.Failures != 1 || r.Probe != CauseStartup {
		t.Errorf("another probe starts a new run: %+v", r)
	}
}

func TestMessages(t *testing.T) {
	if !isTimeout(`Get "http://10.1.0.5:8080/ready": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`) {
		t.Error("an HTTP client timeout is a timeout")
	}
	if isTimeout("HTTP probe failed with statuscode: 503") {
		t.Error("a 503 is an error answer, not a timeout")
	}
	if c, ok := killCause("Container app failed liveness probe, will be restarted"); !ok || c != CauseLiveness {
		t.Errorf("killCause = %v %v", c, ok)
	}
	if !probeErrored("Liveness probe errored and resulted in unknown state: rpc error") || probeErrored("Liveness probe failed: HTTP probe failed with statuscode: 500") {
		t.Error("probeErrored tells an errored probe from a failed one")
	}
}

func TestHistogramQuantiles(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var h Histogram
	for i := 0; i < 100; i++ {
		h.Add(40*time.Second+time.Duration(i)*100*time.Millisecond, now, 24*time.Hour)
	}
	if p50 := h.Quantile(0.5); p50 < 43*time.Second || p50 > 47*time.Second {
		t.Errorf("p50 of 40-50s = %s", p50)
	}
	if p99 := h.Quantile(0.99); p99 < 48*time.Second || p99 > 50*time.Second {
		t.Errorf("p99 of 40-50s = %s, want at most the largest sample", p99)
	}
	// Two days later the old samples weigh a quarter: new, slower starts dominate the median.
	later := now.Add(48 * time.Hour)
	for i := 0; i < 100; i++ {
		h.Add(90*time.Second, later, 24*time.Hour)
	}
	if p50 := h.Quantile(0.5); p50 < 85*time.Second {
		t.Errorf("p50 after drift = %s, want the recent 90s starts to dominate", p50)
	}
	if h.Count != 200 {
		t.Errorf("count = %d, want 200", h.Count)
	}
}

// The longest sample is the same on every call: decayed weights summed in the map's order differed in their last
// bit from call to call, and Quantile(1) then fell past the last bucket to its upper bound now and then.
func TestHistogramQuantileIsDeterministic(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var h Histogram
	for i := 0; i < 40; i++ {
		// Starts of 5 s to 44 s killed every 97 s: many buckets, each weight decayed to a different fraction.
		h.Add(time.Duration(5+i)*time.Second+300*time.Millisecond, start.Add(time.Duration(i)*97*time.Second), time.Hour)
	}
	want := h.Quantile(1)
	if want != time.Duration(h.Max*float64(time.Second)) {
		t.Errorf("Quantile(1) = %s, want the longest sample %.1fs", want, h.Max)
	}
	for i := 0; i < 500; i++ {
		if got := h.Quantile(1); got != want {
			t.Fatalf("call %d: Quantile(1) = %s, an earlier call gave %s", i, got, want)
		}
	}
}

// A few samples leave room above the longest of them; many leave little. The estimate of the longest start must
// reach past the samples when they are few, and converge on the distribution's end as they grow.
func TestHistogramUpperEstimate(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	starts := func(secs ...float64) *Histogram {
		var h Histogram
		for _, s := range secs {
			h.Add(time.Duration(s*float64(time.Second)), now, 24*time.Hour)
		}
		return &h
	}
	var many []float64
	for i := range 200 {
		many = append(many, 32+21*float64(i)/199) // 32 s to 53 s, evenly
	}
	tests := []struct {
		name     string
		h        *Histogram
		from, to float64 // the estimate lies in [from, to]
	}{
		{"empty", &Histogram{}, 0, 0},
		{"one sample: its value", starts(46), 46, 46},
		{"four starts of a 32-53 s start reach past the longest seen", starts(35, 38, 44, 46), 49, 51},
		{"two starts: a whole spread above", starts(30, 40), 49, 52},
		{"equal starts: no spread beyond the bucket's width", starts(20, 20, 20, 20), 20, 20.4},
		{"200 starts of 32-53 s: close to 53 s", starts(many...), 53, 53.3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.UpperEstimate(); got < tt.from || got > tt.to {
				t.Errorf("UpperEstimate = %.2fs, want %.1f-%.1fs", got, tt.from, tt.to)
			}
		})
	}

	// As samples fade, fewer effective ones are left and the estimate widens again.
	h := starts(35, 38, 44, 46, 40, 42, 37, 45)
	fresh := h.UpperEstimate()
	h.decay(now.Add(48*time.Hour), 24*time.Hour)
	if faded := h.UpperEstimate(); faded <= fresh {
		t.Errorf("UpperEstimate after two half-lives = %.2fs, want above the fresh %.2fs", faded, fresh)
	}
}
