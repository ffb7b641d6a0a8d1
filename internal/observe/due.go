package observe

import "time"

// SettlesAt returns the earliest moment after now at which a look at the same pods would fold something
// differently by time alone, zero when there is none: a container with only a liveness probe outliving its
// budget (its start then counts as complete, and a later kill as a kill of a started container), and a run of
// liveness failures that stopped ending as a near miss (a kill after it would otherwise end it as no near miss).
// The termination still waiting for its Killing Event is RecheckAt. pods are the pods of the last Update.
func (s *State) SettlesAt(pods []Pod, now time.Time, cfg Config) time.Time {
	var at time.Time
	soonest := func(t time.Time) {
		if t.After(now) && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	for i := range pods {
		p := &pods[i]
		ps := s.Pods[string(p.UID)]
		if ps == nil || p.Deleting {
			continue
		}
		for j := range p.Containers {
			c := &p.Containers[j]
			pc := ps.Containers[c.Name]
			live := c.Probes.Liveness
			if pc == nil || !pc.Running || live == nil {
				continue
			}
			grace := 2*probePeriod(live) + cfg.EventGrace
			if pc.LiveRun > 0 {
				soonest(pc.LiveRunLast.Add(grace))
			}
			onlyLiveness := c.Probes.Startup == nil && c.Probes.Readiness == nil
			if onlyLiveness && !pc.StartCompleted && !pc.StartedAt.IsZero() && len(pc.Kills) == 0 {
				done := pc.StartedAt.Add(livenessBudget(live))
				if pc.FailRun.Failures > 0 {
					done = maxTime(done, pc.FailRun.Last.Add(grace))
				}
				soonest(done)
			}
		}
	}
	return at
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
