package observe

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestClassify(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(30 * time.Second)
	term := func(code int32, reason string) *corev1.ContainerStateTerminated {
		return &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, StartedAt: metav1.NewTime(start), FinishedAt: metav1.NewTime(end)}
	}
	grace := 10 * time.Second
	cases := []struct {
		name              string
		t                 *corev1.ContainerStateTerminated
		kills             []KillMark
		liveness, startup bool
		everStarted       bool
		now               time.Time
		want              Cause
		wait              bool
	}{
		{name: "OOMKilled is OOM even with a kill event", t: term(137, "OOMKilled"), kills: []KillMark{{CauseLiveness, end}}, liveness: true, now: end, want: CauseOOM},
		{name: "a Killing event for liveness inside the run", t: term(137, "Error"), kills: []KillMark{{CauseLiveness, end.Add(-2 * time.Second)}}, liveness: true, now: end, want: CauseLiveness},
		{name: "a Killing event for the startup probe", t: term(143, "Error"), kills: []KillMark{{CauseStartup, end}}, startup: true, now: end, want: CauseStartup},
		{name: "a Killing event of an earlier run does not match", t: term(1, "Error"), kills: []KillMark{{CauseLiveness, start.Add(-time.Minute)}}, liveness: true, now: end, want: CauseError},
		{name: "exit 0 completed", t: term(0, "Completed"), liveness: true, now: end, want: CauseCompleted},
		{name: "exit 1 is an application crash", t: term(1, "Error"), liveness: true, now: end, want: CauseError},
		{name: "a signal exit waits for the Killing event", t: term(137, "Error"), liveness: true, now: end.Add(2 * time.Second), wait: true},
		{name: "after the grace, a signal exit under liveness is a liveness kill", t: term(137, "Error"), liveness: true, everStarted: true, now: end.Add(grace), want: CauseLiveness},
		{name: "after the grace, a never-started container under a startup probe was killed by it", t: term(143, "Error"), liveness: true, startup: true, now: end.Add(grace), want: CauseStartup},
		{name: "a signal exit without probes is the application's", t: term(137, "Error"), now: end, want: CauseError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.t, tc.kills, tc.liveness, tc.startup, tc.everStarted, tc.now, grace)
			if got.wait != tc.wait || (!tc.wait && got.cause != tc.want) {
				t.Errorf("classify = %+v, want cause %q wait %v", got, tc.want, tc.wait)
			}
		})
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
	if got := ContainerFromFieldPath("spec.containers{app}"); got != "app" {
		t.Errorf("ContainerFromFieldPath = %q", got)
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
