package status

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// conditionReason is the API server's validation pattern for metav1.Condition.Reason.
var conditionReason = regexp.MustCompile(`^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`)

var allConditions = []string{
	tuningv1alpha1.ConditionReady,
	tuningv1alpha1.ConditionConflict,
	tuningv1alpha1.ConditionAttentionRequired,
	tuningv1alpha1.ConditionCheckpointWritten,
}

// decision is a complete decision record; mutate the copy for a variant.
func decision(workload string, at time.Time) tuningv1alpha1.Decision {
	return tuningv1alpha1.Decision{
		Time: metav1.NewTime(at), Workload: workload, Container: "app", Probe: "startup",
		Field: "failureThreshold", From: "3", To: "6", Action: "Applied", Reason: recommend.ReasonStartupKilled,
	}
}

func withID(d tuningv1alpha1.Decision, id string) tuningv1alpha1.Decision {
	d.ID = id
	return d
}

// decisions returns n distinct decisions for workload, one second apart starting at start, newest first.
func decisions(workload string, n int, start time.Time) []tuningv1alpha1.Decision {
	out := make([]tuningv1alpha1.Decision, n)
	for i := range out {
		out[i] = withID(decision(workload, start.Add(-time.Duration(i)*time.Second)), fmt.Sprintf("%s-%02d", workload, i))
	}
	return out
}

func workload(name string) Workload {
	return Workload{Name: name, State: StateStable, Message: "m-" + name}
}

func conflicting(name, other string) Workload {
	w := workload(name)
	w.State, w.ConflictWith = StateConflict, other
	return w
}

func withFindings(w Workload, fs ...recommend.Finding) Workload {
	w.Findings = append(w.Findings, fs...)
	return w
}

func warning(reason, msg string) recommend.Finding {
	return recommend.Finding{Container: "app", Severity: recommend.Warning, Reason: reason, Message: msg}
}

func info(reason, msg string) recommend.Finding {
	return recommend.Finding{Container: "app", Severity: recommend.Info, Reason: reason, Message: msg}
}

func mustCondition(t *testing.T, st tuningv1alpha1.ProbePolicyStatus, typ string) metav1.Condition {
	t.Helper()
	c := meta.FindStatusCondition(st.Conditions, typ)
	if c == nil {
		t.Fatalf("condition %s missing; conditions: %+v", typ, st.Conditions)
	}
	return *c
}

