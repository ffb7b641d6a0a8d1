package sim

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// dayOf10 simulates 24h of 10 replicas with a startup probe (5s x 30),
// a readiness probe every 5s with a 1s timeout against answers whose tail
// crosses the timeout (flapping readiness), a liveness probe every 10s, and
// occasional hangs; it returns the number of events.
func dayOf10(tb testing.TB, seed uint64) int {
	events := 0
	statuses := 0
	w := NewWorld(Options{Seed: seed, Epoch: epoch, OnEvent: func(Event) { events++ }, OnStatusChange: func(p *PodSim) {
		statuses++
		_ = p.StatusVersion()
	}})
	ann := map[string]string{
		"sim.probetuner.io/startup":           "lognormal(20s,60s)",
		"sim.probetuner.io/readiness-latency": "lognormal(300ms,1300ms)",
		"sim.probetuner.io/liveness-latency":  "5ms-20ms",
		"sim.probetuner.io/hang-after":        "lognormal(8h,30h)",
		"sim.probetuner.io/shutdown":          "0s-2s",
	}
	for i := range 10 {
		pod := testPod(fmt.Sprintf("web-%d", i), ann,
			httpProbe("/healthz", period(5), failures(30)),
			httpProbe("/ready", period(5), failures(2)),
			httpProbe("/healthz", timeoutS(2)))
		if _, err := w.AddPod(pod, "node-1"); err != nil {
			tb.Fatal(err)
		}
	}
	w.RunUntil(epoch.Add(24 * time.Hour))
	return events
}

func BenchmarkDay10Replicas(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		dayOf10(b, uint64(i))
	}
}

// TestDay10Replicas keeps the benchmark scenario honest: it flaps and it is
// fast.
func TestDay10Replicas(t *testing.T) {
	start := time.Now()
	if n := dayOf10(t, 1); n < 1000 {
		t.Errorf("only %d events in a flapping day", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("24h of 10 replicas took %v", d)
	}
}

// TestShortcutsEquivalent checks that the two shortcuts change nothing for any
// pod: applying repeated successes at probe start instead of delivering them
// when the answer arrives, and parking idle startup workers. (Only the
// interleaving of different pods' events of the same instant may differ.)
// Half the pods run a native sidecar, whose started flag gates the app.
func TestShortcutsEquivalent(t *testing.T) {
	run := func(fast bool, seed uint64) string {
		applyEarly, parkIdle = fast, fast
		defer func() { applyEarly, parkIdle = true, true }()
		log := map[string][]string{}
		w := NewWorld(Options{Seed: seed, Epoch: epoch, OnEvent: func(e Event) { log[e.Pod] = append(log[e.Pod], e.String()) }})
		ann := map[string]string{
			"sim.probetuner.io/startup":             "lognormal(20s,60s)",
			"sim.probetuner.io/health-latency":      "lognormal(300ms,1300ms)",
			"sim.probetuner.io/hang-after":          "lognormal(2h,6h)",
			"sim.probetuner.io/crash-after":         "lognormal(3h,9h)",
			"sim.probetuner.io/health-failure-rate": "0.02",
		}
		for i := range 4 {
			pod := testPod(fmt.Sprintf("web-%d", i), ann,
				httpProbe("/healthz", period(5), failures(30)),
				httpProbe("/ready", period(3), failures(2), successes(2)),
				httpProbe("/healthz", timeoutS(2), period(7)))
			if i%2 == 1 {
				pod.Spec.InitContainers = []corev1.Container{sidecarSpec("proxy",
					httpProbe("/healthz", period(2), failures(40)), httpProbe("/ready", period(4)), httpProbe("/healthz", period(6)))}
			}
			if _, err := w.AddPod(pod, "node-1"); err != nil {
				t.Fatal(err)
			}
		}
		w.RunUntil(epoch.Add(6 * time.Hour))
		for _, p := range w.Pods() {
			log[p.Name()] = append(log[p.Name()], fmt.Sprintf("%+v", p.Stats()))
		}
		return fmt.Sprint(log)
	}
	for seed := range uint64(3) {
		if a, b := run(true, seed), run(false, seed); a != b {
			t.Errorf("seed %d: shortcut changes the outcome", seed)
		}
	}
}
