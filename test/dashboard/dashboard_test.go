// Package dashboard checks config/grafana/probe-tuner-dashboard.json against the metrics the operator really
// exports: every PromQL query of its panels, annotations and template variables is parsed with Prometheus' own
// parser, and each metric, label and closed label value it uses must be one the operator's registry serves.
package dashboard

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

const dashboardFile = "../../config/grafana/probe-tuner-dashboard.json"

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type dashboard struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Panels        []panel
	Templating    struct{ List []variable }
	Annotations   struct{ List []annotation }
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *dsRef `json:"datasource"`
	Targets    []struct {
		RefID        string `json:"refId"`
		Expr         string `json:"expr"`
		LegendFormat string `json:"legendFormat"`
		Datasource   *dsRef `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"` // a string, or {"query": "..."} from the Prometheus variable editor
	Definition string          `json:"definition"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	Datasource *dsRef          `json:"datasource"`
}

type annotation struct {
	Name        string `json:"name"`
	BuiltIn     int    `json:"builtIn"`
	Expr        string `json:"expr"`
	TitleFormat string `json:"titleFormat"`
	TagKeys     string `json:"tagKeys"`
	Datasource  *dsRef `json:"datasource"`
}

func (v variable) query() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var q struct {
		Query string `json:"query"`
	}
	_ = json.Unmarshal(v.Query, &q)
	return q.Query
}

func load(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// query is one PromQL expression of the dashboard, where it is, and the labels its text refers to in a legend
// or an annotation's title and tags.
type query struct {
	where, expr string
	shows       []string
	// labelValues: the expression is label_values(expr, label)'s, and label must be on its result.
	labelValues string
}

var legendLabel = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

func legendLabels(s string) []string {
	var out []string
	for _, m := range legendLabel.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func queries(t *testing.T, d dashboard) []query {
	t.Helper()
	var qs []query
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				qs = append(qs, query{where: fmt.Sprintf("panel %d %q target %s", p.ID, p.Title, tg.RefID),
					expr: tg.Expr, shows: legendLabels(tg.LegendFormat)})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, a := range d.Annotations.List {
		if a.BuiltIn != 0 {
			continue
		}
		shows := legendLabels(a.TitleFormat)
		for _, k := range strings.Split(a.TagKeys, ",") {
			if k = strings.TrimSpace(k); k != "" {
				shows = append(shows, k)
			}
		}
		qs = append(qs, query{where: fmt.Sprintf("annotation %q", a.Name), expr: a.Expr, shows: shows})
	}
	labelValues := regexp.MustCompile(`^\s*label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$`)
	queryResult := regexp.MustCompile(`^\s*query_result\((.+)\)\s*$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		where := fmt.Sprintf("variable %q", v.Name)
		q := v.query()
		if v.Definition != "" && v.Definition != q {
			t.Errorf("%s: definition %q differs from its query %q", where, v.Definition, q)
		}
		switch m := labelValues.FindStringSubmatch(q); {
		case m != nil:
			qs = append(qs, query{where: where, expr: m[1], labelValues: m[2]})
		case queryResult.MatchString(q):
			qs = append(qs, query{where: where, expr: queryResult.FindStringSubmatch(q)[1]})
		default:
			t.Errorf("%s: query %q is not label_values(selector, label) or query_result(expr), which the test checks", where, q)
		}
	}
	return qs
}

// substitution replaces the dashboard's variables in a query the way Grafana would before sending it: an
// interval variable by its first option, Grafana's $__rate_interval and friends by a duration, and a query
// variable by a placeholder the checker recognises (a multi-value one may only stand in a regex matcher).
type substitution struct {
	values map[string]string
	multi  map[string]bool // placeholders of multi-value or All variables
}

func newSubstitution(d dashboard) substitution {
	s := substitution{values: map[string]string{
		"__rate_interval": "5m", "__interval": "1m", "__range": "1d", "__range_s": "86400", "__range_ms": "86400000",
	}, multi: map[string]bool{}}
	for _, v := range d.Templating.List {
		switch v.Type {
		case "interval", "custom":
			first, _, _ := strings.Cut(v.query(), ",")
			s.values[v.Name] = strings.TrimSpace(first)
		case "query", "textbox", "constant":
			p := "pt_var_" + v.Name
			s.values[v.Name] = p
			if v.Multi || v.IncludeAll {
				s.multi[p] = true
			}
		}
		// A datasource variable has no place in PromQL: left out, so using one is an unknown variable.
	}
	return s
}