func TestComputeObservedGenerationOnEveryCondition(t *testing.T) {
	// Conditions from an older generation: every one must be brought to the new generation, not only new ones.
	stale := []metav1.Condition{
		{Type: tuningv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Observing", ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(t0)},
		{Type: tuningv1alpha1.ConditionConflict, Status: metav1.ConditionFalse, Reason: "NoConflict", ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(t0)},
		{Type: tuningv1alpha1.ConditionAttentionRequired, Status: metav1.ConditionFalse, Reason: "NothingToReport", ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(t0)},
	}
	tests := []struct {
		name string
		in   Input
	}{
		{"invalid spec, no previous conditions", Input{Generation: 7, Mode: tuningv1alpha1.ModeAuto, SpecError: errors.New("bad"), Workloads: []Workload{workload("a")}}},
		{"mode off, stale conditions", Input{Previous: tuningv1alpha1.ProbePolicyStatus{ObservedGeneration: 1, Conditions: stale}, Generation: 2, Mode: tuningv1alpha1.ModeOff, Workloads: []Workload{workload("a")}}},
		{"no workloads, stale conditions", Input{Previous: tuningv1alpha1.ProbePolicyStatus{ObservedGeneration: 1, Conditions: stale}, Generation: 3, Mode: tuningv1alpha1.ModeAuto}},
		{"conflict and warning, stale conditions", Input{Previous: tuningv1alpha1.ProbePolicyStatus{ObservedGeneration: 1, Conditions: stale}, Generation: 42, Mode: tuningv1alpha1.ModeRecommend,
			Workloads: []Workload{conflicting("a", "older"), withFindings(workload("b"), warning(recommend.ReasonCorrelatedLiveness, "shared dependency"))}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := Compute(tc.in)
			if st.ObservedGeneration != tc.in.Generation {
				t.Errorf("observedGeneration = %d, want %d", st.ObservedGeneration, tc.in.Generation)
			}
			if len(st.Conditions) != len(allConditions) {
				t.Errorf("got %d conditions, want %d: %+v", len(st.Conditions), len(allConditions), st.Conditions)
			}
			for _, typ := range allConditions {
				c := mustCondition(t, st, typ)
				if c.ObservedGeneration != tc.in.Generation {
					t.Errorf("%s observedGeneration = %d, want %d", typ, c.ObservedGeneration, tc.in.Generation)
				}
				if !conditionReason.MatchString(c.Reason) {
					t.Errorf("%s reason %q is not a valid condition reason", typ, c.Reason)
				}
				if c.LastTransitionTime.IsZero() {
					t.Errorf("%s has no lastTransitionTime", typ)
				}
			}
		})
	}
}

func TestComputeReadyCondition(t *testing.T) {
	two := []Workload{workload("a"), workload("b")}
	tests := []struct {
		name        string
		in          Input
		status      metav1.ConditionStatus
		reason      string
		msgContains []string
	}{
		{"invalid spec", Input{Mode: tuningv1alpha1.ModeAuto, SpecError: errors.New(`maxFailureThreshold 2 is below minFailureThreshold 3`), Workloads: two},
			metav1.ConditionFalse, "InvalidSpec", []string{"maxFailureThreshold 2 is below minFailureThreshold 3"}},
		{"invalid spec wins over mode off", Input{Mode: tuningv1alpha1.ModeOff, SpecError: errors.New("boom")},
			metav1.ConditionFalse, "InvalidSpec", []string{"boom"}},
		{"mode off", Input{Mode: tuningv1alpha1.ModeOff, Workloads: two},
			metav1.ConditionTrue, "Off", []string{"Off", "2 selected workloads"}},
		{"mode off wins over no workloads", Input{Mode: tuningv1alpha1.ModeOff},
			metav1.ConditionTrue, "Off", []string{"0 selected workloads"}},
		{"no workloads", Input{Mode: tuningv1alpha1.ModeAuto},
			metav1.ConditionTrue, "NoWorkloads", []string{"matches no Deployment"}},
		{"observing in recommend mode", Input{Mode: tuningv1alpha1.ModeRecommend, Workloads: two},
			metav1.ConditionTrue, "Observing", []string{"Observing 2 workloads", "Recommend mode"}},
		{"observing in auto mode", Input{Mode: tuningv1alpha1.ModeAuto, Workloads: []Workload{workload("a")}},
			metav1.ConditionTrue, "Observing", []string{"Observing 1 workloads", "Auto mode"}},
		{"valid again after an invalid spec", Input{Mode: tuningv1alpha1.ModeAuto, Workloads: two, Previous: tuningv1alpha1.ProbePolicyStatus{Conditions: []metav1.Condition{
			{Type: tuningv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "InvalidSpec", Message: "old error", LastTransitionTime: metav1.NewTime(t0)}}}},
			metav1.ConditionTrue, "Observing", []string{"Observing 2 workloads"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Generation = 5
			c := mustCondition(t, Compute(tc.in), tuningv1alpha1.ConditionReady)
			if c.Status != tc.status || c.Reason != tc.reason {
				t.Errorf("Ready = %s/%s, want %s/%s (message %q)", c.Status, c.Reason, tc.status, tc.reason, c.Message)
			}
			for _, s := range tc.msgContains {
				if !strings.Contains(c.Message, s) {
					t.Errorf("Ready message %q does not contain %q", c.Message, s)
				}
			}
		})
	}
}

func TestComputeConditionKeepsTransitionTimeWhileStatusHolds(t *testing.T) {
	prev := tuningv1alpha1.ProbePolicyStatus{Conditions: []metav1.Condition{
		{Type: tuningv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "NoWorkloads", ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(t0)},
	}}
	st := Compute(Input{Previous: prev, Generation: 2, Mode: tuningv1alpha1.ModeAuto, Workloads: []Workload{workload("a")}})
	c := mustCondition(t, st, tuningv1alpha1.ConditionReady)
	if c.Reason != "Observing" {
		t.Fatalf("Ready reason = %q, want Observing", c.Reason)
	}
	if !c.LastTransitionTime.Equal(&metav1.Time{Time: t0}) {
		t.Errorf("Ready stayed True but lastTransitionTime moved from %v to %v", t0, c.LastTransitionTime)
	}
}

func TestComputeConflictCondition(t *testing.T) {
	tests := []struct {
		name        string
		workloads   []Workload
		previous    []metav1.Condition
		status      metav1.ConditionStatus
		reason      string
		msgContains []string
	}{
		{name: "no workloads", status: metav1.ConditionFalse, reason: "NoConflict"},
		{name: "no conflict", workloads: []Workload{workload("a"), workload("b")}, status: metav1.ConditionFalse, reason: "NoConflict"},
		{name: "one conflict", workloads: []Workload{workload("a"), conflicting("web", "team-policy")},
			status: metav1.ConditionTrue, reason: "SelectedByAnotherPolicy", msgContains: []string{"web (tuned by team-policy)"}},
		{name: "two conflicts name both", workloads: []Workload{conflicting("web", "p1"), workload("a"), conflicting("api", "p2")},
			status: metav1.ConditionTrue, reason: "SelectedByAnotherPolicy", msgContains: []string{"web (tuned by p1)", "api (tuned by p2)"}},
		{name: "conflict resolved", workloads: []Workload{workload("web")},
			previous: []metav1.Condition{{Type: tuningv1alpha1.ConditionConflict, Status: metav1.ConditionTrue, Reason: "SelectedByAnotherPolicy", Message: "web (tuned by p1)", LastTransitionTime: metav1.NewTime(t0)}},
			status:   metav1.ConditionFalse, reason: "NoConflict"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := Compute(Input{Previous: tuningv1alpha1.ProbePolicyStatus{Conditions: tc.previous}, Generation: 3, Mode: tuningv1alpha1.ModeAuto, Workloads: tc.workloads})
			c := mustCondition(t, st, tuningv1alpha1.ConditionConflict)
			if c.Status != tc.status || c.Reason != tc.reason {
				t.Errorf("Conflict = %s/%s, want %s/%s (message %q)", c.Status, c.Reason, tc.status, tc.reason, c.Message)
			}
			for _, s := range tc.msgContains {
				if !strings.Contains(c.Message, s) {
					t.Errorf("Conflict message %q does not contain %q", c.Message, s)
				}
			}
			if tc.status == metav1.ConditionFalse && strings.Contains(c.Message, "tuned by") {
				t.Errorf("Conflict is False but the message names a conflict: %q", c.Message)
			}
		})
	}
}

