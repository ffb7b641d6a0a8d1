package sim

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseDistribution(t *testing.T) {
	r := newRand(1, "test")
	for _, tc := range []struct {
		in     string
		lo, hi time.Duration // every sample within [lo, hi]
		median time.Duration // approximate median (0: skip)
		never  bool
		fixed  bool
	}{
		{in: "45s", lo: sec(45), hi: sec(45), fixed: true},
		{in: "0", lo: 0, hi: 0, fixed: true},
		{in: "1h30m", lo: 90 * time.Minute, hi: 90 * time.Minute, fixed: true},
		{in: "40s-50s", lo: sec(40), hi: sec(50), median: sec(45)},
		{in: "500ms-1.5s", lo: sec(0.5), hi: sec(1.5), median: sec(1)},
		{in: "lognormal(30s,120s)", lo: 0, hi: 1000 * time.Hour, median: sec(30)},
		{in: "mix(0.7:5s-8s,0.3:60s-70s)", lo: sec(5), hi: sec(70), median: sec(7)},
		{in: " mix( 0.5 : lognormal(1s,2s) , 0.5 : 3s ) ", lo: 0, hi: time.Hour},
		{in: "never", never: true},
	} {
		d, err := ParseDistribution(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if d.IsNever() != tc.never {
			t.Errorf("%q: IsNever %v", tc.in, d.IsNever())
		}
		if tc.never {
			if _, ok := d.Sample(r); ok {
				t.Errorf("%q: sampled a value", tc.in)
			}
			continue
		}
		var xs []time.Duration
		for range 4001 {
			v, ok := d.Sample(r)
			if !ok || v < tc.lo || v > tc.hi {
				t.Fatalf("%q: sample %v (ok %v) outside [%v, %v]", tc.in, v, ok, tc.lo, tc.hi)
			}
			xs = append(xs, v)
		}
		slices.Sort(xs)
		if tc.median > 0 {
			if m := xs[len(xs)/2]; math.Abs(float64(m-tc.median)) > 0.1*float64(tc.median) {
				t.Errorf("%q: median %v, want about %v", tc.in, m, tc.median)
			}
		}
		if tc.in == "lognormal(30s,120s)" {
			if p99 := xs[len(xs)*99/100]; p99 < sec(100) || p99 > sec(145) {
				t.Errorf("lognormal p99 %v, want about 120s", p99)
			}
		}
	}
	// A fixed distribution draws no random numbers.
	a, b := newRand(3, "x"), newRand(3, "x")
	Fixed(sec(5)).Sample(a)
	if a.Uint64() != b.Uint64() {
		t.Error("a fixed sample consumed randomness")
	}
}

func TestParseDistributionErrors(t *testing.T) {
	for _, in := range []string{"4x5s", "", "-5s", "50s-40s", "lognormal(30s)", "lognormal(2m,1m)", "mix(0.5:1s,0.4:2s)", "mix(1:1s)", "mix(a:1s,0.5:2s)", "sometimes", "10"} {
		_, err := ParseDistribution(in)
		if err == nil {
			t.Errorf("%q parsed", in)
			continue
		}
		if !strings.HasPrefix(err.Error(), "not a duration or distribution (want 45s, 40s-50s, lognormal(30s,120s), mix(0.7:5s,0.3:60s) or never)") {
			t.Errorf("%q: error %q", in, err)
		}
	}
}

func TestParseBehaviors(t *testing.T) {
	bs, err := ParseBehaviors(map[string]string{
		"sim.probetuner.io/startup":                 "45s",
		"sim.probetuner.io/health-latency":          "10ms-20ms",
		"sim.probetuner.io/readiness-latency":       "900ms-1100ms",
		"sim.probetuner.io/hang-after":              "2h",
		"sim.probetuner.io/startup-growth":          "10s/24h",
		"sim.probetuner.io/dependency-outage":       "at 2m for 30s, every 10m for 1m from 1m",
		"sim.probetuner.io/dependency-checked-by":   "liveness,readiness",
		"sidecar.sim.probetuner.io/startup":         "1s",
		"sidecar.sim.probetuner.io/crash-exit-code": "7",
		"other.example.com/ignored":                 "x",
	}, []string{"app", "sidecar"})
	if err != nil {
		t.Fatal(err)
	}
	app, side := bs["app"], bs["sidecar"]
	if app.Startup.String() != "45s" || side.Startup.String() != "1s" {
		t.Errorf("startup app %s sidecar %s", app.Startup, side.Startup)
	}
	if side.HangAfter.String() != "2h" || side.CrashExitCode != 7 || app.CrashExitCode != 1 {
		t.Errorf("pod-wide keys not applied to the sidecar or override leaked: %+v", side)
	}
	if app.Latency[Liveness].String() != "10ms-20ms" || app.Latency[Readiness].String() != "900ms-1100ms" {
		t.Errorf("latencies %v", app.Latency)
	}
	if app.StartupGrowth != sec(10) || app.StartupGrowthPer != 24*time.Hour {
		t.Errorf("growth %v/%v", app.StartupGrowth, app.StartupGrowthPer)
	}
	want := []Window{{Start: 2 * time.Minute, Length: sec(30)}, {Start: time.Minute, Length: time.Minute, Every: 10 * time.Minute}}
	if !slices.Equal(app.Outages, want) {
		t.Errorf("outages %+v", app.Outages)
	}
	if !app.CheckedBy[Liveness] || !app.CheckedBy[Readiness] || app.CheckedBy[Startup] {
		t.Errorf("checked by %v", app.CheckedBy)
	}
	// Windows: "every 10m for 1m" starts at 10m.
	ws, _ := ParseBehaviors(map[string]string{"sim.probetuner.io/dependency-outage": "every 10m for 1m"}, []string{"app"})
	w := ws["app"].Outages[0]
	for _, tc := range []struct {
		at time.Duration
		in bool
	}{{0, false}, {sec(30), false}, {10 * time.Minute, true}, {10*time.Minute + sec(59), true}, {11 * time.Minute, false}, {20*time.Minute + sec(1), true}} {
		if w.Contains(tc.at) != tc.in {
			t.Errorf("window %+v contains(%v) = %v", w, tc.at, !tc.in)
		}
	}
}

// TestAnnotationErrors: invalid annotations fail AddPod with a message naming
// the annotation and the value.
func TestAnnotationErrors(t *testing.T) {
	for _, tc := range []struct {
		key, value, want string
	}{
		{"sim.probetuner.io/startup", "4x5s", `sim.probetuner.io/startup: "4x5s": not a duration or distribution (want 45s, 40s-50s, lognormal(30s,120s), mix(0.7:5s,0.3:60s) or never)`},
		{"app.sim.probetuner.io/hang-after", "soon", `app.sim.probetuner.io/hang-after: "soon": not a duration or distribution`},
		{"sim.probetuner.io/health-latency", "never", `sim.probetuner.io/health-latency: "never": "never" is not allowed for this key`},
		{"sim.probetuner.io/health-failure-rate", "5%", `sim.probetuner.io/health-failure-rate: "5%": not a probability`},
		{"sim.probetuner.io/crash-exit-code", "300", `sim.probetuner.io/crash-exit-code: "300": not an exit code`},
		{"sim.probetuner.io/dependency-outage", "at 2m", `sim.probetuner.io/dependency-outage: "at 2m": window "at 2m": want "at <time> for <duration>"`},
		{"sim.probetuner.io/dependency-checked-by", "everything", `sim.probetuner.io/dependency-checked-by: "everything": not a probe list`},
		{"sim.probetuner.io/startup-growth", "10s", `sim.probetuner.io/startup-growth: "10s": not a growth rate`},
		{"sim.probetuner.io/startpu", "45s", `sim.probetuner.io/startpu: "45s": unknown simulator key (known: `},
		{"db.sim.probetuner.io/startup", "45s", `db.sim.probetuner.io/startup: "45s": no container named "db" in the pod (containers: app)`},
	} {
		w := exactWorld(t, 1)
		_, err := w.AddPod(testPod("web-0", map[string]string{tc.key: tc.value}, nil, nil, nil), "node-1")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: error %v, want it to contain %q", tc.key, tc.value, err, tc.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "pod default/web-0: ") {
			t.Errorf("error %q does not name the pod", err)
		}
	}
}

// TestStartupGrowth: the startup time grows by 10s per hour since the epoch:
// a pod created at 2h needs 5s + 20s.
func TestStartupGrowth(t *testing.T) {
	w := exactWorld(t, 1)
	w.Advance(2 * time.Hour)
	p := mustAdd(t, w, testPod("web-0", map[string]string{"sim.probetuner.io/startup": "5s", "sim.probetuner.io/startup-growth": "10s/1h"}, nil, httpProbe("/ready", period(1)), nil))
	w.Advance(time.Minute)
	if s := p.Stats(); s.FirstReady != sec(25) {
		t.Errorf("first ready after %v, want 25s", s.FirstReady)
	}
}
