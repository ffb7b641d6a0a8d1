package probes

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func TestNoneIsTrueOnlyWithoutAnyProbe(t *testing.T) {
	if !None(Set{}) {
		t.Error("None(empty set) = false")
	}
	for _, k := range Kinds {
		var s Set
		s.Set(k, httpProbe())
		if None(s) {
			t.Errorf("None with a %s probe = true", k)
		}
	}
}

func TestIdenticalComparesHandlerAndDefaultedTiming(t *testing.T) {
	explicit := httpProbe()
	explicit.PeriodSeconds, explicit.TimeoutSeconds, explicit.FailureThreshold = 10, 1, 3
	slower := httpProbe()
	slower.PeriodSeconds = 20
	graced := httpProbe()
	graced.TerminationGracePeriodSeconds, graced.SuccessThreshold = ptr.To[int64](5), 2
	other := httpProbe()
	other.HTTPGet.Path = "/ready"
	cases := []struct {
		name string
		a, b *corev1.Probe
		want bool
	}{
		{"same", httpProbe(), httpProbe(), true},
		{"defaults spelled out", httpProbe(), explicit, true},
		{"successThreshold and grace period ignored", httpProbe(), graced, true},
		{"other period", httpProbe(), slower, false},
		{"other path", httpProbe(), other, false},
		{"one missing", httpProbe(), nil, false},
	}
	for _, tc := range cases {
		if got := Identical(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: Identical = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSameHandlerIgnoresTiming(t *testing.T) {
	slower := httpProbe()
	slower.PeriodSeconds = 30
	if !SameHandler(httpProbe(), slower) {
		t.Error("same path and port with another period: SameHandler = false")
	}
	port := httpProbe()
	port.HTTPGet.Port = intstr.FromInt32(9090)
	if SameHandler(httpProbe(), port) {
		t.Error("another port: SameHandler = true")
	}
	if SameHandler(httpProbe(), nil) {
		t.Error("SameHandler with nil = true")
	}
}
