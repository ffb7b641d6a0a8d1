package probes

import (
	"math"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func httpProbe() *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz"}}}
}

func TestOfAppliesTheAPIDefaults(t *testing.T) {
	cases := []struct {
		name  string
		probe corev1.Probe
		want  Values
	}{
		{"all unset", corev1.Probe{}, Values{PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}},
		{"all set", corev1.Probe{InitialDelaySeconds: 5, PeriodSeconds: 2, TimeoutSeconds: 3, SuccessThreshold: 4, FailureThreshold: 6},
			Values{InitialDelaySeconds: 5, PeriodSeconds: 2, TimeoutSeconds: 3, SuccessThreshold: 4, FailureThreshold: 6}},
		{"some set", corev1.Probe{PeriodSeconds: 5, FailureThreshold: 30}, Values{PeriodSeconds: 5, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 30}},
		// Only zero means unset: a negative value is kept, for Validate to refuse.
		{"negative kept", corev1.Probe{InitialDelaySeconds: -1, PeriodSeconds: -2}, Values{InitialDelaySeconds: -1, PeriodSeconds: -2, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Of(&tc.probe); got != tc.want {
				t.Errorf("Of = %+v, want %+v", got, tc.want)
			}
			if got := (Values{InitialDelaySeconds: tc.probe.InitialDelaySeconds, PeriodSeconds: tc.probe.PeriodSeconds, TimeoutSeconds: tc.probe.TimeoutSeconds,
				SuccessThreshold: tc.probe.SuccessThreshold, FailureThreshold: tc.probe.FailureThreshold}).Defaulted(); got != tc.want {
				t.Errorf("Defaulted = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestApplyWritesEveryField(t *testing.T) {
	v := Values{InitialDelaySeconds: 1, PeriodSeconds: 2, TimeoutSeconds: 3, SuccessThreshold: 4, FailureThreshold: 5}
	p := httpProbe()
	v.Apply(p)
	if got := Of(p); got != v || p.HTTPGet == nil {
		t.Errorf("after Apply: %+v (handler %v), want %+v and the handler kept", got, p.HTTPGet, v)
	}
}

func TestBudget(t *testing.T) {
	cases := []struct {
		v    Values
		want int32
	}{
		{Of(&corev1.Probe{}), 30},
		{Values{InitialDelaySeconds: 15, PeriodSeconds: 10, FailureThreshold: 3}, 45},
		{Values{PeriodSeconds: 5, FailureThreshold: 60}, 300},
		{Values{InitialDelaySeconds: 7, PeriodSeconds: 1, FailureThreshold: 1}, 8},
	}
	for _, tc := range cases {
		if got := tc.v.Budget(); got != tc.want {
			t.Errorf("%+v: Budget = %d, want %d", tc.v, got, tc.want)
		}
	}
}

func TestEarliestAction(t *testing.T) {
	cases := []struct {
		v    Values
		want int32
	}{
		{Of(&corev1.Probe{}), 20}, // the defaults: the third failure, at the earliest two periods after the first
		{Values{InitialDelaySeconds: 8, PeriodSeconds: 10, FailureThreshold: 2}, 18},
		{Values{InitialDelaySeconds: 83, PeriodSeconds: 30, FailureThreshold: 1}, 83},
		{Values{PeriodSeconds: 5, FailureThreshold: 60}, 295},
	}
	for _, tc := range cases {
		if got := tc.v.EarliestAction(); got != tc.want || got > tc.v.Budget() {
			t.Errorf("%+v: EarliestAction = %d, want %d (Budget %d)", tc.v, got, tc.want, tc.v.Budget())
		}
	}
}

func TestTimeToDetect(t *testing.T) {
	const m = math.MaxInt32
	cases := []struct {
		name                     string
		failure, period, timeout int32
		want                     int64
	}{
		{"the API defaults", 3, 10, 1, 31},
		{"one fast failure", 1, 1, 1, 2},
		{"a large threshold that int32 math would wrap", 1_000_000, 10_000, 5, 10_000_000_005},
		{"every field at the int32 maximum", m, m, m, int64(m)*int64(m) + int64(m)},
		{"threshold and period at the maximum", m, m, 1, int64(m)*int64(m) + 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := TimeToDetect(tc.failure, tc.period, tc.timeout); got != tc.want {
				t.Errorf("TimeToDetect(%d, %d, %d) = %d, want %d", tc.failure, tc.period, tc.timeout, got, tc.want)
			}
			v := Values{FailureThreshold: tc.failure, PeriodSeconds: tc.period, TimeoutSeconds: tc.timeout, InitialDelaySeconds: 99}
			if got := v.TimeToDetect(); got != tc.want {
				t.Errorf("Values.TimeToDetect = %d, want %d (the initial delay does not count)", got, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	with := func(edit func(p *corev1.Probe)) *corev1.Probe {
		p := httpProbe()
		edit(p)
		return p
	}
	cases := []struct {
		name  string
		probe *corev1.Probe
		kind  Kind
		// want is a part of the error message, "" for a valid probe.
		want string
	}{
		{"no probe", nil, Liveness, ""},
		{"unset fields take the defaults", httpProbe(), Liveness, ""},
		{"all fields set", with(func(p *corev1.Probe) {
			*p = corev1.Probe{ProbeHandler: p.ProbeHandler, InitialDelaySeconds: 5, PeriodSeconds: 5, TimeoutSeconds: 2, SuccessThreshold: 1, FailureThreshold: 6}
		}), Startup, ""},
		{"negative initial delay", with(func(p *corev1.Probe) { p.InitialDelaySeconds = -1 }), Readiness, "initialDelaySeconds -1 is negative"},
		{"negative period", with(func(p *corev1.Probe) { p.PeriodSeconds = -10 }), Liveness, "periodSeconds -10 must be at least 1"},
		{"negative timeout", with(func(p *corev1.Probe) { p.TimeoutSeconds = -1 }), Readiness, "timeoutSeconds -1 must be at least 1"},
		{"negative failure threshold", with(func(p *corev1.Probe) { p.FailureThreshold = -3 }), Startup, "failureThreshold -3 must be at least 1"},
		{"liveness success threshold above 1", with(func(p *corev1.Probe) { p.SuccessThreshold = 2 }), Liveness, "successThreshold must be 1, not 2"},
		{"startup success threshold above 1", with(func(p *corev1.Probe) { p.SuccessThreshold = 3 }), Startup, "successThreshold must be 1, not 3"},
		{"readiness success threshold above 1", with(func(p *corev1.Probe) { p.SuccessThreshold = 3 }), Readiness, ""},
		{"readiness grace period", with(func(p *corev1.Probe) { p.TerminationGracePeriodSeconds = ptr.To[int64](5) }), Readiness, "may not set terminationGracePeriodSeconds"},
		{"liveness grace period", with(func(p *corev1.Probe) { p.TerminationGracePeriodSeconds = ptr.To[int64](5) }), Liveness, ""},
		{"no handler", &corev1.Probe{}, Readiness, "has 0 handlers"},
		{"two handlers", with(func(p *corev1.Probe) { p.TCPSocket = &corev1.TCPSocketAction{} }), Liveness, "has 2 handlers"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.probe, tc.kind)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate = %v, want valid", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestByKindGetAndSetPerKind(t *testing.T) {
	probe := map[Kind]*corev1.Probe{Startup: httpProbe(), Liveness: httpProbe(), Readiness: httpProbe()}
	for _, k := range Kinds {
		var s Set
		s.Set(k, probe[k])
		for _, other := range Kinds {
			if got := s.Get(other); (other == k) != (got == probe[k]) || (other != k && got != nil) {
				t.Errorf("after Set(%s): Get(%s) = %p, want %p only for %s", k, other, got, probe[k], k)
			}
		}
		c := &corev1.Container{}
		SetContainer(c, s)
		if got := ContainerSet(c).Get(k); got != probe[k] {
			t.Errorf("the container's %s probe is %p, want %p", k, got, probe[k])
		}
		if n := btoi(c.StartupProbe != nil) + btoi(c.LivenessProbe != nil) + btoi(c.ReadinessProbe != nil); n != 1 {
			t.Errorf("after setting the %s probe the container has %d probes", k, n)
		}
		s.Set(k, nil)
		if s != (Set{}) {
			t.Errorf("Set(%s, nil) left %+v", k, s)
		}
	}
	c := &corev1.Container{StartupProbe: probe[Startup], LivenessProbe: probe[Liveness], ReadinessProbe: probe[Readiness]}
	if got := ContainerSet(c); got.Startup != c.StartupProbe || got.Liveness != c.LivenessProbe || got.Readiness != c.ReadinessProbe {
		t.Errorf("ContainerSet = %+v, want the container's own probes", got)
	}
	// A kind that is none of the three (from a hand-edited annotation) reads as no probe and writes nothing.
	s := ContainerSet(c)
	if got := s.Get("exec"); got != nil {
		t.Errorf("Get of an unknown kind = %p, want nil", got)
	}
	s.Set("exec", nil)
	if s != ContainerSet(c) {
		t.Errorf("Set of an unknown kind changed %+v", s)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestFieldGetSetRoundTrip(t *testing.T) {
	base := Values{InitialDelaySeconds: 1, PeriodSeconds: 2, TimeoutSeconds: 3, SuccessThreshold: 4, FailureThreshold: 5}
	seen := map[Field]bool{}
	for i, f := range Fields {
		if seen[f] {
			t.Errorf("field %s listed twice", f)
		}
		seen[f] = true
		if got, ok := base.Field(f); !ok || got != int32(i+1) {
			t.Errorf("Field(%s) = %d %v, want %d (Fields is in the order of Values)", f, got, ok, i+1)
		}
		v, err := base.WithField(f, 42)
		if err != nil {
			t.Fatalf("WithField(%s): %v", f, err)
		}
		for _, other := range Fields {
			got, _ := v.Field(other)
			want, _ := base.Field(other)
			if other == f {
				want = 42
			}
			if got != want {
				t.Errorf("after WithField(%s, 42): Field(%s) = %d, want %d", f, other, got, want)
			}
		}
	}
	if len(Fields) != 5 {
		t.Errorf("%d timing fields, want 5", len(Fields))
	}
	for _, f := range []Field{WholeProbe, "terminationGracePeriodSeconds", ""} {
		if _, ok := base.Field(f); ok {
			t.Errorf("Field(%q) is found, but it is not a timing field", f)
		}
		if v, err := base.WithField(f, 42); err == nil || v != base {
			t.Errorf("WithField(%q) = %+v, %v: want an error and v unchanged", f, v, err)
		}
	}
}

func TestChangeRefAndSame(t *testing.T) {
	ch := Change{Container: "app", Probe: Liveness, Field: FailureThreshold, From: 3, To: 6, Reason: "R", Evidence: "e"}
	if got := ch.Ref(); got != (FieldRef{Container: "app", Probe: Liveness, Field: FailureThreshold}) {
		t.Errorf("Ref = %+v", got)
	}
	cases := []struct {
		name  string
		other Change
		same  bool
	}{
		{"another reason and start", Change{Container: "app", Probe: Liveness, Field: FailureThreshold, From: 4, To: 6, Reason: "S"}, true},
		{"another target", Change{Container: "app", Probe: Liveness, Field: FailureThreshold, From: 3, To: 5}, false},
		{"another field", Change{Container: "app", Probe: Liveness, Field: TimeoutSeconds, From: 3, To: 6}, false},
		{"another probe", Change{Container: "app", Probe: Readiness, Field: FailureThreshold, From: 3, To: 6}, false},
		{"another container", Change{Container: "proxy", Probe: Liveness, Field: FailureThreshold, From: 3, To: 6}, false},
	}
	for _, tc := range cases {
		if got := ch.Same(tc.other); got != tc.same {
			t.Errorf("%s: Same = %v, want %v", tc.name, got, tc.same)
		}
	}
}
