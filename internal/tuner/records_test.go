package tuner

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

// boundRecord is a record probe-tuner wrote on slowStarter's Deployment (as boundStarter makes it): its second
// write, liveness failureThreshold 3 -> 6, four changes by policy "caches" in all.
func boundRecord() apply.LastChange {
	return apply.LastChange{ID: "d-second", Time: stepNow.Add(-2 * time.Hour), Policy: "caches", Action: apply.ActionApply,
		Deployment: "cache", UID: "uid-cache", Generation: 2, Seq: 2, ChangesApplied: 4, FromRevision: "r0",
		Changes: []probes.Change{{Container: "app", Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 6, Reason: "LivenessKilledReady"}}}
}

// boundStarter is slowStarter with a UID, a generation, and the liveness failureThreshold boundRecord wrote.
func boundStarter() (*WorkloadState, *appsv1.Deployment) {
	st, d := slowStarter()
	d.UID, d.Generation = "uid-cache", 3
	d.Spec.Template.Spec.Containers[0].LivenessProbe.FailureThreshold = 6
	return st, d
}

func lookFor(d *appsv1.Deployment) WorkloadLook {
	look := lookAt(d)
	look.Policy = "caches"
	return look
}

func TestLastChangeIsBoundToItsDeployment(t *testing.T) {
	with := func(edit func(*apply.LastChange)) func(*testing.T, *WorkloadState, *appsv1.Deployment) {
		return func(t *testing.T, _ *WorkloadState, d *appsv1.Deployment) {
			lc := boundRecord()
			edit(&lc)
			annotate(t, d, apply.AnnotationLastChange, lc)
		}
	}
	cases := []struct {
		name string
		edit func(*testing.T, *WorkloadState, *appsv1.Deployment)
		// adopted is the ID of the change adopted; rejected, a text of the rejection's message ("" for none).
		adopted  string
		rejected string
		applied  int64
		seq      int64
	}{
		{name: "a record of this Deployment holding its values is adopted, its count taken", edit: with(func(*apply.LastChange) {}),
			adopted: "d-second", applied: 4, seq: 2},
		{name: "another workload's record is rejected", edit: with(func(lc *apply.LastChange) { lc.Deployment, lc.UID = "orders", "uid-orders" }),
			rejected: "written for Deployment orders, not cache"},
		{name: "a record of a deleted and re-created namesake is rejected", edit: with(func(lc *apply.LastChange) { lc.UID = "uid-old-cache" }),
			rejected: "UID uid-old-cache"},
		{name: "a record dated 2099 is rejected", edit: with(func(lc *apply.LastChange) { lc.Time = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC) }),
			rejected: "in the future"},
		{name: "a record a minute ahead (clock skew) is adopted", edit: with(func(lc *apply.LastChange) { lc.Time = stepNow.Add(time.Minute) }),
			adopted: "d-second", applied: 4, seq: 2},
		{name: "a record of values never written is rejected", edit: with(func(lc *apply.LastChange) { lc.Changes[0].To = 9 }),
			rejected: "the Deployment holds 6"},
		{name: "a record of a later generation is rejected", edit: with(func(lc *apply.LastChange) { lc.Generation = 40 }),
			rejected: "generation 40"},
		{name: "a record of a container the Deployment lacks is rejected", edit: with(func(lc *apply.LastChange) { lc.Changes[0].Container = "proxy" }),
			rejected: "no container proxy"},
		{name: "a record with no change is rejected", edit: with(func(lc *apply.LastChange) { lc.Changes = nil }),
			rejected: "lists no change"},
		{name: "a record with a negative count is rejected", edit: with(func(lc *apply.LastChange) { lc.ChangesApplied = -5 }),
			rejected: "negative"},
		{name: "a record with a count more than its writes could make is rejected", edit: with(func(lc *apply.LastChange) { lc.ChangesApplied = 1 << 40 }),
			rejected: "more than 2 writes"},
		{name: "another policy's record is adopted for its time, not counted", edit: with(func(lc *apply.LastChange) { lc.Policy = "other" }),
			adopted: "d-second", seq: 2},
		{name: "an earlier release's record holding the values is adopted, counting its own changes",
			edit: with(func(lc *apply.LastChange) {
				lc.Deployment, lc.UID, lc.Generation, lc.Seq, lc.ChangesApplied = "", "", 0, 0, 0
			}), adopted: "d-second", applied: 1},
		{name: "an earlier release's record of values not held is rejected",
			edit: with(func(lc *apply.LastChange) {
				lc.Deployment, lc.UID, lc.Seq, lc.ChangesApplied = "", "", 0, 0
				lc.Changes[0].To = 5
			}), rejected: "holds 6"},
		{name: "invalid JSON is rejected", edit: func(_ *testing.T, _ *WorkloadState, d *appsv1.Deployment) {
			d.Annotations[apply.AnnotationLastChange] = "{not json"
		},
			rejected: "not valid JSON"},
		{name: "a huge value is rejected unread", edit: func(_ *testing.T, _ *WorkloadState, d *appsv1.Deployment) {
			d.Annotations[apply.AnnotationLastChange] = `{"id":"x","summary":["` + strings.Repeat("a", apply.MaxRecordBytes) + `"]}`
		}, rejected: "bytes long"},
		{name: "an older record than the state's checked one is left alone",
			edit: func(t *testing.T, st *WorkloadState, d *appsv1.Deployment) {
				st.LastChange = &ChangeRecord{ID: "d-third", Time: stepNow.Add(-time.Hour), FromRevision: "r0", Verified: true, Checked: true}
				st.Seq, st.ChangesApplied = 3, 5
				with(func(*apply.LastChange) {})(t, st, d)
			}, applied: 5, seq: 3},
		{name: "restored after a forged record an earlier release adopted: the good older record replaces it",
			edit: func(t *testing.T, st *WorkloadState, d *appsv1.Deployment) {
				st.LastChange = &ChangeRecord{ID: "d-forged", Time: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), FromRevision: "r1",
					Changes: []probes.Change{{Container: "app", Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 6}}}
				with(func(*apply.LastChange) {})(t, st, d)
			}, adopted: "d-second", applied: 4, seq: 2},
		{name: "an earlier release's checkpoint record, found on the Deployment, is checked and counted",
			edit: func(t *testing.T, st *WorkloadState, d *appsv1.Deployment) {
				st.LastChange = &ChangeRecord{ID: "d-second", Time: stepNow.Add(-2 * time.Hour), FromRevision: "r0", Verified: true}
				with(func(lc *apply.LastChange) {
					lc.Deployment, lc.UID, lc.Generation, lc.Seq, lc.ChangesApplied = "", "", 0, 0, 0
				})(t, st, d)
			}, applied: 1},
		{name: "a future record in an earlier release's checkpoint, not on the Deployment, is dropped",
			edit: func(_ *testing.T, st *WorkloadState, _ *appsv1.Deployment) {
				st.LastChange = &ChangeRecord{ID: "d-forged", Time: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), FromRevision: "r1"}
			}, rejected: "d-forged"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, d := boundStarter()
			tc.edit(t, st, d)
			out, err := StepWorkload(st, lookFor(d), resolved(t, tuningv1alpha1.ModeAuto), observe.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			var adopted string
			for _, r := range out.Records {
				if r.Kind == RecordAdopted {
					adopted = r.Decisions[0].ID
				}
			}
			if adopted != tc.adopted {
				t.Errorf("adopted %q, want %q (records %v, rejected %+v)", adopted, tc.adopted, kinds(out), out.Rejected)
			}
			switch {
			case tc.rejected == "" && len(out.Rejected) > 0:
				t.Errorf("rejected %+v, want nothing rejected", out.Rejected)
			case tc.rejected != "" && (len(out.Rejected) != 1 || !out.Rejected[0].New || out.Rejected[0].Reason != RejectedLastChange ||
				!strings.Contains(out.Rejected[0].Message, tc.rejected)):
				t.Errorf("rejected %+v, want one new %s saying %q", out.Rejected, RejectedLastChange, tc.rejected)
			}
			if tc.rejected != "" {
				// Never adopted, so it holds nothing: no verification, no cooldown.
				if st.LastChange != nil || strings.Contains(out.Action.Reason, "verifying") || strings.Contains(out.Action.Reason, "cooling") {
					t.Errorf("write %v (%s), last change %+v: a rejected record must not hold tuning", out.Write, out.Action.Reason, st.LastChange)
				}
			}
			if st.ChangesApplied != tc.applied || st.Seq != tc.seq {
				t.Errorf("changes applied %d, seq %d; want %d, %d", st.ChangesApplied, st.Seq, tc.applied, tc.seq)
			}
		})
	}
}

