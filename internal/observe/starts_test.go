package observe

import (
	"testing"
	"time"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// seen is one look at a one-container pod "web-1", offsets from t0.
type seen struct {
	at time.Duration
	// pending: the container has no status yet.
	pending bool
	// id and since: the running instance and when it started; waiting replaces running with a waiting reason.
	id      string
	since   time.Duration
	waiting string
	started bool
	ready   bool
	// podReady and podSince: the pod's Ready condition and its last transition.
	podReady bool
	podSince time.Duration
	restarts int32
	// last: the previous instance's termination (exit code, start, finish), when it has one.
	last *Termination
	// events: kubelet Events of this look.
	events []KubeletEvent
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func (l seen) pod(ps probes.ByKind[*Probe]) Pod {
	p := Pod{Name: "web-1", UID: "uid-web-1", Revision: "h1", Ready: l.podReady, ReadySince: t0.Add(l.podSince)}
	c := Container{Name: "app", Probes: ps}
	if !l.pending {
		c.Status = &ContainerStatus{Ready: l.ready, Started: l.started, RestartCount: l.restarts, ContainerID: l.id, LastTermination: l.last}
		if l.waiting != "" {
			c.Status.Waiting = l.waiting
		} else {
			c.Status.Running, c.Status.RunningSince = true, t0.Add(l.since)
		}
	}
	p.Containers = []Container{c}
	return p
}

func probeSet(kinds ...probes.Kind) probes.ByKind[*Probe] {
	var ps probes.ByKind[*Probe]
	for _, k := range kinds {
		v := probes.Values{PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}
		if k == probes.Startup {
			v.PeriodSeconds, v.FailureThreshold = 5, 30
		}
		ps.Set(k, &Probe{Values: v})
	}
	return ps
}

// A start is sampled only from the container's own timestamps or from a completion seen between two recent
// looks, never from how long a container has been running when it is first seen.
func TestStartsAreMeasuredOnlyWhenTheirCompletionIsWatched(t *testing.T) {
	startup, readiness, liveness := probes.Startup, probes.Readiness, probes.Liveness
	cases := []struct {
		name  string
		kinds []probes.Kind
		// before is a look at the workload, without this pod, before the first look at the pod (0: none, a
		// fresh state).
		before time.Duration
		looks  []seen
		// want are the start samples expected, in seconds; restarts the restarts by cause.
		want          []float64
		wantCensored  int
		wantRestarts  map[Cause]int
		wantNotReady  time.Duration // the pod's not-ready time at the last look, when not zero
		wantCrashLoop int
	}{
		{
			name: "installed into a running cluster: a pod started 30 min ago behind a startup probe is no sample", kinds: []probes.Kind{startup, liveness},
			looks: []seen{{at: 0, id: "c1", since: -30 * time.Minute, started: true, ready: true, podReady: true, podSince: -29 * time.Minute}},
		},
		{
			name: "installed into a running cluster: the pod's Ready transition may be a later flap, so it is no sample either", kinds: []probes.Kind{readiness},
			looks: []seen{{at: 0, id: "c1", since: -30 * time.Minute, ready: true, podReady: true, podSince: -time.Minute}},
		},
		{
			name: "restored after 30 minutes down: a start seen in progress then is known only to have completed somewhere in the gap", kinds: []probes.Kind{startup},
			looks: []seen{
				{at: 0, id: "c1", since: -10 * time.Second},
				{at: 30 * time.Minute, id: "c1", since: -10 * time.Second, started: true, ready: true, podReady: true, podSince: 20 * time.Minute},
			},
		},
		{
			name: "watched: a start seen in progress and then started is measured to the look", kinds: []probes.Kind{startup},
			looks: []seen{
				{at: 0, pending: true},
				{at: 5 * time.Second, id: "c1", since: 2 * time.Second},
				{at: 20 * time.Second, id: "c1", since: 2 * time.Second, started: true},
			},
			want: []float64{18},
		},
		{
			name: "watched: a fast start first seen complete is measured, it began after the previous look", kinds: []probes.Kind{startup},
			before: -5 * time.Second, // the workload was looked at just before the instance started
			looks:  []seen{{at: 5 * time.Second, id: "c1", since: time.Second, started: true}},
			want:   []float64{4},
		},
		{
			name: "watched: a start first seen ready is measured to the pod's Ready transition", kinds: []probes.Kind{readiness},
			looks: []seen{
				{at: 0, pending: true},
				{at: 15 * time.Second, id: "c1", since: 2 * time.Second, ready: true, podReady: true, podSince: 12 * time.Second},
			},
			want: []float64{10},
		},
		{
			name: "a pod new to the observer whose instance started long before the previous look is no sample", kinds: []probes.Kind{readiness},
			before: -15 * time.Second,
			looks:  []seen{{at: 0, id: "c1", since: -10 * time.Minute, ready: true, podReady: true, podSince: -9 * time.Minute}},
		},
		{
			name: "first seen starting (the pod not Ready since before the instance began): its first Ready is measured", kinds: []probes.Kind{readiness},
			looks: []seen{
				{at: 0, id: "c1", since: -20 * time.Second, podSince: -21 * time.Second},
				{at: 15 * time.Second, id: "c1", since: -20 * time.Second, ready: true, podReady: true, podSince: 12 * time.Second},
			},
			want: []float64{32},
		},
		{
			name: "first seen not ready after a flap (the pod went not Ready after the instance began): its next Ready is no start", kinds: []probes.Kind{readiness},
			looks: []seen{
				{at: 0, id: "c1", since: -30 * time.Minute, podSince: -20 * time.Second},
				{at: 15 * time.Second, id: "c1", since: -30 * time.Minute, ready: true, podReady: true, podSince: 12 * time.Second},
			},
			wantNotReady: 0,
		},
		{
			name: "first seen not ready after a flap: not stuck since the instance started, but since the pod went not Ready", kinds: []probes.Kind{readiness, liveness},
			looks: []seen{
				{at: 0, id: "c1", since: -30 * time.Minute, podSince: -20 * time.Second},
				{at: 15 * time.Second, id: "c1", since: -30 * time.Minute, podSince: -20 * time.Second},
			},
			wantNotReady: 35 * time.Second,
		},
		{
			name: "a liveness kill of a pod first seen not ready after a flap is no killed start (no 30 min censored sample)", kinds: []probes.Kind{readiness, liveness},
			looks: []seen{
				{at: 0, id: "c1", since: -30 * time.Minute, podSince: -20 * time.Second},
				{at: 40 * time.Second, id: "c2", since: 35 * time.Second, restarts: 1, podSince: -20 * time.Second,
					last:   &Termination{ExitCode: 137, Reason: "Error", ContainerID: "c1", StartedAt: t0.Add(-30 * time.Minute), FinishedAt: t0.Add(34 * time.Second)},
					events: []KubeletEvent{{ID: "k1", Count: 1, Pod: "web-1", Container: "app", Reason: "Killing", Message: "Container app failed liveness probe, will be restarted", Time: t0.Add(30 * time.Second)}}},
			},
			wantRestarts: map[Cause]int{CauseLiveness: 1},
		},
		{
			name: "crash-looping before it was selected: restarts seen only as terminations, never running, count as they happen", kinds: []probes.Kind{readiness, liveness},
			looks: []seen{
				{at: 0, id: "c5", waiting: WaitingCrashLoopBackOff, restarts: 5,
					last: &Termination{ExitCode: 1, Reason: "Error", ContainerID: "c5", StartedAt: t0.Add(-62 * time.Second), FinishedAt: t0.Add(-60 * time.Second)}},
				{at: 15 * time.Second, id: "c6", waiting: WaitingCrashLoopBackOff, restarts: 6,
					last: &Termination{ExitCode: 1, Reason: "Error", ContainerID: "c6", StartedAt: t0.Add(10 * time.Second), FinishedAt: t0.Add(12 * time.Second)}},
				{at: 30 * time.Second, id: "c6", waiting: WaitingCrashLoopBackOff, restarts: 6,
					last: &Termination{ExitCode: 1, Reason: "Error", ContainerID: "c6", StartedAt: t0.Add(10 * time.Second), FinishedAt: t0.Add(12 * time.Second)}},
			},
			wantRestarts:  map[Cause]int{CauseError: 1},
			wantCrashLoop: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			ps := probeSet(tc.kinds...)
			s := &State{}
			first := tc.looks[0].at
			if tc.before != 0 {
				Update(s, Input{Revision: "h1", Now: t0.Add(first + tc.before)}, cfg)
			}
			for _, l := range tc.looks {
				Update(s, Input{Pods: []Pod{l.pod(ps)}, Events: l.events, Revision: "h1", Now: t0.Add(l.at)}, cfg)
			}
			last := t0.Add(tc.looks[len(tc.looks)-1].at)
			sig := ContainerSignals(s, "app", "h1", last, cfg)
			if sig.Startup.Count != len(tc.want) {
				t.Fatalf("start samples = %d (p50 %s), want %d %v", sig.Startup.Count, sig.Startup.Quantile(0.5), len(tc.want), tc.want)
			}
			if len(tc.want) == 1 {
				if got := s.Containers["app"].LastStartSeconds; got != tc.want[0] {
					t.Errorf("start = %.1fs, want %.1fs", got, tc.want[0])
				}
			}
			if sig.CensoredStarts != tc.wantCensored {
				t.Errorf("censored starts = %d (longest %s), want %d", sig.CensoredStarts, sig.StartLowerBound, tc.wantCensored)
			}
			for _, c := range Causes {
				if sig.Restarts[c] != tc.wantRestarts[c] {
					t.Errorf("restarts = %v, want %v", sig.Restarts, tc.wantRestarts)
					break
				}
			}
			if tc.wantRestarts[CauseLiveness] > 0 && sig.KillsBeforeReady+sig.KillsAfterReady != 0 {
				t.Errorf("kills before ready %d, after ready %d: want neither, the instance's start was unknown", sig.KillsBeforeReady, sig.KillsAfterReady)
			}
			if tc.wantNotReady != 0 {
				if len(sig.NotReady) != 1 || sig.NotReady[0].For != tc.wantNotReady {
					t.Errorf("not ready = %+v, want one pod not ready for %s", sig.NotReady, tc.wantNotReady)
				}
			}
			if sig.CrashLoopBackOff != tc.wantCrashLoop {
				t.Errorf("pods in CrashLoopBackOff = %d, want %d", sig.CrashLoopBackOff, tc.wantCrashLoop)
			}
		})
	}
}