func TestComputeAttentionRequiredCondition(t *testing.T) {
	tests := []struct {
		name        string
		workloads   []Workload
		status      metav1.ConditionStatus
		reason      string
		msgContains []string
		msgExcludes []string
	}{
		{name: "no findings", workloads: []Workload{workload("a")}, status: metav1.ConditionFalse, reason: "NothingToReport"},
		{name: "info findings only", workloads: []Workload{withFindings(workload("a"), info(recommend.ReasonNotAProbeProblem, "oom kills"), info(recommend.ReasonNoProbes, "no probes"))},
			status: metav1.ConditionFalse, reason: "NothingToReport", msgExcludes: []string{"oom kills", "no probes"}},
		{name: "one warning", workloads: []Workload{workload("a"), withFindings(workload("web"), warning(recommend.ReasonCorrelatedLiveness, "liveness checks a shared dependency"))},
			status: metav1.ConditionTrue, reason: recommend.ReasonCorrelatedLiveness, msgContains: []string{"web: liveness checks a shared dependency"}},
		{name: "warning beside info reports only the warning", workloads: []Workload{withFindings(workload("web"), info(recommend.ReasonNotAProbeProblem, "oom kills"), warning(recommend.ReasonStuckNotReady, "pods stuck"))},
			status: metav1.ConditionTrue, reason: recommend.ReasonStuckNotReady, msgContains: []string{"web: pods stuck"}, msgExcludes: []string{"oom kills"}},
		{name: "two reasons are sorted and joined", workloads: []Workload{
			withFindings(workload("web"), warning(recommend.ReasonStuckNotReady, "pods stuck")),
			withFindings(workload("api"), warning(recommend.ReasonCorrelatedLiveness, "shared dependency"))},
			status: metav1.ConditionTrue, reason: recommend.ReasonCorrelatedLiveness + "And" + recommend.ReasonStuckNotReady,
			msgContains: []string{"web: pods stuck", "api: shared dependency"}},
		{name: "a repeated reason appears once", workloads: []Workload{
			withFindings(workload("web"), warning(recommend.ReasonStuckNotReady, "web stuck")),
			withFindings(workload("api"), warning(recommend.ReasonStuckNotReady, "api stuck"))},
			status: metav1.ConditionTrue, reason: recommend.ReasonStuckNotReady, msgContains: []string{"web: web stuck", "api: api stuck"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := Compute(Input{Generation: 4, Mode: tuningv1alpha1.ModeAuto, Workloads: tc.workloads})
			c := mustCondition(t, st, tuningv1alpha1.ConditionAttentionRequired)
			if c.Status != tc.status || c.Reason != tc.reason {
				t.Errorf("AttentionRequired = %s/%s, want %s/%s (message %q)", c.Status, c.Reason, tc.status, tc.reason, c.Message)
			}
			if !conditionReason.MatchString(c.Reason) {
				t.Errorf("reason %q is not a valid condition reason", c.Reason)
			}
			for _, s := range tc.msgContains {
				if !strings.Contains(c.Message, s) {
					t.Errorf("message %q does not contain %q", c.Message, s)
				}
			}
			for _, s := range tc.msgExcludes {
				if strings.Contains(c.Message, s) {
					t.Errorf("message %q contains %q", c.Message, s)
				}
			}
		})
	}
}

func TestComputeAttentionMessageBounded(t *testing.T) {
	long := strings.Repeat("x", 1000)
	var ws []Workload
	for i := range 50 {
		ws = append(ws, withFindings(workload(fmt.Sprintf("w%02d", i)), warning(recommend.ReasonStuckNotReady, long)))
	}
	c := mustCondition(t, Compute(Input{Mode: tuningv1alpha1.ModeAuto, Workloads: ws}), tuningv1alpha1.ConditionAttentionRequired)
	if c.Status != metav1.ConditionTrue {
		t.Fatalf("AttentionRequired = %s, want True", c.Status)
	}
	if n := len(c.Message); n == 0 || n > 32768 {
		t.Errorf("message length %d, want 1..32768 (the API limit)", n)
	}
}

func TestComputeConflictMessageBoundedOnARuneBoundary(t *testing.T) {
	var ws []Workload
	for i := range 500 {
		ws = append(ws, conflicting(fmt.Sprintf("wörkload-%03d-%s", i, strings.Repeat("é", 40)), "older-policy"))
	}
	c := mustCondition(t, Compute(Input{Mode: tuningv1alpha1.ModeAuto, Workloads: ws}), tuningv1alpha1.ConditionConflict)
	if n := len(c.Message); n == 0 || n > 32768 || !utf8.ValidString(c.Message) || !strings.HasSuffix(c.Message, " ...") {
		t.Errorf("message length %d, valid UTF-8 %v: want a marked cut within the API limit", n, utf8.ValidString(c.Message))
	}
}

func TestComputeTransitionTimeIsTheReconcileClock(t *testing.T) {
	now := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	st := Compute(Input{Mode: tuningv1alpha1.ModeAuto, Workloads: []Workload{workload("web")}, Now: now})
	for _, c := range st.Conditions {
		if !c.LastTransitionTime.Time.Equal(now) {
			t.Errorf("%s transition time %v, want the injected clock's %v", c.Type, c.LastTransitionTime, now)
		}
	}
}

func TestComputeChangesApplied(t *testing.T) {
	// The count is the workloads' own records, whatever the stored status says (a hand edit does not survive).
	tests := []struct {
		previous int32
		records  int64
		want     int32
	}{
		{0, 0, 0},
		{0, 2, 2},
		{5, 0, 0},
		{5, 3, 3},
		{-5, 2, 2},
		{7, 1 << 40, math.MaxInt32},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d/%d", tc.previous, tc.records), func(t *testing.T) {
			st := Compute(Input{Previous: tuningv1alpha1.ProbePolicyStatus{ChangesApplied: tc.previous}, Mode: tuningv1alpha1.ModeAuto, ChangesApplied: tc.records})
			if st.ChangesApplied != tc.want {
				t.Errorf("changesApplied = %d, want %d", st.ChangesApplied, tc.want)
			}
		})
	}
}

