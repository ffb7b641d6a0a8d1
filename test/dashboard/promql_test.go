package dashboard

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// checker parses PromQL with Prometheus' own parser and checks it against what the operator exports: each
// selected series exists, each label a matcher, a grouping, a vector matching or a function names is on the
// series at that point of the expression, and a label from a closed set (cause, probe, field, mode, ...) is
// matched against one of its values. It works out the labels each sub-expression's result carries, the way
// Prometheus' engine builds them (an aggregation keeps its by labels, histogram_quantile drops le, a one-to-one
// match on(...) keeps only those, ...), so a label used after it was aggregated away is caught too.
type checker struct {
	exp    exported
	multi  map[string]bool // placeholders standing for a multi-value or All variable: only regex matchers may take them
	errs   []string
	series map[string]bool // series names selected, for the coverage check
}

// closed is a label whose values the operator takes from a fixed set, on the families whose names start so.
type closed struct {
	label, prefix string
}

var closedLabels = []closed{
	{"cause", "probetuner_"}, {"probe", "probetuner_"}, {"field", "probetuner_"}, {"mode", "probetuner_"},
	{"action", "probetuner_"}, {"severity", "probetuner_"}, {"source", "probetuner_"},
	{"result", "controller_runtime_reconcile_total"},
	{"controller", "controller_runtime_"}, {"controller", "workqueue_"}, {"name", "workqueue_"},
}

// labelSet is the set of labels a result carries; nil when it is unknown because of an error already reported.
type labelSet map[string]bool

func (c *checker) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

// check parses expr and returns the labels of its result.
func (c *checker) check(expr string) labelSet {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		c.errorf("does not parse: %v", err)
		return nil
	}
	return c.labels(e)
}

func (c *checker) labels(e parser.Expr) labelSet {
	switch e := e.(type) {
	case *parser.VectorSelector:
		return c.selector(e)
	case *parser.MatrixSelector:
		return c.labels(e.VectorSelector)
	case *parser.SubqueryExpr:
		return c.labels(e.Expr)
	case *parser.ParenExpr:
		return c.labels(e.Expr)
	case *parser.StepInvariantExpr:
		return c.labels(e.Expr)
	case *parser.UnaryExpr:
		return c.labels(e.Expr)
	case *parser.NumberLiteral, *parser.StringLiteral:
		return labelSet{}
	case *parser.Call:
		return c.call(e)
	case *parser.AggregateExpr:
		return c.aggregate(e)
	case *parser.BinaryExpr:
		return c.binary(e)
	}
	c.errorf("%T (%s): the test does not know this kind of expression; teach checker.labels", e, e)
	return nil
}

func (c *checker) selector(vs *parser.VectorSelector) labelSet {
	name := vs.Name
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			name = m.Value
		}
	}
	if name == "" {
		c.errorf("%s selects no single metric name: the test can only check selectors that name their metric", vs)
		return nil
	}
	s, ok := c.exp.series[name]
	if !ok {
		c.errorf("metric %s is not exported by the operator", name)
		return nil
	}
	c.series[s.family] = true
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName {
			continue
		}
		if !s.labels[m.Name] {
			c.errorf("%s has no label %q (it has %s)", name, m.Name, keys(s.labels))
			continue
		}
		c.matcherValue(name, m)
	}
	return maps.Clone(labelSet(s.labels))
}

// matcherValue checks a matcher's value: a multi-value variable only in a regex matcher, and a closed label's
// value among those the operator uses.
func (c *checker) matcherValue(name string, m *labels.Matcher) {
	regex := m.Type == labels.MatchRegexp || m.Type == labels.MatchNotRegexp
	for p := range c.multi {
		if strings.Contains(m.Value, p) {
			if !regex {
				c.errorf("%s{%s}: a multi-value variable needs =~ or !~ (Grafana writes several values as a regex)", name, m)
			}
			return
		}
	}
	var allowed []string
	for _, cl := range closedLabels {
		if cl.label == m.Name && strings.HasPrefix(name, cl.prefix) {
			allowed = c.exp.values[cl.label]
		}
	}
	if allowed == nil {
		return
	}
	values := []string{m.Value}
	if regex {
		// Only a plain alternation of literal values is checked: a real pattern may mean anything.
		if !regexp.MustCompile(`^[A-Za-z0-9_.-]+(\|[A-Za-z0-9_.-]+)*$`).MatchString(m.Value) {
			return
		}
		values = strings.Split(m.Value, "|")
	}
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			c.errorf("%s{%s}: %q is not a value of %s (the operator uses %s)", name, m, v, m.Name, strings.Join(allowed, ", "))
		}
	}
}

