package controllers

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/test/builders"
)

var indexEpoch = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

// indexedPolicyObj is a policy of namespace ns selecting team=<team>, created age after indexEpoch.
func indexedPolicyObj(name, team string, age time.Duration) *tuningv1alpha1.ProbePolicy {
	p := builders.MakePolicy(name, "ns").Selector("team", team).Obj()
	p.UID, p.Generation = types.UID("uid-"+name), 1
	p.CreationTimestamp = metav1.NewTime(indexEpoch.Add(age))
	return p
}

func names(reqs []reconcile.Request) string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.Name
	}
	return strings.Join(out, ",")
}

// TestPolicyIndex checks the index from Deployments to the policies selecting or tracking them against what
// matching every selector of the namespace gives, after each of a series of events in both orders (Deployments
// first, policies first), and what it says to enqueue.
func TestPolicyIndex(t *testing.T) {
	type step struct {
		name string
		do   func(x *policyIndex) []string // the Deployments a policy event says are affected, if any
		// requests: per Deployment, the policies to enqueue for its events; acting: the policy acting on it.
		requests map[string]string
		acting   map[string]string
		affected []string
		selected map[string]string // per policy, the Deployments it selects
	}
	web := builders.MakeDeployment("web", "ns").Label("team", "a").Obj()
	api := builders.MakeDeployment("api", "ns").Label("team", "a").Obj()
	db := builders.MakeDeployment("db", "ns").Label("team", "b").Obj()
	setDep := func(name string, lbls map[string]string) func(*policyIndex) []string {
		return func(x *policyIndex) []string { x.setDeployment("ns", name, lbls); return nil }
	}
	older := indexedPolicyObj("older", "a", 0)
	younger := indexedPolicyObj("aaa-younger", "a", time.Hour)
	steps := []step{
		{name: "two policies select team a, the older acts", do: func(x *policyIndex) []string {
			x.setPolicy(older)
			return x.setPolicy(younger)
		}, affected: []string{"api", "web"},
			requests: map[string]string{"web": "older,aaa-younger", "api": "older,aaa-younger", "db": ""},
			acting:   map[string]string{"web": "older", "api": "older", "db": ""},
			selected: map[string]string{"older": "api,web", "aaa-younger": "api,web"}},
		{name: "a status update of the same labels changes nothing", do: setDep("web", map[string]string{"team": "a"}),
			requests: map[string]string{"web": "older,aaa-younger"}, acting: map[string]string{"web": "older"}},
		{name: "web moves to team b: no policy selects it", do: setDep("web", map[string]string{"team": "b"}),
			requests: map[string]string{"web": "", "api": "older,aaa-younger"}, acting: map[string]string{"web": ""},
			selected: map[string]string{"older": "api", "aaa-younger": "api"}},
		{name: "the older policy lists web in its status: it still gets web's events", do: func(x *policyIndex) []string {
			p := older.DeepCopy()
			p.Status.Workloads = []tuningv1alpha1.WorkloadSummary{{Name: "api"}, {Name: "web"}}
			return x.setPolicy(p)
		}, requests: map[string]string{"web": "older", "api": "older,aaa-younger"}, acting: map[string]string{"web": ""}},
		{name: "the older policy's selector changes to team b (a new generation)", do: func(x *policyIndex) []string {
			p := indexedPolicyObj("older", "b", 0)
			p.Generation = 2
			p.Status.Workloads = []tuningv1alpha1.WorkloadSummary{{Name: "api"}}
			return x.setPolicy(p)
		}, affected: []string{"api", "db", "web"},
			requests: map[string]string{"web": "older", "api": "aaa-younger,older", "db": "older"},
			acting:   map[string]string{"web": "older", "api": "aaa-younger", "db": "older"},
			selected: map[string]string{"older": "db,web", "aaa-younger": "api"}},
		{name: "the younger policy is being deleted: it acts on nothing", do: func(x *policyIndex) []string {
			p := younger.DeepCopy()
			p.DeletionTimestamp = &metav1.Time{Time: indexEpoch.Add(2 * time.Hour)}
			return x.setPolicy(p)
		}, affected: []string{"api"}, requests: map[string]string{"api": "aaa-younger,older"}, acting: map[string]string{"api": ""}},
		{name: "the younger policy is gone", do: func(x *policyIndex) []string {
			return x.deletePolicy(types.NamespacedName{Namespace: "ns", Name: "aaa-younger"})
		}, affected: []string{"api"}, requests: map[string]string{"api": "older", "web": "older", "db": "older"},
			selected: map[string]string{"aaa-younger": ""}},
		{name: "db is deleted", do: func(x *policyIndex) []string { x.deleteDeployment("ns", "db"); return nil },
			requests: map[string]string{"db": ""}, acting: map[string]string{"db": ""}, selected: map[string]string{"older": "web"}},
	}
	for _, order := range []string{"Deployments first", "policies first"} {
		t.Run(order, func(t *testing.T) {
			x := &policyIndex{}
			deployments := func() {
				for _, d := range []string{"web", "api", "db"} {
					obj := map[string]*metav1.ObjectMeta{"web": &web.ObjectMeta, "api": &api.ObjectMeta, "db": &db.ObjectMeta}[d]
					x.setDeployment("ns", d, obj.Labels)
				}
			}
			if order == "Deployments first" {
				deployments()
			}
			for i, st := range steps {
				affected := st.do(x)
				if i == 0 && order == "policies first" {
					deployments()
				} else if len(st.affected) > 0 || affected != nil {
					if !slices.Equal(affected, st.affected) {
						t.Errorf("%s: affected = %v, want %v", st.name, affected, st.affected)
					}
				}
				for d, want := range st.requests {
					if got := names(x.requests("ns", d)); got != want {
						t.Errorf("%s: requests for %s = %q, want %q", st.name, d, got, want)
					}
				}
				for d, want := range st.acting {
					if got := x.acting("ns", d); got != want {
						t.Errorf("%s: acting on %s = %q, want %q", st.name, d, got, want)
					}
				}
				for p, want := range st.selected {
					got, err := x.selected("ns", p)
					if err != nil || strings.Join(got, ",") != want {
						t.Errorf("%s: %s selects %v (%v), want %q", st.name, p, got, err, want)
					}
				}
			}
		})
	}
}

