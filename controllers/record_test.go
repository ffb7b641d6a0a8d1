package controllers

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// TestReconcileLogsEachDecision checks that every decision gets one structured line naming the policy, the
// Deployment and what was decided.
func TestReconcileLogsEachDecision(t *testing.T) {
	cases := []struct {
		name string
		edit func(*testing.T, *fakeWorld)
		want map[string]int // message -> lines
	}{
		{name: "an applied change", want: map[string]int{"Probe change applied": 1}},
		{
			name: "a hand edit respected, then the change applied",
			edit: func(t *testing.T, w *fakeWorld) {
				raw, err := json.Marshal(apply.Owned{"app": {probes.Liveness: {Fields: map[probes.Field]int32{"timeoutSeconds": 2}}}})
				if err != nil {
					t.Fatal(err)
				}
				w.deployment.Annotations[apply.AnnotationManaged] = string(raw)
			},
			want: map[string]int{"Manual override respected": 1, "Probe change applied": 1},
		},
		{
			name: "an unreadable last change logged as an error",
			edit: func(_ *testing.T, w *fakeWorld) { w.deployment.Annotations[apply.AnnotationLastChange] = "{" },
			want: map[string]int{"Annotation rejected": 1, "Probe change applied": 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := makeFakeWorld(t)
			if tc.edit != nil {
				tc.edit(t, w)
			}
			var n calls
			r, _ := w.reconciler(t, countingFuncs(&n, nil, nil))
			var lines []map[string]any
			log := funcr.NewJSON(func(obj string) {
				var line map[string]any
				if err := json.Unmarshal([]byte(obj), &line); err != nil {
					t.Errorf("log line %q is not JSON: %v", obj, err)
				}
				lines = append(lines, line)
			}, funcr.Options{})
			ctx := logr.NewContext(context.Background(), log)
			if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "shop", Name: "caches"}}); err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, l := range lines {
				msg, _ := l["msg"].(string)
				got[msg]++
				if pol, ok := l["probePolicy"].(map[string]any); !ok || pol["name"] != "caches" || pol["namespace"] != "shop" {
					t.Errorf("line %v: want the policy as a namespace/name object", l)
				}
				if dep, ok := l["deployment"].(map[string]any); !ok || dep["name"] != "cache" {
					t.Errorf("line %v: want the Deployment", l)
				}
				if msg == "Probe change applied" {
					for _, k := range []string{"decision", "action", "container", "probe", "field", "from", "to", "reason", "evidence"} {
						if _, ok := l[k]; !ok {
							t.Errorf("line %v lacks %q", l, k)
						}
					}
					if l["decision"] == "" || l["container"] != "app" || l["probe"] != "startup" || l["to"] != "added" {
						t.Errorf("line %v: want the startup probe added, with its decision id", l)
					}
				}
			}
			for msg, want := range tc.want {
				if got[msg] != want {
					t.Errorf("%d lines %q, want %d (all: %v)", got[msg], msg, want, got)
				}
			}
		})
	}
}
