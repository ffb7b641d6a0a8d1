package observe

import (
	"testing"
	"time"
)

func TestCorrelatedCountsOnlyErrorAnswers(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	kill := func(pod string, after time.Duration, timeouts bool) Kill {
		return Kill{Pod: pod, Container: "app", At: at.Add(after), Timeouts: timeouts}
	}
	tests := []struct {
		name  string
		kills []Kill
		want  int
	}{
		{"error answers on three replicas at once are correlated",
			[]Kill{kill("a", 0, false), kill("b", 10*time.Second, false), kill("c", 20*time.Second, false)}, 3},
		{"timeouts on three replicas at once are a latency tail, not a shared dependency",
			[]Kill{kill("a", 0, true), kill("b", 10*time.Second, true), kill("c", 20*time.Second, true)}, 0},
		{"only the error answers among mixed kills count",
			[]Kill{kill("a", 0, false), kill("b", 10*time.Second, true), kill("c", 20*time.Second, false)}, 2},
		{"error answers further apart than the window are not correlated",
			[]Kill{kill("a", 0, false), kill("b", 5*time.Minute, false)}, 1},
		{"kills of another container do not count",
			[]Kill{kill("a", 0, false), {Pod: "b", Container: "sidecar", At: at}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := correlated(tt.kills, "app", 90*time.Second); got != tt.want {
				t.Errorf("correlated = %d, want %d", got, tt.want)
			}
		})
	}
}
