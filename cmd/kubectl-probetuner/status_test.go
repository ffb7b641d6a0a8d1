package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/test/builders"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

// tunedPolicy is a policy whose status holds a crash-looping workload with a recommendation and a stable one.
func tunedPolicy() *tuningv1alpha1.ProbePolicy {
	p := builders.MakePolicy("shop-auto", "shop").Selector("tier", "web").Mode(tuningv1alpha1.ModeAuto).Obj()
	changed := at(3 * time.Minute)
	p.Status = tuningv1alpha1.ProbePolicyStatus{
		WorkloadCount: 2,
		Workloads: []tuningv1alpha1.WorkloadSummary{
			{Name: "cart", State: tuningv1alpha1.WorkloadRecommended, Message: "1 probe change(s) recommended; not applied because the workload is in its cooldown",
				LastChangeTime: &changed,
				Containers: []tuningv1alpha1.ContainerSummary{{Name: "app",
					Observed: tuningv1alpha1.ObservedSignals{LivenessKills: 12, RestartsLastHour: &tuningv1alpha1.RestartCounts{Liveness: 4, OOM: 1}, ReadyTransitionsPerHour: "0.5"},
					Current:  tuningv1alpha1.ProbeSet{Liveness: &tuningv1alpha1.ProbeValues{PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}},
					Recommended: &tuningv1alpha1.ProbeSet{
						Startup:  &tuningv1alpha1.ProbeValues{PeriodSeconds: 5, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 24},
						Liveness: &tuningv1alpha1.ProbeValues{PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}},
				}}},
			{Name: "web", State: tuningv1alpha1.WorkloadStable, Message: "The probes fit what was observed",
				Containers: []tuningv1alpha1.ContainerSummary{{Name: "nginx",
					Observed: tuningv1alpha1.ObservedSignals{RestartsLastHour: &tuningv1alpha1.RestartCounts{}},
					Current:  tuningv1alpha1.ProbeSet{Readiness: &tuningv1alpha1.ProbeValues{InitialDelaySeconds: 5, PeriodSeconds: 5, TimeoutSeconds: 2, SuccessThreshold: 2, FailureThreshold: 6}},
				}}},
			{Name: "legacy"},
		},
		Decisions: []tuningv1alpha1.Decision{
			{Time: at(3 * time.Minute), Workload: "cart", Container: "app", Probe: "startup", Field: "probe", To: "5sx24", Action: tuningv1alpha1.DecisionRecommended, Reason: "StartupKilledBeforeReady",
				Evidence: "4 of 4 starts were killed before they completed"},
			{Time: at(2 * time.Hour), Workload: "cart", Container: "app", Probe: "liveness", Field: "failureThreshold", From: "3", To: "6", Action: tuningv1alpha1.DecisionReverted, Reason: "VerificationFailed"},
		},
	}
	return p
}