// TestPolicyIndexAnInvalidSelectorSelectsNothing checks that a selector that cannot be parsed selects nothing and
// says why, and that an empty one selects nothing.
func TestPolicyIndexAnInvalidSelectorSelectsNothing(t *testing.T) {
	x := &policyIndex{}
	x.setDeployment("ns", "web", map[string]string{"team": "a"})
	bad := indexedPolicyObj("bad", "a", 0)
	bad.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "team", Operator: "Near"}}
	x.setPolicy(bad)
	if got, err := x.selected("ns", "bad"); err == nil || len(got) != 0 {
		t.Errorf("an invalid selector selects %v with error %v, want nothing and an error", got, err)
	}
	empty := indexedPolicyObj("empty", "a", 0)
	empty.Spec.Selector = metav1.LabelSelector{}
	x.setPolicy(empty)
	if got, err := x.selected("ns", "empty"); err != nil || len(got) != 0 {
		t.Errorf("an empty selector selects %v (%v), want nothing", got, err)
	}
	if got := names(x.requests("ns", "web")); got != "" {
		t.Errorf("web's events go to %q, want to no policy", got)
	}
}

// BenchmarkPodUpdateToPolicies measures mapping one pod update's Deployment to its policies at the bench-scale
// shape (a namespace of 1,000 Deployments under 100 policies): through the index, against matching every
// selector of the namespace as before it.
func BenchmarkPodUpdateToPolicies(b *testing.B) {
	x := &policyIndex{}
	var policies []*tuningv1alpha1.ProbePolicy
	for i := range 100 {
		p := indexedPolicyObj(fmt.Sprintf("p%03d", i), fmt.Sprintf("t%03d", i), time.Duration(i)*time.Second)
		policies = append(policies, p)
		x.setPolicy(p)
	}
	for i := range 1000 {
		x.setDeployment("ns", fmt.Sprintf("w%04d", i), map[string]string{"team": fmt.Sprintf("t%03d", i%100), "app": fmt.Sprintf("w%04d", i)})
	}
	b.Run("index", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if len(x.requests("ns", fmt.Sprintf("w%04d", i%1000))) != 1 {
				b.Fatal("not one policy")
			}
		}
	})
	var selectors []labels.Selector // parsed once, as the selector cache before the index did
	for _, p := range policies {
		s, _ := parseSelector(p)
		selectors = append(selectors, s)
	}
	b.Run("every selector", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			lbls := labels.Set{"team": fmt.Sprintf("t%03d", i%100), "app": "x"}
			n := 0
			for _, s := range selectors {
				if s.Matches(lbls) {
					n++
				}
			}
			if n != 1 {
				b.Fatal("not one policy")
			}
		}
	})
}