var variableRef = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[A-Za-z]+)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]`)

func (s substitution) apply(expr string) (string, error) {
	var unknown []string
	out := variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := variableRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		if strings.Trim(name, "0123456789") == "" {
			return ref // $1: a regex group in label_replace, which Grafana leaves alone
		}
		v, ok := s.values[name]
		if !ok {
			unknown = append(unknown, name)
			return ref
		}
		return v
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("uses variables the dashboard does not define: %s", strings.Join(unknown, ", "))
	}
	return out, nil
}

var (
	exportedOnce sync.Once
	exportedVal  *exported
)

// exportedMetrics gathers the registry once per test binary: the controllers it runs can only be made once.
func exportedMetrics(t *testing.T) exported {
	t.Helper()
	exportedOnce.Do(func() {
		e := gatherExported(t)
		exportedVal = &e
	})
	if exportedVal == nil {
		t.Fatal("gathering the exported metrics failed in an earlier test")
	}
	return *exportedVal
}

// checkQuery substitutes, parses and checks one query; it returns the problems found.
func checkQuery(e exported, s substitution, q query, selected map[string]bool) []string {
	expr, err := s.apply(q.expr)
	if err != nil {
		return []string{err.Error()}
	}
	c := &checker{exp: e, multi: s.multi, series: selected}
	out := c.check(expr)
	if out != nil {
		for _, l := range q.shows {
			if !out[l] {
				c.errorf("shows {{%s}}, but the result has no such label (it has %s)", l, keys(out))
			}
		}
		if q.labelValues != "" && !out[q.labelValues] {
			c.errorf("label_values of %q, which the result does not have (it has %s)", q.labelValues, keys(out))
		}
	}
	return c.errs
}

func TestEveryQueryUsesExportedMetricsAndLabels(t *testing.T) {
	d := load(t)
	e := exportedMetrics(t)
	s := newSubstitution(d)
	qs := queries(t, d)
	if len(qs) < 10 {
		t.Fatalf("found %d queries in %s; the walk over panels, annotations and variables is broken", len(qs), dashboardFile)
	}
	selected := map[string]bool{}
	for _, q := range qs {
		if strings.TrimSpace(q.expr) == "" {
			t.Errorf("%s: empty query", q.where)
			continue
		}
		for _, p := range checkQuery(e, s, q, selected) {
			t.Errorf("%s: %s\n\tquery: %s", q.where, p, q.expr)
		}
	}
	t.Logf("checked %d queries against %d exported series names", len(qs), len(e.series))
}

// TestEveryProbeTunerMetricIsShown fails when the operator exports a probetuner_ metric the dashboard does not
// query: a new metric gets a panel.
func TestEveryProbeTunerMetricIsShown(t *testing.T) {
	d := load(t)
	e := exportedMetrics(t)
	s := newSubstitution(d)
	selected := map[string]bool{}
	for _, q := range queries(t, d) {
		checkQuery(e, s, q, selected)
	}
	var missing []string
	for _, sr := range e.series {
		if strings.HasPrefix(sr.family, "probetuner_") && !selected[sr.family] {
			missing = append(missing, sr.family)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no panel queries %s", strings.Join(missing, ", "))
	}
}

func TestDashboardShape(t *testing.T) {
	d := load(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: both are needed for a stable import", d.UID, d.Title)
	}
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d: datasource references by uid need 36 or later", d.SchemaVersion)
	}
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if ds := vars["datasource"]; ds.Type != "datasource" || ds.query() != "prometheus" {
		t.Errorf("no datasource variable of type prometheus: %+v", ds)
	}
	if ns := vars["namespace"]; ns.query() != "label_values(probetuner_selected_workloads, namespace)" {
		t.Errorf("namespace variable's query = %q", ns.query())
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" && (v.Datasource == nil || v.Datasource.UID != "${datasource}") {
			t.Errorf("variable %q does not query the ${datasource} variable: %+v", v.Name, v.Datasource)
		}
	}
	ids := map[int]bool{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if ids[p.ID] {
				t.Errorf("panel id %d used twice", p.ID)
			}
			ids[p.ID] = true
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %d %q has no query", p.ID, p.Title)
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %d %q does not use the ${datasource} variable: %+v", p.ID, p.Title, p.Datasource)
			}
			refs := map[string]bool{}
			for _, tg := range p.Targets {
				if tg.RefID == "" || refs[tg.RefID] {
					t.Errorf("panel %d %q: refId %q empty or repeated", p.ID, p.Title, tg.RefID)
				}
				refs[tg.RefID] = true
				if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
					t.Errorf("panel %d %q target %s does not use the ${datasource} variable", p.ID, p.Title, tg.RefID)
				}
			}
		}
	}
	walk(d.Panels)
}

// TestCheckerCatchesMistakes breaks queries the way a dashboard goes wrong and expects each to be reported, so
// that a passing TestEveryQueryUsesExportedMetricsAndLabels means something.
func TestCheckerCatchesMistakes(t *testing.T) {
	e := exportedMetrics(t)
	s := newSubstitution(load(t))
	good := []string{
		`sum by (cause) (rate(probetuner_container_restarts_total{namespace=~"$namespace"}[$__rate_interval]))`,
		`histogram_quantile(0.99, sum by (le, workload) (rate(probetuner_startup_duration_seconds_bucket[$window])))`,
		`sum(rate(controller_runtime_reconcile_total{controller="probepolicy", result="error"}[5m]))`,
		`label_replace(probetuner_reverts_total, "w", "$1", "workload", "(.*)")`,
	}
	for _, q := range good {
		if errs := checkQuery(e, s, query{where: "good", expr: q}, map[string]bool{}); len(errs) > 0 {
			t.Errorf("%s: reported %v, want nothing", q, errs)
		}
	}
	bad := map[string]string{
		"unknown metric":              `rate(probetuner_container_restart_total[5m])`,
		"not a histogram":             `probetuner_reverts_total_bucket`,
		"unknown label in a matcher":  `probetuner_reverts_total{pod="x"}`,
		"unknown label in by":         `sum by (cause) (probetuner_reverts_total)`,
		"label aggregated away":       `sum by (namespace) (sum by (workload) (probetuner_reverts_total))`,
		"le summed away":              `histogram_quantile(0.99, sum by (workload) (rate(probetuner_startup_duration_seconds_bucket[5m])))`,
		"on() label on one side only": `probetuner_reverts_total * on (cause) probetuner_container_restarts_total`,
		"wrong cause value":           `probetuner_container_restarts_total{cause=~"liveness|startp"}`,
		"wrong controller name":       `controller_runtime_reconcile_total{controller="probe-policy"}`,
		"wrong mode value":            `probetuner_selected_workloads{mode="auto"}`,
		"multi variable with =":       `probetuner_reverts_total{namespace="$namespace"}`,
		"undefined variable":          `probetuner_reverts_total{namespace=~"$ns"}`,
		"syntax error":                `sum by (namespace (probetuner_reverts_total)`,
		"workqueue label":             `workqueue_depth{queue="probepolicy"}`,
		"wrong work queue name":       `workqueue_depth{name="probepolicies"}`,
	}
	for what, q := range bad {
		errs := checkQuery(e, s, query{where: what, expr: q}, map[string]bool{})
		t.Logf("%s: %v", what, errs)
		if len(errs) == 0 {
			t.Errorf("%s: %s was not reported", what, q)
		}
	}
	if errs := checkQuery(e, s, query{where: "legend", expr: `sum by (workload) (probetuner_reverts_total)`, shows: []string{"namespace"}},
		map[string]bool{}); len(errs) == 0 {
		t.Errorf("a legend showing a label the result does not have was not reported")
	}
	if errs := checkQuery(e, s, query{where: "variable", expr: `probetuner_reverts_total`, labelValues: "policy"},
		map[string]bool{}); len(errs) == 0 {
		t.Errorf("label_values of a label the metric does not have was not reported")
	}
}
