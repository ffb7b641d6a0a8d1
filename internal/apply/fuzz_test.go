package apply

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// fuzzDeployment is a Deployment with one container, for Check to judge records against.
func fuzzDeployment() *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "cache", Namespace: "shop", UID: "uid-cache", Generation: 3},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app",
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(80)}},
				PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 6}}}}}}}
}

// FuzzParseLastChange: any annotation value parses or is rejected without a panic, the same way twice; an accepted
// record re-encodes to a value that parses to the same record; Check never panics on one.
func FuzzParseLastChange(f *testing.F) {
	f.Add(`{"id":"d-1","time":"2026-06-01T10:00:00Z","policy":"caches","action":"Apply","deployment":"cache","uid":"uid-cache","generation":2,"seq":2,"changesApplied":4,` +
		`"changes":[{"container":"app","probe":"liveness","field":"failureThreshold","from":3,"to":6}]}`)
	f.Add(`{"id":"d-1-revert","time":"2099-01-01T00:00:00Z","action":"Revert","changes":[{"container":"app","probe":"startup","field":"probe","from":1,"to":0}]}`)
	f.Add(`{not json`)
	f.Add(`{"id":"x","seq":-1,"changesApplied":9223372036854775807,"changes":[{}]}`)
	f.Add(``)
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		lc, err := ParseLastChange(raw)
		lc2, err2 := ParseLastChange(raw)
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(lc, lc2) {
			t.Fatalf("parsed twice differently: %v / %v", err, err2)
		}
		if err != nil {
			if !reflect.DeepEqual(lc, LastChange{}) {
				t.Fatalf("a rejected record came back non-empty: %+v", lc)
			}
			return
		}
		out, err := json.Marshal(lc)
		if err != nil {
			t.Fatalf("an accepted record does not encode: %v", err)
		}
		again, err := ParseLastChange(string(out))
		if err != nil {
			t.Fatalf("an accepted record re-encoded is rejected: %v\n%s", err, out)
		}
		if !again.Time.Equal(lc.Time) {
			t.Fatalf("time %v re-encoded as %v", lc.Time, again.Time)
		}
		again.Time = lc.Time
		if !reflect.DeepEqual(normalise(again), normalise(lc)) {
			t.Fatalf("re-encoded record differs:\n%+v\n%+v", lc, again)
		}
		_ = lc.Check(fuzzDeployment(), now)
	})
}

// normalise makes empty and nil slices alike, as JSON does.
func normalise(lc LastChange) LastChange {
	if len(lc.Summary) == 0 {
		lc.Summary = nil
	}
	if len(lc.Changes) == 0 {
		lc.Changes = nil
	}
	return lc
}

// FuzzParsePrevious: any previous-probes value parses or is rejected without a panic, the same way twice; accepted
// probes re-encode to a value accepted again; Check and Restore never panic, and Restore leaves valid probes.
func FuzzParsePrevious(f *testing.F) {
	f.Add(`{"app":{"liveness":{"httpGet":{"path":"/","port":80},"periodSeconds":10,"timeoutSeconds":1,"successThreshold":1,"failureThreshold":3}}}`)
	f.Add(`{"app":{"startup":{"exec":{"command":["true"]},"failureThreshold":0}}}`)
	f.Add(`{"orders":{"readiness":null}}`)
	f.Add(`garbage`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := ParsePrevious(raw)
		p2, err2 := ParsePrevious(raw)
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(p, p2) {
			t.Fatalf("parsed twice differently: %v / %v", err, err2)
		}
		if err != nil {
			return
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("accepted probes do not encode: %v", err)
		}
		if _, err := ParsePrevious(string(out)); err != nil {
			t.Fatalf("accepted probes re-encoded are rejected: %v\n%s", err, out)
		}
		d := fuzzDeployment()
		if p.Check(d, nil) == nil {
			set := probes.ContainerSet(&p.Restore(d).Spec.Template.Spec.Containers[0])
			for _, k := range probes.Kinds {
				if err := probes.Validate(set.Get(k), k); err != nil {
					t.Fatalf("restored %s probe is not valid: %v", k, err)
				}
			}
		}
	})
}
