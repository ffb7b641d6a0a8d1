package metrics

import (
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/probetuner/probe-tuner/internal/probes"
)

func TestWorkloadGaugesShowWhatWasSetUntilForgotten(t *testing.T) {
	g := &WorkloadGauges{}
	liveness := probes.Values{PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}
	g.Set("shop", "cache", Workload{
		Containers: []ContainerProbes{{Container: "app",
			Current:     map[probes.Kind]probes.Values{probes.Liveness: liveness},
			Recommended: map[probes.Kind]probes.Values{probes.Liveness: liveness, probes.Startup: {PeriodSeconds: 5, FailureThreshold: 12}}}},
		Findings: []Finding{{Container: "app", Reason: "CorrelatedLivenessKills", Severity: "Warning"}},
	})
	g.Set("shop", "web", Workload{Containers: []ContainerProbes{{Container: "app", Current: map[probes.Kind]probes.Values{probes.Readiness: liveness}}}})

	fields := len(probes.Fields)
	if got, want := testutil.CollectAndCount(g, "probetuner_probe_setting"), 4*fields; got != want {
		t.Errorf("probe_setting samples = %d, want %d (cache: liveness current, liveness and startup recommended; web: readiness)", got, want)
	}
	want := `
# HELP probetuner_findings Patterns probe-tuner will not tune blindly, currently reported (1) per workload, container and reason.
# TYPE probetuner_findings gauge
probetuner_findings{container="app",namespace="shop",reason="CorrelatedLivenessKills",severity="Warning",workload="cache"} 1
`
	if err := testutil.CollectAndCompare(g, strings.NewReader(want), "probetuner_findings"); err != nil {
		t.Error(err)
	}
	if v := sample(t, g, `probe="startup"`, `field="failureThreshold"`, `source="recommended"`); v != 12 {
		t.Errorf("recommended startup failureThreshold = %v, want 12", v)
	}

	g.Forget("shop", "cache")
	if got := testutil.CollectAndCount(g, "probetuner_findings"); got != 0 {
		t.Errorf("findings after Forget = %d, want 0", got)
	}
	if got := testutil.CollectAndCount(g, "probetuner_probe_setting"); got != fields {
		t.Errorf("probe_setting samples after forgetting cache = %d, want %d (web only)", got, fields)
	}
}

// sample returns the value of the one probe_setting sample whose text has all the given label pairs.
func sample(t *testing.T, g *WorkloadGauges, labels ...string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(g)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var found []float64
	for _, f := range families {
		if f.GetName() != "probetuner_probe_setting" {
			continue
		}
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = strconv.Quote(lp.GetValue())
			}
			ok := true
			for _, l := range labels {
				name, value, _ := strings.Cut(l, "=")
				ok = ok && have[name] == value
			}
			if ok {
				found = append(found, m.GetGauge().GetValue())
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d samples match %v, want 1", len(found), labels)
	}
	return found[0]
}