func TestComputeWorkloadsSortedAndCounted(t *testing.T) {
	previous := tuningv1alpha1.ProbePolicyStatus{WorkloadCount: 4, Workloads: []tuningv1alpha1.WorkloadSummary{{Name: "gone", State: StateStable}}}
	tests := []struct {
		name string
		in   []Workload
		want []string
	}{
		{"none", nil, nil},
		{"one", []Workload{workload("web")}, []string{"web"}},
		{"unsorted", []Workload{workload("web"), workload("api"), conflicting("cache", "p"), workload("batch")}, []string{"api", "batch", "cache", "web"}},
		{"already sorted", []Workload{workload("a"), workload("b")}, []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := Compute(Input{Previous: previous, Mode: tuningv1alpha1.ModeAuto, Workloads: tc.in})
			if int(st.WorkloadCount) != len(tc.in) {
				t.Errorf("workloadCount = %d, want %d", st.WorkloadCount, len(tc.in))
			}
			var got []string
			for _, w := range st.Workloads {
				got = append(got, w.Name)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("workloads = %v, want %v", got, tc.want)
			}
			byName := map[string]Workload{}
			for _, w := range tc.in {
				byName[w.Name] = w
			}
			for _, w := range st.Workloads {
				if in := byName[w.Name]; w.State != in.State || w.Message != in.Message {
					t.Errorf("workload %s = %s/%q, want %s/%q", w.Name, w.State, w.Message, in.State, in.Message)
				}
			}
		})
	}
}

func TestComputeLastDecision(t *testing.T) {
	added := decision("web", t0.Add(time.Minute))
	added.Probe, added.Field, added.From, added.To, added.Action = "startup", "probe", "absent", "added", "Recommended"
	older := decision("api", t0.Add(-time.Hour))
	newer := withID(decision("web", t0), "abc")

	tests := []struct {
		name     string
		previous []tuningv1alpha1.Decision
		newer    []tuningv1alpha1.Decision
		want     string
		wantTime *time.Time
		count    int // decisions kept, when not zero
	}{
		{name: "no decisions", want: ""},
		{name: "previous only", previous: []tuningv1alpha1.Decision{older}, want: "Applied api/app startup failureThreshold 3->6", wantTime: &older.Time.Time},
		{name: "new decision replaces previous", previous: []tuningv1alpha1.Decision{older}, newer: []tuningv1alpha1.Decision{newer},
			want: "Applied web/app startup failureThreshold 3->6", wantTime: &newer.Time.Time},
		{name: "whole probe", previous: []tuningv1alpha1.Decision{older, newer}, newer: []tuningv1alpha1.Decision{added},
			want: "Recommended web/app startup probe added", wantTime: &added.Time.Time},
		{name: "re-recorded decision with an id is listed once", previous: []tuningv1alpha1.Decision{newer, older}, newer: []tuningv1alpha1.Decision{withID(decision("web", t0.Add(-time.Hour)), "abc")},
			want: "Applied web/app startup failureThreshold 3->6", count: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := Compute(Input{History: tc.previous, Mode: tuningv1alpha1.ModeAuto, NewDecision: tc.newer, Now: t0.Add(time.Hour)})
			if tc.count != 0 && len(st.Decisions) != tc.count {
				t.Errorf("kept %d decisions, want %d: %s", len(st.Decisions), tc.count, describe(st.Decisions))
			}
			if st.LastDecision != tc.want {
				t.Errorf("lastDecision = %q, want %q", st.LastDecision, tc.want)
			}
			switch {
			case tc.want == "" && st.LastDecisionTime != nil:
				t.Errorf("lastDecisionTime = %v, want nil", st.LastDecisionTime)
			case tc.wantTime != nil && (st.LastDecisionTime == nil || !st.LastDecisionTime.Time.Equal(*tc.wantTime)):
				t.Errorf("lastDecisionTime = %v, want %v", st.LastDecisionTime, *tc.wantTime)
			}
			if len(st.Decisions) > 0 && st.LastDecisionTime != nil && !st.LastDecisionTime.Equal(&st.Decisions[0].Time) {
				t.Errorf("lastDecisionTime %v is not the first decision's time %v", st.LastDecisionTime, st.Decisions[0].Time)
			}
		})
	}
}

