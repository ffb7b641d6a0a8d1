package tuner

import (
	"time"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

// SafetyLookInterval is the longest a workload goes without a look when nothing about it changes and nothing is
// due before: what drifts with time alone and is not predicted below (decayed rates and weights, the minutes a
// stuck pod has been stuck in a finding's message) is brought up to date at least this often, and anything a
// missed event left undone is done then.
const SafetyLookInterval = 10 * time.Minute

// lookSlack is how far past a due moment the look is asked for: the comparisons at that moment (most are strict:
// a window "has passed", a pod is "longer than" a threshold) then find it passed.
const lookSlack = 100 * time.Millisecond

// NextLook returns when the workload must be looked at again if nothing about it changes before (a change of its
// pods, Events or Deployment brings a look of its own): the earliest moment after the look at now at which a
// decision, a finding or what observation counts can change with time alone, and at most SafetyLookInterval
// after now. The moments are
//   - observation's: a termination waiting for its Killing Event (observe.State.RecheckAt), a liveness-only start
//     outliving its budget and a liveness failure run closing as a near miss (observe.State.SettlesAt);
//   - the last change's: its verification window closing after its rollout settled, or after the change for a
//     rollout that stalls (one window, then stalledFactor windows), and its cooldown ending;
//   - the findings': a pod running without ever being ready crossing the stuck threshold, then each whole minute
//     the finding's message counts;
//   - the rules': a liveness probe slower to detect a hang than the policy allows being watched long enough (one
//     verification window of probes) to be tightened.
//
// It reads the state as the step at now left it; the caller passes the same look, facts and settings.
func NextLook(st *WorkloadState, look WorkloadLook, f Facts, s policy.Settings, cfg observe.Config) time.Time {
	now := look.Observe.Now
	d := dueAfter{now: now, at: now.Add(SafetyLookInterval)}
	obs := &st.Observation
	if !obs.RecheckAt.IsZero() {
		// Asked for by the look just taken: at once if it is already due.
		d.add(maxTime(obs.RecheckAt, now))
	}
	d.add(obs.SettlesAt(look.Observe.Pods, now, cfg))

	d.change(st.LastChange, s.Pacing)

	for _, ps := range obs.Pods {
		for name, pc := range ps.Containers {
			if !pc.Running || pc.Ready || pc.EverReady || pc.NotReadySince.IsZero() {
				continue
			}
			var startup *observe.Histogram
			if cs := obs.Containers[name]; cs != nil {
				startup = &cs.Startup
			}
			stuck := pc.NotReadySince.Add(recommend.StuckThreshold(startup, s))
			if now.Before(stuck) {
				d.add(stuck)
				continue
			}
			// Stuck already: the finding's message says for how many whole minutes.
			d.add(pc.NotReadySince.Add((now.Sub(pc.NotReadySince).Truncate(time.Minute) + time.Minute)))
		}
	}

	d.add(livenessWatchedLongEnough(obs, look, f, s))
	return d.at
}

// livenessWatchedLongEnough is when the current revision's ready containers will have run one verification
// window of liveness probes, the least watch before a liveness probe slower to detect a hang than the policy's
// bound is tightened (see recommend's tightenLiveness), at the rate the running pods add probes now; zero when no
// such probe waits for it.
func livenessWatchedLongEnough(obs *observe.State, look WorkloadLook, f Facts, s policy.Settings) time.Time {
	rev := obs.Revision(f.Revision)
	if rev == nil {
		return time.Time{}
	}
	var at time.Time
	for _, c := range f.Containers {
		if c.Liveness == nil {
			continue
		}
		v := probes.Of(c.Liveness)
		if v.TimeToDetect() <= int64(s.Liveness.MaxTimeToDetectSeconds) || v.PeriodSeconds <= 0 {
			continue
		}
		watched := 0.0
		if rc := rev.Containers[c.Name]; rc != nil {
			watched = rc.LivenessProbes
		}
		missing := s.Pacing.VerificationWindow.Seconds()/float64(v.PeriodSeconds) - watched
		if missing <= 0 {
			continue
		}
		// Probes per second: one per period of each started, running container of the revision.
		rate := 0.0
		for i := range look.Observe.Pods {
			p := &look.Observe.Pods[i]
			ps := obs.Pods[string(p.UID)]
			if p.Deleting || ps == nil || ps.Revision != f.Revision {
				continue
			}
			if pc := ps.Containers[c.Name]; pc != nil && pc.Running && pc.StartCompleted {
				if live := containerLiveness(p, c.Name); live != nil && live.PeriodSeconds > 0 {
					rate += 1 / float64(live.PeriodSeconds)
				}
			}
		}
		if rate > 0 {
			t := look.Observe.Now.Add(time.Duration(missing / rate * float64(time.Second)))
			if at.IsZero() || t.Before(at) {
				at = t
			}
		}
	}
	return at
}

// containerLiveness returns the liveness probe of the pod's container, nil when it has none.
func containerLiveness(p *observe.Pod, name string) *observe.Probe {
	for i := range p.Containers {
		if p.Containers[i].Name == name {
			return p.Containers[i].Probes.Liveness
		}
	}
	return nil
}

// dueAfter keeps the earliest moment after now added, plus lookSlack.
type dueAfter struct {
	now, at time.Time
}

// change adds the last change's moments: its verification window closing and its cooldown ending.
func (d *dueAfter) change(lc *ChangeRecord, p policy.PacingSettings) {
	if lc == nil {
		return
	}
	if !lc.Verified && !lc.Reverted {
		window := p.VerificationWindow
		if !lc.SettledAt.IsZero() {
			d.add(lc.SettledAt.Add(window))
		} else {
			// A rollout that stalls is judged a window after the change; one that never settles, after
			// stalledFactor windows.
			d.add(lc.Time.Add(window))
			d.add(lc.Time.Add(stalledFactor * window))
		}
	}
	d.add(lc.Time.Add(p.Cooldown))
}

func (d *dueAfter) add(t time.Time) {
	if t.IsZero() || t.Before(d.now) {
		return
	}
	if t = t.Add(lookSlack); t.Before(d.at) {
		d.at = t
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