func TestStatusText(t *testing.T) {
	cases := []struct {
		name       string
		policies   []tuningv1alpha1.ProbePolicy
		lastChange map[string]*apply.LastChange
		all        bool
		want       []string
		notWant    []string
	}{
		{
			name:     "a row per container, with restarts of the last hour, the recommendation and the last decision",
			policies: []tuningv1alpha1.ProbePolicy{*tunedPolicy()},
			want: []string{
				"POLICY     WORKLOAD  CONTAINER  STATE        RESTARTS (1H)      FLAPS/H  PROBES (CURRENT -> RECOMMENDED)              LAST DECISION                                               WHEN\n",
				"shop-auto  cart      app        Recommended  4 liveness, 1 oom  0.5      startup none -> 5sx24 t1; liveness 10sx3 t1  Recommended startup probe 5sx24 (StartupKilledBeforeReady)  3m ago\n",
				"shop-auto  web       nginx      Stable       0                  -        readiness 5sx6 t2 d5 s2                      -                                                           -\n",
				"shop-auto  legacy    -          -            -                  -        -                                            -                                                           -\n",
			},
			notWant: []string{"NAMESPACE"},
		},
		{
			name:       "a workload without a decision in status shows the Deployment's last-change record",
			policies:   []tuningv1alpha1.ProbePolicy{*tunedPolicy()},
			lastChange: map[string]*apply.LastChange{"shop/web": {Action: "Applied", Time: now.Add(-26 * time.Hour), Summary: []string{"nginx readiness timeoutSeconds 1 -> 2"}}},
			all:        true,
			want:       []string{"NAMESPACE  POLICY", "shop       shop-auto  web", "Applied nginx readiness timeoutSeconds 1 -> 2               26h ago"},
		},
		{
			name: "no policy", want: []string{"No workload is selected by a ProbePolicy here."},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := renderStatusText(&out, statusRows(tc.policies, tc.lastChange), tc.all, now); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("output has %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestStatusJSON(t *testing.T) {
	var out bytes.Buffer
	if err := renderStatusJSON(&out, statusRows([]tuningv1alpha1.ProbePolicy{*tunedPolicy()}, nil)); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"workload": "cart"`, `"restartsLastHour": {`, `"liveness": 4`, `"lastDecisionTime": "2026-06-01T11:57:00Z"`, `"restartsLastHour": null`} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("JSON lacks %s:\n%s", w, out.String())
		}
	}
	out.Reset()
	if err := renderStatusJSON(&out, nil); err != nil || strings.TrimSpace(out.String()) != `{
  "workloads": []
}` {
		t.Errorf("no rows: %q, %v", out.String(), err)
	}
}

func TestExplainText(t *testing.T) {
	d := builders.MakeDeployment("cart", "shop").Label("tier", "web").
		Annotation(apply.AnnotationLastChange, `{"id":"d-7","time":"2026-06-01T09:00:00Z","policy":"shop-auto","action":"Applied","summary":["app liveness failureThreshold 3 -> 6"]}`).
		Annotation(apply.AnnotationPrevious, `{"app":{}}`).Obj()
	older := tunedPolicy()
	newer := builders.MakePolicy("shop-other", "shop").Selector("tier", "web").Obj()
	events := probeTunerEvents([]corev1.Event{
		{Type: "Normal", Reason: "ProbeRecommended", Message: "ProbePolicy shop-auto: startup probe added (not applied)", ReportingController: "probe-tuner", EventTime: metav1.NewMicroTime(now.Add(-3 * time.Minute))},
		{Type: "Warning", Reason: "AdjustmentReverted", Message: "ProbePolicy shop-auto: reverted", ReportingController: "probe-tuner", EventTime: metav1.NewMicroTime(now.Add(-2 * time.Hour))},
		{Type: "Normal", Reason: "ScalingReplicaSet", Message: "Scaled up", Source: corev1.EventSource{Component: "deployment-controller"}, LastTimestamp: at(time.Minute)},
	})
	var out bytes.Buffer
	if err := renderExplain(&out, explanation{Deployment: d, Acting: older, Others: []tuningv1alpha1.ProbePolicy{*newer}, Events: events}, now); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	wantInOrder := []string{
		"Deployment shop/cart",
		"Policy:     shop-auto (mode Auto)",
		"Also:       shop-other selects it too and gives way",
		"State:      Recommended: 1 probe change(s) recommended; not applied because the workload is in its cooldown",
		"Changed:    3m ago",
		"Next:       recommended, app: startup none -> 5sx24 t1; liveness 10sx3 t1",
		"app: restarts in the last hour 4 liveness, 1 oom; in all 12 liveness",
		"probetuner.io/last-change: Applied 3h ago by shop-auto, decision d-7: app liveness failureThreshold 3 -> 6",
		"probetuner.io/previous-probes: 10 bytes",
		"Decisions (newest first):",
		"3m ago   app Recommended startup probe 5sx24 (StartupKilledBeforeReady)",
		"evidence: 4 of 4 starts were killed before they completed",
		"2h ago   app Reverted liveness failureThreshold 3->6 (VerificationFailed)",
		"Events (newest first):",
		"3m ago   Normal ProbeRecommended",
		"2h ago   Warning AdjustmentReverted",
	}
	rest := text
	for _, w := range wantInOrder {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q (after the lines before it):\n%s", w, text)
		}
		rest = rest[i+len(w):]
	}
	if strings.Contains(text, "ScalingReplicaSet") {
		t.Errorf("another controller's Event is shown:\n%s", text)
	}
}

func TestSelectingPoliciesOldestFirst(t *testing.T) {
	d := builders.MakeDeployment("cart", "shop").Label("tier", "web").Obj()
	a := builders.MakePolicy("b-older", "shop").Selector("tier", "web").Obj()
	a.CreationTimestamp = at(time.Hour)
	b := builders.MakePolicy("a-newer", "shop").Selector("tier", "web").Obj()
	b.CreationTimestamp = at(time.Minute)
	c := builders.MakePolicy("other", "shop").Selector("tier", "db").Obj()
	got := selectingPolicies(d, []tuningv1alpha1.ProbePolicy{*b, *c, *a})
	if len(got) != 2 || got[0].Name != "b-older" || got[1].Name != "a-newer" {
		t.Errorf("selecting policies = %v, want b-older then a-newer", names(got))
	}
}

func names(ps []tuningv1alpha1.ProbePolicy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestParseWorkload(t *testing.T) {
	for in, want := range map[string]string{"deploy/cart": "cart", "deployment/cart": "cart", "deployments.apps/cart": "cart", "cart": "cart", "sts/db": "", "deploy/": "", "deploy/a/b": ""} {
		got, err := parseWorkload(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("parseWorkload(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestAgo(t *testing.T) {
	for d, want := range map[time.Duration]string{5 * time.Second: "5s ago", 3 * time.Minute: "3m ago", 5 * time.Hour: "5h ago", 72 * time.Hour: "3d ago", -time.Minute: "in 1m"} {
		tm := now.Add(-d)
		if got := ago(&tm, now); got != want {
			t.Errorf("ago(%s) = %q, want %q", d, got, want)
		}
	}
	if ago(nil, now) != "-" {
		t.Error("unknown time is not -")
	}
}