func (c *checker) call(e *parser.Call) labelSet {
	args := make([]labelSet, len(e.Args))
	for i, a := range e.Args {
		args[i] = c.labels(a)
	}
	str := func(i int) string {
		if i < len(e.Args) {
			if s, ok := e.Args[i].(*parser.StringLiteral); ok {
				return s.Val
			}
		}
		return ""
	}
	switch e.Func.Name {
	case "histogram_quantile":
		in := args[1]
		if in == nil {
			return nil
		}
		if !in[labels.BucketLabel] {
			c.errorf("%s: its argument has no le label (a classic histogram's _bucket series, summed by le)", e)
			return nil
		}
		out := maps.Clone(in)
		delete(out, labels.BucketLabel)
		return out
	case "label_replace", "label_join":
		in := args[0]
		if in == nil {
			return nil
		}
		src := []string{str(3)}
		if e.Func.Name == "label_join" {
			src = nil
			for i := 3; i < len(e.Args); i++ {
				src = append(src, str(i))
			}
		}
		for _, l := range src {
			if l != "" && !in[l] {
				c.errorf("%s: source label %q is not on its argument (it has %s)", e, l, keys(in))
			}
		}
		out := maps.Clone(in)
		out[str(1)] = true
		return out
	case "absent", "absent_over_time", "scalar", "vector", "time":
		return labelSet{}
	}
	// Every other function keeps the labels of its vector or range-vector argument (rate, increase, clamp_min,
	// the *_over_time family, sort, ...), or has none.
	for i, a := range e.Args {
		if t := a.Type(); t == parser.ValueTypeVector || t == parser.ValueTypeMatrix {
			return args[i]
		}
	}
	return labelSet{}
}

func (c *checker) aggregate(e *parser.AggregateExpr) labelSet {
	in := c.labels(e.Expr)
	if e.Param != nil {
		c.labels(e.Param)
	}
	if in == nil {
		return nil
	}
	clause := "by"
	if e.Without {
		clause = "without"
	}
	for _, g := range e.Grouping {
		if !in[g] {
			c.errorf("%s: %s label %q is not on what it aggregates (that has %s)", e, clause, g, keys(in))
		}
	}
	var out labelSet
	switch {
	case e.Op == parser.TOPK || e.Op == parser.BOTTOMK || e.Op == parser.LIMITK || e.Op == parser.LIMIT_RATIO:
		return in // these select series, keeping their labels
	case e.Without:
		out = maps.Clone(in)
		for _, g := range e.Grouping {
			delete(out, g)
		}
	default:
		out = labelSet{}
		for _, g := range e.Grouping {
			out[g] = true
		}
	}
	if e.Op == parser.COUNT_VALUES {
		if s, ok := e.Param.(*parser.StringLiteral); ok {
			out[s.Val] = true
		}
	}
	return out
}

func (c *checker) binary(e *parser.BinaryExpr) labelSet {
	l, r := c.labels(e.LHS), c.labels(e.RHS)
	lScalar, rScalar := e.LHS.Type() == parser.ValueTypeScalar, e.RHS.Type() == parser.ValueTypeScalar
	switch {
	case lScalar && rScalar:
		return labelSet{}
	case lScalar:
		return r
	case rScalar:
		return l
	}
	vm := e.VectorMatching
	if vm == nil {
		vm = &parser.VectorMatching{Card: parser.CardOneToOne}
	}
	if l == nil || r == nil {
		return nil
	}
	for _, m := range vm.MatchingLabels {
		if vm.On && (!l[m] || !r[m]) {
			c.errorf("%s: on(%s) but %q is not on both sides (left has %s, right %s)", e, m, m, keys(l), keys(r))
		}
		if !vm.On && !l[m] && !r[m] {
			c.errorf("%s: ignoring(%s) but %q is on neither side", e, m, m)
		}
	}
	one := r
	if vm.Card == parser.CardOneToMany {
		one = l
	}
	for _, m := range vm.Include {
		if !one[m] {
			c.errorf("%s: group_left/right(%s) but %q is not on the one side (it has %s)", e, m, m, keys(one))
		}
	}
	switch {
	case e.Op == parser.LAND || e.Op == parser.LUNLESS:
		return l
	case e.Op == parser.LOR:
		out := maps.Clone(l)
		maps.Copy(out, r)
		return out
	}
	var out labelSet
	switch vm.Card {
	case parser.CardOneToOne:
		if vm.On {
			out = labelSet{}
			for _, m := range vm.MatchingLabels {
				if l[m] {
					out[m] = true
				}
			}
		} else {
			out = maps.Clone(l)
			for _, m := range vm.MatchingLabels {
				delete(out, m)
			}
		}
	case parser.CardOneToMany:
		out = maps.Clone(r)
	default:
		out = maps.Clone(l)
	}
	for _, m := range vm.Include {
		if one[m] {
			out[m] = true
		}
	}
	return out
}

func keys[V any](m map[string]V) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return "{" + strings.Join(ks, ", ") + "}"
}
