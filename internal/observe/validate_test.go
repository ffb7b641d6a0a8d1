package observe

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// A state that observation built passes; each forged value is refused with a message naming where it is.
func TestValidateBounds(t *testing.T) {
	yaml := deployment(3, map[string]string{"sim.probetuner.io/startup": "45s"}, defaultLivenessYAML+readinessYAML)
	run := newSimRun(t, yaml, 7)
	run.run(5 * time.Minute)
	now := run.world.Now()
	data, err := json.Marshal(run.state)
	if err != nil {
		t.Fatal(err)
	}
	fresh := func() *State {
		s := &State{}
		if err := json.Unmarshal(data, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if err := fresh().Validate(now); err != nil {
		t.Fatalf("a state observation built is refused: %v", err)
	}
	if len(run.state.Revisions) == 0 || run.state.Containers["app"] == nil || len(run.state.Pods) == 0 {
		t.Fatalf("the scenario built too little state to forge: %+v", run.state)
	}
	rev := func(s *State) *RevisionContainer { return s.Revisions[0].container("app") }
	cases := []struct {
		name  string
		forge func(s *State)
		want  string
	}{
		{"negative liveness kills", func(s *State) { s.Containers["app"].Restarts[CauseLiveness] = -100 }, "restarts[liveness] is -100"},
		{"absurd liveness kills", func(s *State) { s.Containers["app"].Restarts[CauseLiveness] = math.MaxInt32 }, "is 2147483647"},
		{"unknown restart cause", func(s *State) { s.Containers["app"].Restarts["gremlins"] = 1 }, `"gremlins" is not a restart cause`},
		{"negative revision kills", func(s *State) { rev(s).KillsBeforeReady = -1 }, "killsBeforeReady is -1"},
		{"huge histogram weight", func(s *State) { s.Containers["app"].Censored.Buckets[10] = 1e308 }, "censored bucket 10 is 1e+308"},
		{"negative histogram weight", func(s *State) { s.Containers["app"].Censored.Buckets[10] = -1e308 }, "censored bucket 10 is -1e+308"},
		{"NaN histogram weight", func(s *State) { s.Containers["app"].Censored.Buckets[3] = math.NaN() }, "censored bucket 3 is NaN"},
		{"bucket out of range", func(s *State) { s.Containers["app"].Censored.Buckets[9999] = 0.5 }, "bucket 9999 is outside"},
		{"weights over the sample count", func(s *State) {
			h := &s.Containers["app"].Censored
			for b := range h.Buckets {
				h.Buckets[b] = float64(h.Count)
			}
			h.Buckets[1] = float64(h.Count)
		}, "more than its"},
		{"negative sample count", func(s *State) { s.Containers["app"].Startup.Count = -5 }, "startup.n is -5"},
		{"infinite rate", func(s *State) { rev(s).RateLivenessKills = math.Inf(1) }, "rateLivenessKills is +Inf"},
		{"negative pod seconds", func(s *State) { s.Revisions[0].PodSeconds = -1 }, "podSeconds is -1"},
		{"absurd start duration", func(s *State) { s.Containers["app"].LastStartSeconds = 1e300 }, "lastStart is 1e+300"},
		{"update time in 2099", func(s *State) { s.UpdatedAt = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC) }, "updatedAt is 2099-01-01"},
		{"revision first seen in 1900", func(s *State) { s.Revisions[0].FirstSeen = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC) }, "firstSeen is 1900"},
		{"overlong revision hash", func(s *State) { s.Revisions[0].Hash = strings.Repeat("h", 1000) }, "hash is 1000 bytes long"},
		{"negative restart count", func(s *State) {
			for _, p := range s.Pods {
				p.Containers["app"].RestartCount = -3
			}
		}, "restartCount is -3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := fresh()
			tc.forge(s)
			err := s.Validate(now)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// The time bound follows the clock passed in: a state observed now is not refused an hour later, nor a little
// ahead of a replica whose clock is behind.
func TestValidateTimesFollowTheClock(t *testing.T) {
	at := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	s := &State{UpdatedAt: at}
	for _, now := range []time.Time{at, at.Add(time.Hour), at.Add(-time.Hour)} {
		if err := s.Validate(now); err != nil {
			t.Errorf("Validate(%s) = %v", now, err)
		}
	}
	if err := s.Validate(at.Add(-MaxFutureSkew - time.Minute)); err == nil {
		t.Error("a time more than a day ahead of the clock was accepted")
	}
}
