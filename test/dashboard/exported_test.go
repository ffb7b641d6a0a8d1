package dashboard

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/metrics"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

// series is one series name a query can select, and the labels its samples carry on the metrics endpoint.
type series struct {
	family string // the metric family: a histogram's _bucket, _sum and _count belong to it
	labels map[string]bool
}

// exported is what the manager's metrics endpoint serves: every series name (a histogram's and a summary's
// expanded into _bucket/_sum/_count) with its labels, and, for labels whose values the operator takes from a
// closed set, those values.
type exported struct {
	series map[string]series
	values map[string][]string // label → the values it can have; labels not here are open (namespace, workload, ...)
}

// gatherExported fills controller-runtime's registry, the one the manager serves, the way the running operator
// does: a series for every probe-tuner collector, and a real controller named as each of the operator's
// controllers run through one reconcile, so that controller-runtime's reconcile and work-queue series exist.
// A vector only shows up when it has a series, hence the filling; the names and labels are what the registry
// then gathers, not a list kept here.
func gatherExported(t *testing.T) exported {
	t.Helper()
	fillProbeTuner(t)
	names := controllerNames(t)
	for _, name := range names {
		runController(t, name)
	}

	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatalf("gathering controller-runtime's registry: %v", err)
	}
	e := exported{series: map[string]series{}, values: closedValues()}
	e.values["controller"] = names
	e.values["name"] = names // a work queue is named after its controller
	for _, f := range families {
		labels := map[string]bool{}
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = true
			}
		}
		name := f.GetName()
		add := func(n string, extra ...string) {
			l := map[string]bool{}
			for k := range labels {
				l[k] = true
			}
			for _, k := range extra {
				l[k] = true
			}
			e.series[n] = series{family: name, labels: l}
		}
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			add(name+"_bucket", "le")
			add(name + "_sum")
			add(name + "_count")
		case dto.MetricType_SUMMARY:
			add(name, "quantile")
			add(name + "_sum")
			add(name + "_count")
		default:
			add(name)
		}
	}
	return e
}

// fillProbeTuner gives every collector of internal/metrics a series. The vectors get one with placeholder
// values (how many labels each has is found by asking it), the per-workload gauges a workload with every probe
// kind current and recommended and a finding.
func fillProbeTuner(t *testing.T) {
	t.Helper()
	for _, c := range []prometheus.Collector{metrics.StartupDuration, metrics.Restarts, metrics.ReadyTransitions,
		metrics.Adjustments, metrics.Reverts, metrics.SelectedWorkloads} {
		touch(t, c)
	}
	v := probes.Values{InitialDelaySeconds: 0, PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}
	set := map[probes.Kind]probes.Values{}
	for _, k := range probes.Kinds {
		set[k] = v
	}
	metrics.WorkloadsShown.Set("shop", "web", metrics.Workload{
		Containers: []metrics.ContainerProbes{{Container: "app", Current: set, Recommended: set}},
		Findings:   []metrics.Finding{{Container: "app", Reason: "StuckNotReady", Severity: string(recommend.Warning)}},
	})
}

// touch creates a series of a metric vector, trying label counts until the vector accepts one.
func touch(t *testing.T, c prometheus.Collector) {
	t.Helper()
	for n := 0; n <= 16; n++ {
		lv := make([]string, n)
		for i := range lv {
			lv[i] = "x"
		}
		var err error
		switch v := c.(type) {
		case *prometheus.CounterVec:
			var m prometheus.Counter
			if m, err = v.GetMetricWithLabelValues(lv...); err == nil {
				m.Add(0)
			}
		case *prometheus.GaugeVec:
			var m prometheus.Gauge
			if m, err = v.GetMetricWithLabelValues(lv...); err == nil {
				m.Add(0)
			}
		case *prometheus.HistogramVec:
			var m prometheus.Observer
			if m, err = v.GetMetricWithLabelValues(lv...); err == nil {
				m.Observe(1)
			}
		case *prometheus.SummaryVec:
			var m prometheus.Observer
			if m, err = v.GetMetricWithLabelValues(lv...); err == nil {
				m.Observe(1)
			}
		default:
			t.Fatalf("%T: the test does not know how to give this collector a series; teach fillProbeTuner", c)
		}
		if err == nil {
			return
		}
	}
	t.Fatalf("%T accepts no label count up to 16", c)
}

// closedValues are the label values the operator takes from its own enumerations, so that a query matching
// cause="livenes" fails here rather than showing an empty panel.
func closedValues() map[string][]string {
	vals := map[string][]string{}
	for _, c := range observe.Causes {
		vals["cause"] = append(vals["cause"], string(c))
	}
	for _, k := range probes.Kinds {
		vals["probe"] = append(vals["probe"], string(k))
	}
	for _, f := range append(slices.Clone(probes.Fields), probes.WholeProbe) {
		vals["field"] = append(vals["field"], string(f))
	}
	for _, m := range []tuningv1alpha1.Mode{tuningv1alpha1.ModeOff, tuningv1alpha1.ModeRecommend, tuningv1alpha1.ModeAuto} {
		vals["mode"] = append(vals["mode"], string(m))
	}
	for _, a := range []tuningv1alpha1.DecisionAction{tuningv1alpha1.DecisionApplied, tuningv1alpha1.DecisionRecommended,
		tuningv1alpha1.DecisionReverted, tuningv1alpha1.DecisionSkipped} {
		vals["action"] = append(vals["action"], metrics.ActionLabel(a))
	}
	vals["severity"] = []string{string(recommend.Warning), string(recommend.Info)}
	// probetuner_probe_setting's source: the values the collector itself emits (filled with both above).
	vals["source"] = gatheredValues("probetuner_probe_setting", "source")
	// controller-runtime's reconcile results.
	vals["result"] = gatheredValues("controller_runtime_reconcile_total", "result")
	return vals
}

// gatheredValues returns the values a label has in a family of controller-runtime's registry now.
func gatheredValues(family, label string) []string {
	families, _ := ctrlmetrics.Registry.Gather()
	seen := map[string]bool{}
	for _, f := range families {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label {
					seen[lp.GetValue()] = true
				}
			}
		}
	}
	var out []string
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// controllerNames reads the names the operator gives its controllers (Named("...") in controllers/), the value
// of controller-runtime's controller and name labels.
func controllerNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../controllers/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no controllers/*.go: %v", err)
	}
	re := regexp.MustCompile(`\bNamed\("([^"]+)"\)`)
	var names []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			names = append(names, m[1])
		}
	}
	if len(names) == 0 {
		t.Fatal("found no Named(...) controller in controllers/")
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// runController starts a controller-runtime controller of this name with the defaults the operator's use (the
// priority queue), has it reconcile one request, and stops it once the reconcile's metrics are recorded.
func runController(t *testing.T, name string) {
	t.Helper()
	c, err := controller.NewUnmanaged(name, controller.Options{
		Reconciler: reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
			return reconcile.Result{}, nil
		}),
	})
	if err != nil {
		t.Fatalf("controller %s: %v", name, err)
	}
	one := source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		q.Add(reconcile.Request{})
		return nil
	})
	if err := c.Watch(one); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Start(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller %s: %v", name, err)
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !slices.Contains(gatheredValues("controller_runtime_reconcile_time_seconds", "controller"), name) {
		if time.Now().After(deadline) {
			t.Fatalf("controller %s recorded no reconcile in 30s", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e exported) String() string {
	var names []string
	for n := range e.series {
		names = append(names, n)
	}
	sort.Strings(names)
	return fmt.Sprint(names)
}