// A status edited by hand (kubectl patch --subresource=status) is not shown back as probe-tuner's: the decisions
// come from the history probe-tuner keeps, lastDecision from them, changesApplied from the workloads' records,
// and a condition probe-tuner does not set (or a repeat of one it does) is dropped, while the transition time of
// an unchanged condition is kept.
func TestComputeIgnoresAHandEditedStatus(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	readySince := metav1.NewTime(t0.Add(-24 * time.Hour))
	var bogus []tuningv1alpha1.Decision
	for i := range MaxDecisions {
		d := decision(fmt.Sprintf("bogus-%d", i), t0.Add(time.Duration(i)*time.Minute))
		bogus = append(bogus, d)
	}
	edited := tuningv1alpha1.ProbePolicyStatus{ChangesApplied: -5, Decisions: bogus, LastDecision: "Applied bogus", Conditions: []metav1.Condition{
		{Type: tuningv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Observing", LastTransitionTime: readySince},
		{Type: "Hacked", Status: metav1.ConditionTrue, Reason: "ByHand", LastTransitionTime: readySince},
		{Type: tuningv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "Repeat", LastTransitionTime: readySince},
	}}
	real := decision("web", t0.Add(-time.Hour))
	st := Compute(Input{Previous: edited, Mode: tuningv1alpha1.ModeAuto, Workloads: []Workload{workload("web")}, History: []tuningv1alpha1.Decision{real},
		ChangesApplied: 1, Now: t0})
	if len(st.Decisions) != 1 || st.Decisions[0].Workload != "web" {
		t.Errorf("decisions %+v: want only the one in the history", st.Decisions)
	}
	if !strings.HasPrefix(st.LastDecision, "Applied web/") || st.ChangesApplied != 1 {
		t.Errorf("lastDecision %q, changesApplied %d: want them from the history and the records", st.LastDecision, st.ChangesApplied)
	}
	var types []string
	for _, c := range st.Conditions {
		types = append(types, c.Type)
	}
	if slices.Contains(types, "Hacked") || len(types) != len(conditionTypes) {
		t.Errorf("conditions %v: want exactly %v", types, conditionTypes)
	}
	if c := meta.FindStatusCondition(st.Conditions, tuningv1alpha1.ConditionReady); c == nil || !c.LastTransitionTime.Equal(&readySince) {
		t.Errorf("Ready %+v: want its transition time kept (%v)", c, readySince)
	}
}

func TestComputeDoesNotModifyPrevious(t *testing.T) {
	prev := tuningv1alpha1.ProbePolicyStatus{
		ObservedGeneration: 1, ChangesApplied: 2,
		Conditions: []metav1.Condition{{Type: tuningv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "InvalidSpec", Message: "old", ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(t0)}},
		Decisions:  []tuningv1alpha1.Decision{decision("api", t0)},
		Workloads:  []tuningv1alpha1.WorkloadSummary{{Name: "api"}},
	}
	keep := *prev.DeepCopy()
	_ = Compute(Input{Previous: prev, Generation: 2, Mode: tuningv1alpha1.ModeAuto, Workloads: []Workload{workload("web")},
		NewDecision: []tuningv1alpha1.Decision{decision("web", t0.Add(time.Second))}, ChangesApplied: 1})
	if fmt.Sprintf("%+v", prev) != fmt.Sprintf("%+v", keep) {
		t.Errorf("Compute modified Input.Previous:\n got %+v\nwant %+v", prev, keep)
	}
}

func TestComputeWorkloadSummary(t *testing.T) {
	changed := t0.Add(-time.Hour)
	live := &corev1.Probe{PeriodSeconds: 5, FailureThreshold: 4}
	ready := &corev1.Probe{InitialDelaySeconds: 2} // defaults fill the rest
	recStartup := &corev1.Probe{PeriodSeconds: 2, FailureThreshold: 30}
	st := Compute(Input{Mode: tuningv1alpha1.ModeRecommend, Workloads: []Workload{{
		Name: "web", State: StateRecommended, Message: "msg", LastChangeTime: &changed,
		Containers: []Container{
			{Name: "app", Current: probes.Set{Liveness: live, Readiness: ready},
				Recommended: &probes.Set{Startup: recStartup, Liveness: live, Readiness: ready}},
			{Name: "sidecar"},
		},
	}}})
	if len(st.Workloads) != 1 {
		t.Fatalf("got %d workloads", len(st.Workloads))
	}
	w := st.Workloads[0]
	if w.LastChangeTime == nil || !w.LastChangeTime.Time.Equal(changed) {
		t.Errorf("lastChangeTime = %v, want %v", w.LastChangeTime, changed)
	}
	if len(w.Containers) != 2 || w.Containers[0].Name != "app" || w.Containers[1].Name != "sidecar" {
		t.Fatalf("containers = %+v", w.Containers)
	}
	app := w.Containers[0]
	if app.Current.Startup != nil {
		t.Errorf("current startup = %+v, want none", app.Current.Startup)
	}
	if got := app.Current.Liveness; got == nil || got.PeriodSeconds != 5 || got.FailureThreshold != 4 || got.TimeoutSeconds != 1 || got.SuccessThreshold != 1 {
		t.Errorf("current liveness = %+v", got)
	}
	if got := app.Current.Readiness; got == nil || got.InitialDelaySeconds != 2 || got.PeriodSeconds != 10 || got.FailureThreshold != 3 {
		t.Errorf("current readiness = %+v, want defaults filled in", got)
	}
	if app.Recommended == nil || app.Recommended.Startup == nil || app.Recommended.Startup.FailureThreshold != 30 || app.Recommended.Startup.PeriodSeconds != 2 {
		t.Errorf("recommended = %+v", app.Recommended)
	}
	if sc := w.Containers[1]; sc.Recommended != nil || sc.Current.Liveness != nil || sc.Current.Readiness != nil || sc.Current.Startup != nil {
		t.Errorf("sidecar = %+v, want no probes and no recommendation", sc)
	}

	st = Compute(Input{Mode: tuningv1alpha1.ModeAuto, Workloads: []Workload{workload("plain")}})
	if st.Workloads[0].LastChangeTime != nil {
		t.Errorf("lastChangeTime = %v, want nil", st.Workloads[0].LastChangeTime)
	}
}

func TestObserved(t *testing.T) {
	starts := &observe.Histogram{}
	for range 10 {
		starts.Add(10*time.Second, t0, time.Hour)
	}
	dur := func(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
	tests := []struct {
		name string
		sig  observe.Signals
		want tuningv1alpha1.ObservedSignals
	}{
		{name: "nothing observed", sig: observe.Signals{}, want: tuningv1alpha1.ObservedSignals{}},
		{name: "empty histogram", sig: observe.Signals{Startup: &observe.Histogram{}}, want: tuningv1alpha1.ObservedSignals{}},
		{name: "restarts by cause", sig: observe.Signals{TotalRestarts: map[observe.Cause]int{
			observe.CauseLiveness: 3, observe.CauseStartup: 2, observe.CauseOOM: 1, observe.CauseError: 4, observe.CauseCompleted: 9}},
			want: tuningv1alpha1.ObservedSignals{LivenessKills: 3, StartupKills: 2, OOMKills: 1, Crashes: 4}},
		{name: "restarts of the last hour by cause", sig: observe.Signals{RecentRestarts: map[observe.Cause]int{
			observe.CauseLiveness: 2, observe.CauseStartup: 5, observe.CauseOOM: 1, observe.CauseError: 3, observe.CauseCompleted: 4}},
			want: tuningv1alpha1.ObservedSignals{RestartsLastHour: &tuningv1alpha1.RestartCounts{Liveness: 2, Startup: 5, OOM: 1, Error: 3, Completed: 4}}},
		{name: "no restart in the last hour is zero, not unknown", sig: observe.Signals{RecentRestarts: map[observe.Cause]int{}},
			want: tuningv1alpha1.ObservedSignals{RestartsLastHour: &tuningv1alpha1.RestartCounts{}}},
		{name: "startup quantiles", sig: observe.Signals{Startup: starts},
			want: tuningv1alpha1.ObservedSignals{StartupSamples: 10, StartupP50: dur(10 * time.Second), StartupP99: dur(10 * time.Second)}},
		{name: "lower bound needs censored starts", sig: observe.Signals{StartLowerBound: 42 * time.Second}, want: tuningv1alpha1.ObservedSignals{}},
		{name: "lower bound rounded to the second", sig: observe.Signals{StartLowerBound: 42*time.Second + 600*time.Millisecond, CensoredStarts: 2},
			want: tuningv1alpha1.ObservedSignals{StartupLowerBound: dur(43 * time.Second)}},
		{name: "transitions need in-service time", sig: observe.Signals{TransitionsPerHour: 3.14}, want: tuningv1alpha1.ObservedSignals{}},
		{name: "transitions per hour", sig: observe.Signals{TransitionsPerHour: 3.14, InServiceHours: 2}, want: tuningv1alpha1.ObservedSignals{ReadyTransitionsPerHour: "3.1"}},
		{name: "a high rate has two significant digits", sig: observe.Signals{TransitionsPerHour: 727.4, InServiceHours: 2}, want: tuningv1alpha1.ObservedSignals{ReadyTransitionsPerHour: "730"}},
		{name: "a low rate has two significant digits", sig: observe.Signals{TransitionsPerHour: 0.0537, InServiceHours: 2}, want: tuningv1alpha1.ObservedSignals{ReadyTransitionsPerHour: "0.054"}},
		{name: "no transitions", sig: observe.Signals{InServiceHours: 2}, want: tuningv1alpha1.ObservedSignals{ReadyTransitionsPerHour: "0"}},
		{name: "stuck pods are the never ready ones", sig: observe.Signals{NotReady: []observe.NotReadyPod{{Pod: "a"}, {Pod: "b", EverReady: true}, {Pod: "c"}}},
			want: tuningv1alpha1.ObservedSignals{StuckPods: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := observed(tc.sig)
			if fmt.Sprintf("%+v", deref(got)) != fmt.Sprintf("%+v", deref(tc.want)) {
				t.Errorf("observed =\n %+v\nwant\n %+v", deref(got), deref(tc.want))
			}
		})
	}
}

// deref prints the durations of o by value so that two results compare by content.
func deref(o tuningv1alpha1.ObservedSignals) string {
	d := func(x *metav1.Duration) string {
		if x == nil {
			return "nil"
		}
		return x.Duration.String()
	}
	lastHour := "nil"
	if r := o.RestartsLastHour; r != nil {
		lastHour = fmt.Sprintf("%+v", *r)
	}
	return fmt.Sprintf("samples=%d p50=%s p99=%s lower=%s kills=%d/%d oom=%d crashes=%d lastHour=%s tph=%q stuck=%d",
		o.StartupSamples, d(o.StartupP50), d(o.StartupP99), d(o.StartupLowerBound), o.LivenessKills, o.StartupKills, o.OOMKills, o.Crashes,
		lastHour, o.ReadyTransitionsPerHour, o.StuckPods)
}

func TestMergeDecisionsOrderAndBound(t *testing.T) {
	tests := []struct {
		name         string
		newer, older []tuningv1alpha1.Decision
		want         []tuningv1alpha1.Decision
	}{
		{name: "empty"},
		{name: "older only", older: decisions("old", 3, t0), want: decisions("old", 3, t0)},
		{name: "new first", newer: decisions("new", 2, t0.Add(time.Hour)), older: decisions("old", 3, t0),
			want: append(decisions("new", 2, t0.Add(time.Hour)), decisions("old", 3, t0)...)},
		{name: "bounded, oldest dropped", newer: decisions("new", 5, t0.Add(time.Hour)), older: decisions("old", MaxDecisions, t0),
			want: append(decisions("new", 5, t0.Add(time.Hour)), decisions("old", MaxDecisions-5, t0)...)},
		{name: "more new than the bound", newer: decisions("new", MaxDecisions+5, t0.Add(time.Hour)), older: decisions("old", 3, t0),
			want: decisions("new", MaxDecisions, t0.Add(time.Hour))},
		{name: "older history over the bound is trimmed", older: decisions("old", MaxDecisions+3, t0), want: decisions("old", MaxDecisions, t0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mergeDecisions(tc.newer, tc.older)
			if len(got) > MaxDecisions {
				t.Errorf("kept %d decisions, more than %d", len(got), MaxDecisions)
			}
			if ids(got) != ids(tc.want) {
				t.Errorf("decisions =\n %s\nwant\n %s", ids(got), ids(tc.want))
			}
		})
	}
}

func TestMergeDecisionsDoesNotAliasInputs(t *testing.T) {
	newer := make([]tuningv1alpha1.Decision, 1, 10) // spare capacity an append could write into
	newer[0] = withID(decision("web", t0), "n")
	older := []tuningv1alpha1.Decision{withID(decision("api", t0), "o")}
	_ = mergeDecisions(newer, older)
	if got := newer[:2][1]; got.ID != "" {
		t.Errorf("mergeDecisions wrote into newer's spare capacity: %+v", got)
	}
}

func ids(ds []tuningv1alpha1.Decision) string {
	var s []string
	for _, d := range ds {
		s = append(s, fmt.Sprintf("%s@%s", d.ID, d.Time.UTC().Format(time.RFC3339Nano)))
	}
	return strings.Join(s, " ")
}

func TestMergeDecisionsDedup(t *testing.T) {
	set := func(d tuningv1alpha1.Decision, f func(*tuningv1alpha1.Decision)) tuningv1alpha1.Decision {
		f(&d)
		return d
	}
	a := withID(decision("web", t0), "abc")
	plain := decision("web", t0)
	reRecorded := withID(decision("web", t0.Add(time.Hour)), "abc")
	reRecorded.Evidence = "re-recorded"
	tests := []struct {
		name         string
		newer, older []tuningv1alpha1.Decision
		want         []tuningv1alpha1.Decision
	}{
		// With an ID.
		{name: "same id recorded again later counts once, the new copy first",
			newer: []tuningv1alpha1.Decision{withID(decision("web", t0.Add(10*time.Minute)), "abc")}, older: []tuningv1alpha1.Decision{a},
			want: []tuningv1alpha1.Decision{withID(decision("web", t0.Add(10*time.Minute)), "abc")}},
		{name: "same id recorded twice in one batch counts once, the newest record kept",
			newer: []tuningv1alpha1.Decision{a, withID(decision("web", t0.Add(time.Second)), "abc")},
			want:  []tuningv1alpha1.Decision{withID(decision("web", t0.Add(time.Second)), "abc")}},
		{name: "decisions queued across reconciles (oldest first) come out newest first",
			newer: []tuningv1alpha1.Decision{decision("api", t0), decision("web", t0.Add(time.Minute))},
			want:  []tuningv1alpha1.Decision{decision("web", t0.Add(time.Minute)), decision("api", t0)}},
		{name: "same id already twice in history counts once",
			older: []tuningv1alpha1.Decision{a, withID(decision("web", t0.Add(-time.Hour)), "abc"), decision("api", t0)},
			want:  []tuningv1alpha1.Decision{a, decision("api", t0)}},
		{name: "same id re-recorded with other evidence is the same write",
			newer: []tuningv1alpha1.Decision{reRecorded}, older: []tuningv1alpha1.Decision{a},
			want: []tuningv1alpha1.Decision{reRecorded}},
		{name: "same id, other field: one decision changing two fields",
			newer: []tuningv1alpha1.Decision{a, set(a, func(d *tuningv1alpha1.Decision) { d.Field = "periodSeconds" })},
			want:  []tuningv1alpha1.Decision{a, set(a, func(d *tuningv1alpha1.Decision) { d.Field = "periodSeconds" })}},
		{name: "same id, other container",
			newer: []tuningv1alpha1.Decision{a, set(a, func(d *tuningv1alpha1.Decision) { d.Container = "sidecar" })},
			want:  []tuningv1alpha1.Decision{a, set(a, func(d *tuningv1alpha1.Decision) { d.Container = "sidecar" })}},
		{name: "same id, other probe",
			newer: []tuningv1alpha1.Decision{a, set(a, func(d *tuningv1alpha1.Decision) { d.Probe = "liveness" })},
			want:  []tuningv1alpha1.Decision{a, set(a, func(d *tuningv1alpha1.Decision) { d.Probe = "liveness" })}},
		{name: "same id, other action",
			newer: []tuningv1alpha1.Decision{set(a, func(d *tuningv1alpha1.Decision) { d.Action = "Reverted" })}, older: []tuningv1alpha1.Decision{a},
			want: []tuningv1alpha1.Decision{set(a, func(d *tuningv1alpha1.Decision) { d.Action = "Reverted" }), a}},
		{name: "same id, other workload",
			newer: []tuningv1alpha1.Decision{withID(decision("api", t0), "abc")}, older: []tuningv1alpha1.Decision{a},
			want: []tuningv1alpha1.Decision{withID(decision("api", t0), "abc"), a}},
		{name: "other ids at the same time both stay",
			newer: []tuningv1alpha1.Decision{a, withID(decision("web", t0), "def")},
			want:  []tuningv1alpha1.Decision{a, withID(decision("web", t0), "def")}},

		// Without an ID.
		{name: "identical without id counts once",
			newer: []tuningv1alpha1.Decision{plain}, older: []tuningv1alpha1.Decision{plain},
			want: []tuningv1alpha1.Decision{plain}},
		{name: "without id, same second counts once",
			newer: []tuningv1alpha1.Decision{decision("web", t0.Add(300*time.Millisecond))}, older: []tuningv1alpha1.Decision{plain},
			want: []tuningv1alpha1.Decision{decision("web", t0.Add(300*time.Millisecond))}},
		{name: "without id, same instant in another zone counts once",
			newer: []tuningv1alpha1.Decision{decision("web", t0.In(time.FixedZone("CET", 3600)))}, older: []tuningv1alpha1.Decision{plain},
			want: []tuningv1alpha1.Decision{decision("web", t0)}},
		{name: "without id, different times both stay",
			newer: []tuningv1alpha1.Decision{decision("web", t0.Add(time.Second))}, older: []tuningv1alpha1.Decision{plain},
			want: []tuningv1alpha1.Decision{decision("web", t0.Add(time.Second)), plain}},
		{name: "without id, different times an hour apart both stay",
			newer: []tuningv1alpha1.Decision{decision("web", t0.Add(time.Hour))}, older: []tuningv1alpha1.Decision{plain},
			want: []tuningv1alpha1.Decision{decision("web", t0.Add(time.Hour)), plain}},
		{name: "without id, other value both stay",
			newer: []tuningv1alpha1.Decision{set(plain, func(d *tuningv1alpha1.Decision) { d.To = "8" })}, older: []tuningv1alpha1.Decision{plain},
			want: []tuningv1alpha1.Decision{set(plain, func(d *tuningv1alpha1.Decision) { d.To = "8" }), plain}},
		{name: "without id, other from both stay",
			newer: []tuningv1alpha1.Decision{set(plain, func(d *tuningv1alpha1.Decision) { d.From = "4" })}, older: []tuningv1alpha1.Decision{plain},
			want: []tuningv1alpha1.Decision{set(plain, func(d *tuningv1alpha1.Decision) { d.From = "4" }), plain}},
		{name: "without id, other action both stay",
			newer: []tuningv1alpha1.Decision{set(plain, func(d *tuningv1alpha1.Decision) { d.Action = "Skipped" })}, older: []tuningv1alpha1.Decision{plain},
			want: []tuningv1alpha1.Decision{set(plain, func(d *tuningv1alpha1.Decision) { d.Action = "Skipped" }), plain}},
		{name: "without id, other container both stay",
			newer: []tuningv1alpha1.Decision{set(plain, func(d *tuningv1alpha1.Decision) { d.Container = "sidecar" })}, older: []tuningv1alpha1.Decision{plain},
			want: []tuningv1alpha1.Decision{set(plain, func(d *tuningv1alpha1.Decision) { d.Container = "sidecar" }), plain}},
		{name: "without id, other workload both stay",
			newer: []tuningv1alpha1.Decision{decision("api", t0)}, older: []tuningv1alpha1.Decision{plain},
			want: []tuningv1alpha1.Decision{decision("api", t0), plain}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mergeDecisions(tc.newer, tc.older)
			if describe(got) != describe(tc.want) {
				t.Errorf("decisions =\n %s\nwant\n %s", describe(got), describe(tc.want))
			}
		})
	}
}

func TestMergeDecisionsBoundCountsDistinctDecisions(t *testing.T) {
	var newer []tuningv1alpha1.Decision
	for i := range MaxDecisions + 5 {
		newer = append(newer, withID(decision("web", t0.Add(time.Duration(i)*time.Second)), "same"))
	}
	older := decisions("old", 5, t0)
	got := mergeDecisions(newer, older)
	if len(got) != 6 {
		t.Fatalf("kept %d decisions, want 6 (one repeated decision and 5 older ones): %s", len(got), ids(got))
	}
	if got[0].ID != "same" || ids(got[1:]) != ids(older) {
		t.Errorf("decisions = %s", ids(got))
	}
}

func describe(ds []tuningv1alpha1.Decision) string {
	var s []string
	for _, d := range ds {
		s = append(s, fmt.Sprintf("{%s %s %s/%s %s %s %s->%s %s %q}", d.ID, d.Time.UTC().Format(time.RFC3339Nano), d.Workload, d.Container, d.Probe, d.Field, d.From, d.To, d.Action, d.Evidence))
	}
	return strings.Join(s, "\n ")
}

// TestComputeAgainFromTheStoredStatusChangesNothing: a status computed from the same records as the one the API
// server holds equals it, although the records are timed to the nanosecond and the API server keeps seconds;
// otherwise every reconcile would rewrite the status whole.
func TestComputeAgainFromTheStoredStatusChangesNothing(t *testing.T) {
	at := time.Now().Add(-time.Minute) // to the nanosecond, with a monotonic reading, as the reconcile's clock
	changed := at.Add(-time.Hour)
	in := Input{
		Generation: 2, Mode: tuningv1alpha1.ModeAuto, Now: at, ChangesApplied: 1,
		Workloads: []Workload{{Name: "web", State: StateVerifying, Message: "verifying", LastChangeTime: &changed,
			Containers: []Container{{Name: "app", Current: probes.Set{Liveness: &corev1.Probe{PeriodSeconds: 10, FailureThreshold: 3}}}},
			Findings:   []recommend.Finding{{Severity: recommend.Warning, Reason: "Stuck", Message: "stuck"}}}},
		NewDecision: []tuningv1alpha1.Decision{decision("web", at)},
	}
	first := Compute(in)
	data, err := json.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	var stored tuningv1alpha1.ProbePolicyStatus
	if err := json.Unmarshal(data, &stored); err != nil {
		t.Fatal(err)
	}
	// The next reconcile: the decisions are history now, the clock has moved on.
	in.Previous, in.History, in.NewDecision, in.Now = stored, first.Decisions, nil, at.Add(3*time.Second)
	again := Compute(in)
	if !equality.Semantic.DeepEqual(again, stored) {
		t.Errorf("computed again from the same records, the status differs from the stored one:\nstored %+v\nagain  %+v", stored, again)
	}
}