// TestARecordFoundAgainCountsOnce: the checkpoint is lost (a new state) twice, and the same record is found each
// time; looked at again with the same state, it is known. The count stays what the record says.
func TestARecordFoundAgainCountsOnce(t *testing.T) {
	_, d := boundStarter()
	annotate(t, d, apply.AnnotationLastChange, boundRecord())
	for lost := 0; lost < 2; lost++ {
		st, _ := boundStarter()
		for look := 0; look < 2; look++ {
			out, err := StepWorkload(st, lookFor(d), resolved(t, tuningv1alpha1.ModeAuto), observe.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			if wantAdopted := look == 0; (len(out.Records) > 0 && out.Records[0].Kind == RecordAdopted) != wantAdopted {
				t.Errorf("checkpoint lost %d, look %d: records %v, adopted want %v", lost, look, kinds(out), wantAdopted)
			}
			if st.ChangesApplied != 4 {
				t.Errorf("checkpoint lost %d, look %d: changes applied %d, want the record's 4", lost, look, st.ChangesApplied)
			}
		}
	}
}

// TestAWriteIsNumberedAndBound: the record a write carries names the Deployment and follows the state's number
// and count; Written takes them.
func TestAWriteIsNumberedAndBound(t *testing.T) {
	st, d := slowStarter()
	d.UID, d.Generation = "uid-cache", 7
	st.Seq, st.ChangesApplied = 4, 9
	out, err := StepWorkload(st, lookFor(d), resolved(t, tuningv1alpha1.ModeAuto), observe.DefaultConfig())
	if err != nil || !out.Write {
		t.Fatalf("write %v, error %v", out.Write, err)
	}
	req, err := PrepareWrite(st, &out, d, "caches")
	if err != nil || req == nil {
		t.Fatalf("request %v, error %v", req, err)
	}
	lc, n := req.LastChange, int64(len(out.Action.Changes))
	if lc.Deployment != "cache" || lc.UID != "uid-cache" || lc.Generation != 7 || lc.Seq != 5 || lc.ChangesApplied != 9+n {
		t.Errorf("record %+v: want it bound to cache/uid-cache at generation 7, seq 5, %d changes", lc, 9+n)
	}
	Written(st, &out)
	if st.Seq != 5 || st.ChangesApplied != 9+n || !st.LastChange.Checked {
		t.Errorf("state after the write: seq %d, changes %d, checked %v", st.Seq, st.ChangesApplied, st.LastChange.Checked)
	}
	obj, _, err := apply.Build(*req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apply.ParseLastChange(obj.GetAnnotations()[apply.AnnotationLastChange]); err != nil {
		t.Errorf("the record written does not parse back: %v", err)
	}
}

func TestABadValueIsReportedOnce(t *testing.T) {
	st, d := boundStarter()
	d.Annotations[apply.AnnotationLastChange] = "{not json"
	s := resolved(t, tuningv1alpha1.ModeRecommend)
	var news []bool
	for _, value := range []string{"{not json", "{not json", "", "{not json", "{also not json"} {
		if value == "" {
			delete(d.Annotations, apply.AnnotationLastChange)
		} else {
			d.Annotations[apply.AnnotationLastChange] = value
		}
		out, err := StepWorkload(st, lookFor(d), s, observe.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		news = append(news, len(out.Rejected) == 1 && out.Rejected[0].New)
	}
	// Reported, repeated (not reported), removed, back (reported again), another bad value (reported).
	if want := []bool{true, false, false, true, true}; strings.Join(boolStrings(news), ",") != strings.Join(boolStrings(want), ",") {
		t.Errorf("new reports %v, want %v", news, want)
	}
}

func boolStrings(bs []bool) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = map[bool]string{true: "reported", false: "quiet"}[b]
	}
	return out
}

func TestPauseValues(t *testing.T) {
	cases := []struct {
		value  *string
		write  bool
		paused bool
		// unknown says the value is held and reported.
		unknown bool
	}{
		{value: nil, write: true},
		{value: ptr("false"), write: true},
		{value: ptr("true"), paused: true},
		{value: ptr("yes"), unknown: true},
		{value: ptr("TRUE"), unknown: true},
		{value: ptr(""), unknown: true},
		{value: ptr("1"), unknown: true},
		{value: ptr(" true"), unknown: true},
	}
	for _, tc := range cases {
		name := "none"
		if tc.value != nil {
			name = *tc.value
		}
		t.Run(name, func(t *testing.T) {
			st, d := slowStarter()
			if tc.value != nil {
				d.Annotations[apply.AnnotationPaused] = *tc.value
			}
			out, err := StepWorkload(st, lookFor(d), resolved(t, tuningv1alpha1.ModeAuto), observe.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			if out.Write != tc.write || out.Facts.Paused != tc.paused || out.Facts.PauseUnknown != tc.unknown {
				t.Errorf("write %v, paused %v, unknown %v (%s: %s); want %v, %v, %v", out.Write, out.Facts.Paused, out.Facts.PauseUnknown,
					out.Action.Kind, out.Action.Reason, tc.write, tc.paused, tc.unknown)
			}
			reported := len(out.Rejected) == 1 && out.Rejected[0].Reason == RejectedPauseValue && out.Rejected[0].New
			if reported != tc.unknown {
				t.Errorf("rejected %+v, want a report: %v", out.Rejected, tc.unknown)
			}
			if tc.unknown {
				for _, text := range []string{`"` + *tc.value + `"`, `"true" (paused)`, `"false" (tuned`} {
					if !strings.Contains(out.Rejected[0].Message, text) || !strings.Contains(out.Action.Reason, text) {
						t.Errorf("message %q / reason %q does not say %s", out.Rejected[0].Message, out.Action.Reason, text)
					}
				}
			}
		})
	}
}

// TestAnUnknownPauseHoldsARevert: nothing is written while the value is unknown, not even the revert of a change
// that did not help (the same look without the annotation reverts it).
func TestAnUnknownPauseHoldsARevert(t *testing.T) {
	for _, value := range []string{"", "yes"} {
		st, d := slowStarter()
		change := probes.Change{Container: "app", Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 6, Reason: recommend.ReasonLivenessTransient}
		st.Observation.Revisions = append(st.Observation.Revisions, &observe.RevisionState{Hash: "r2", FirstSeen: stepNow.Add(-time.Hour), PodSeconds: 3600,
			NotReadySeconds: 3600, ServiceSeconds: 3600, ServiceNotReadySeconds: 3600,
			Containers: map[string]*observe.RevisionContainer{"app": {Restarts: map[observe.Cause]int{observe.CauseLiveness: 6}}}})
		st.LastChange = &ChangeRecord{ID: "d-1", Time: stepNow.Add(-time.Hour), FromRevision: "r1", SettledAt: stepNow.Add(-50 * time.Minute),
			Changes: []probes.Change{change}, Checked: true}
		if value != "" {
			d.Annotations[apply.AnnotationPaused] = value
		}
		look := lookFor(d)
		look.Observe.Revision = "r2"
		out, err := StepWorkload(st, look, resolved(t, tuningv1alpha1.ModeAuto), observe.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		if reverts := out.Action.Kind == Revert && out.Write; reverts != (value == "") {
			t.Errorf("paused %q: action %s (%s), write %v; want a revert only without the annotation", value, out.Action.Kind, out.Action.Reason, out.Write)
		}
	}
}

func ptr(s string) *string { return &s }

func TestPreviousProbesAreChecked(t *testing.T) {
	good := func() apply.Previous {
		return apply.Previous{"app": {probes.Liveness: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}},
			PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}}}
	}
	encode := func(p apply.Previous) string {
		raw, _ := json.Marshal(p)
		return string(raw)
	}
	cases := []struct {
		name, value, rejected string
	}{
		{name: "the probes before the last change", value: encode(good())},
		{name: "garbage", value: "garbage", rejected: "not valid JSON"},
		{name: "a huge value", value: `{"app":{"x":"` + strings.Repeat("a", apply.MaxRecordBytes) + `"}}`, rejected: "bytes long"},
		{name: "another workload's", value: encode(apply.Previous{"orders": good()["app"]}), rejected: "no container orders"},
		{name: "not what the last change started from", value: func() string {
			p := good()
			p["app"][probes.Liveness].FailureThreshold = 5
			return encode(p)
		}(), rejected: "started from 3"},
		{name: "a probe the API server rejects", value: func() string {
			p := good()
			p["app"][probes.Liveness].SuccessThreshold = 3
			return encode(p)
		}(), rejected: "successThreshold must be 1"},
		{name: "an unknown probe kind", value: `{"app":{"lively":{}}}`, rejected: "probe kind"},
		{name: "empty", value: `{}`, rejected: "names no container"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, d := boundStarter()
			annotate(t, d, apply.AnnotationLastChange, boundRecord())
			d.Annotations[apply.AnnotationPrevious] = tc.value
			out, err := StepWorkload(st, lookFor(d), resolved(t, tuningv1alpha1.ModeAuto), observe.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			var got []Rejection
			for _, r := range out.Rejected {
				if r.Reason == RejectedPreviousProbes {
					got = append(got, r)
				}
			}
			switch {
			case tc.rejected == "" && len(got) > 0:
				t.Errorf("rejected %+v, want nothing", got)
			case tc.rejected != "" && (len(got) != 1 || !strings.Contains(got[0].Message, tc.rejected) || !got[0].New):
				t.Errorf("rejected %+v, want one saying %q", got, tc.rejected)
			}
		})
	}
}

func TestChangeLine(t *testing.T) {
	liveness := func(container string) probes.Change {
		return probes.Change{Container: container, Probe: probes.Liveness, Field: "failureThreshold", From: 3, To: 6}
	}
	startup := func(container string) probes.Change {
		return probes.Change{Container: container, Probe: probes.Startup, Field: probes.WholeProbe, To: 1}
	}
	readiness := func(container string) probes.Change {
		return probes.Change{Container: container, Probe: probes.Readiness, Field: "periodSeconds", From: 10, To: 5}
	}
	many := func(n int, change func(string) probes.Change) []probes.Change {
		var out []probes.Change
		for i := range n {
			out = append(out, change(fmt.Sprintf("c%02d", i)))
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		changes []probes.Change
		limit   int
		want    string
	}{
		{name: "one change", changes: []probes.Change{liveness("app")}, limit: 1000, want: "app liveness failureThreshold 3 -> 6"},
		{name: "the same change in two containers", changes: []probes.Change{liveness("app"), liveness("cache")}, limit: 1000,
			want: "app, cache liveness failureThreshold 3 -> 6"},
		{name: "two kinds of change", changes: []probes.Change{startup("app"), liveness("app"), startup("cache")}, limit: 1000,
			want: "app, cache startup probe added; app liveness failureThreshold 3 -> 6"},
		{name: "fifty containers", changes: many(50, startup), limit: 1000, want: "c00, c01, c02 and 47 more containers startup probe added"},
		{name: "what does not fit is counted", changes: []probes.Change{liveness("app"), startup("a"), readiness("b"), readiness("c")}, limit: 101,
			want: "app liveness failureThreshold 3 -> 6; and 3 more changes (the operator's log has one line per change)"},
		{name: "one change left out", changes: []probes.Change{liveness("app"), startup(strings.Repeat("x", 63))}, limit: 100,
			want: "app liveness failureThreshold 3 -> 6; and 1 more change (the operator's log has one line per change)"},
		{name: "nothing fits", changes: many(5, liveness), limit: 10, want: "5 changes (the operator's log has one line per change)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ChangeLine(tc.changes, tc.limit)
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if len(got) > tc.limit && !strings.Contains(tc.name, "nothing fits") {
				t.Errorf("%d bytes, over the limit of %d", len(got), tc.limit)
			}
		})
	}
}
