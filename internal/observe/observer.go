package observe

import (
	"time"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// Input is one look at a workload: its current Pods, the kubelet Events about them not yet processed, and the
// pod-template-hash of the Deployment's current revision.
type Input struct {
	Pods     []Pod
	Events   []KubeletEvent
	Revision string
	Now      time.Time
	// WatchedSince, when set, says the caller has watched the workload's pods without a break since then: every
	// change to them since led to a look. The time between two looks after it is credited in full to what the
	// first look saw; before it (or when it is zero) at most maxGap is.
	WatchedSince time.Time
}

// maxGap caps the time credited between two looks at a pod that the caller did not watch throughout, so a long
// pause of the observer (an operator restart) is not counted as time the pod was seen ready or not. It is also
// the longest time between two such looks that still counts as watching: a start is measured only when it
// completed between two looks at most maxGap apart, or while the caller watched throughout (see foldContainer).
const maxGap = 2 * time.Minute

// clockSlack is how much earlier than the observer's previous look an instance may have started and still count
// as started after it: the kubelet's timestamps have whole seconds, and the look read a cache a moment behind.
const clockSlack = 2 * time.Second

// credited is the time between a pod's last look and now that counts as spent as that look saw it: all of it
// when the pod was watched throughout, at most maxGap otherwise.
func credited(lastSeen, now, watchedSince time.Time) time.Duration {
	dt := max(now.Sub(lastSeen), 0)
	if !watchedThroughout(lastSeen, watchedSince) {
		dt = min(dt, maxGap)
	}
	return dt
}

// watchedThroughout says a look at since was followed by a look at every change until now: the caller has watched
// without a break since watchedSince, and since is not before it.
func watchedThroughout(since, watchedSince time.Time) bool {
	return !watchedSince.IsZero() && !since.IsZero() && !since.Before(watchedSince)
}

// Update folds one look at the workload into s.
func Update(s *State, in Input, cfg Config) {
	if s.Pods == nil {
		s.Pods = map[string]*PodState{}
	}
	s.RecheckAt = time.Time{}
	previousLook := s.UpdatedAt
	byName := make(map[string]*Pod, len(in.Pods))
	for i := range in.Pods {
		byName[in.Pods[i].Name] = &in.Pods[i]
	}
	s.foldEvents(in.Events, byName, in.Now, cfg)

	seen := make(map[string]bool, len(in.Pods))
	for i := range in.Pods {
		p := &in.Pods[i]
		uid := string(p.UID)
		seen[uid] = true
		ps := s.Pods[uid]
		if ps == nil {
			ps = &PodState{Name: p.Name, LastSeen: in.Now, Revision: p.Revision, firstLook: true}
			s.Pods[uid] = ps
		}
		// The previous look at this pod; for a pod new to the observer, the previous look at the workload: the
		// pod was not there then (or not yet in the cache), so what it did since happened between that look and
		// this one. Zero when the observer has never looked (a fresh state: installed, policy re-created,
		// checkpoint lost).
		since := ps.LastSeen
		if ps.firstLook {
			since, ps.firstLook = previousLook, false
		}
		s.foldPod(ps, p, since, in.Now, in.WatchedSince, credited(ps.LastSeen, in.Now, in.WatchedSince), cfg)
	}
	for uid := range s.Pods {
		if !seen[uid] {
			delete(s.Pods, uid)
		}
	}
	s.trackCorrelation(in.Revision, cfg)
	s.pruneKills(in.Now, cfg)
	s.pruneRevisions(in.Revision, cfg)
	s.UpdatedAt = in.Now
}

// foldEvents counts new kubelet Events: Killing Events mark probe kills to match with terminations; Unhealthy
// Events count probe failures by kind and by what they said.
func (s *State) foldEvents(events []KubeletEvent, pods map[string]*Pod, now time.Time, cfg Config) {
	if s.Events == nil {
		s.Events = map[string]EventMark{}
	}
	for _, e := range events {
		mark, known := s.Events[e.ID]
		count := max(e.Count, 1)
		if known && mark.Count >= count {
			continue
		}
		delta := int(count - mark.Count)
		s.Events[e.ID] = EventMark{Count: count, Seen: now}

		pod := pods[e.Pod]
		if pod == nil || e.Container == "" {
			continue
		}
		ps := s.Pods[string(pod.UID)]
		if ps == nil {
			ps = &PodState{Name: pod.Name, LastSeen: now, Revision: pod.Revision, firstLook: true}
			s.Pods[string(pod.UID)] = ps
		}
		switch e.Reason {
		case "Killing":
			if cause, ok := killCause(e.Message); ok {
				pc := ps.container(e.Container)
				pc.Kills = append(pc.Kills, KillMark{Cause: cause, At: e.Time})
			}
		case "Unhealthy":
			rc := s.revision(ps.Revision, now).container(e.Container)
			rc.decay(now, cfg.RateHalfLife)
			timeout := isTimeout(e.Message)
			kind := unhealthyKind(e.Message)
			if cause, kills := probeKillCause(kind); kills && !probeErrored(e.Message) {
				if probe := containerProbe(pod, e.Container, kind); probe != nil {
					ps.container(e.Container).FailRun.extend(cause, e.Time, delta, probePeriod(probe))
				}
			}
			switch kind {
			case probes.Readiness:
				rc.ReadinessFailures += delta
				if timeout {
					rc.RateReadinessTimeouts += float64(delta)
				} else {
					rc.RateReadinessErrors += float64(delta)
				}
			case probes.Liveness:
				pc := ps.container(e.Container)
				if !pc.StartCompleted {
					break // a start still in progress: its failures say nothing about transient blips
				}
				rc.LivenessFailures += delta
				if timeout {
					rc.RateLivenessTimeouts += float64(delta)
				} else {
					rc.RateLivenessErrors += float64(delta)
				}
				if pc.LiveRun > 0 && e.Time.Sub(pc.LiveRunLast) > 2*livenessPeriod(pod, e.Container) {
					closeNearMiss(pc, rc)
				}
				pc.LiveRun += delta
				if timeout {
					pc.LiveRunTimeouts += delta
				}
				pc.LiveRunLast = e.Time
			}
		}
	}
	for id, mark := range s.Events {
		if now.Sub(mark.Seen) > 2*time.Hour {
			delete(s.Events, id)
		}
	}
}

func (ps *PodState) container(name string) *PodContainer {
	if ps.Containers == nil {
		ps.Containers = map[string]*PodContainer{}
	}
	pc := ps.Containers[name]
	if pc == nil {
		pc = &PodContainer{}
		ps.Containers[name] = pc
	}
	return pc
}

// foldPod compares a pod's status with what was last seen of it; since is the observer's previous look at it
// (zero if none), watchedSince the caller's (observe.Input.WatchedSince), and dt the time since the last look
// credited to what was seen.
func (s *State) foldPod(ps *PodState, p *Pod, since, now, watchedSince time.Time, dt time.Duration, cfg Config) {
	// watched says what completed since the previous look at this pod completed between two looks close together,
	// or while every change was looked at: the time of this look bounds it.
	watched := !since.IsZero() && (now.Sub(since) <= maxGap || watchedThroughout(since, watchedSince))
	// bornWatched says the pod was created after the caller began watching the workload: all its restarts came
	// while watched, even those before this first look at it (a look delayed by a busy operator).
	bornWatched := since.IsZero() && !watchedSince.IsZero() && p.Created.After(watchedSince)
	ps.LastSeen = now
	rev := s.revision(ps.Revision, now)
	deleting := p.Deleting

	podReady := p.Ready
	if !deleting {
		rev.PodSeconds += dt.Seconds()
		if !ps.Ready {
			rev.NotReadySeconds += dt.Seconds()
		}
		if ps.EverReady {
			rev.ServiceSeconds += dt.Seconds()
			if !ps.Ready {
				rev.ServiceNotReadySeconds += dt.Seconds()
			}
		}
	}
	ps.Ready = podReady
	ps.EverReady = ps.EverReady || podReady

	// Native sidecars are folded exactly like app containers (they are probed, killed and restarted alike and
	// gate the pod's readiness); plain init containers are not in the view at all.
	for i := range p.Containers {
		if c := &p.Containers[i]; c.Status != nil {
			s.foldContainer(ps, rev, c, p, since, now, dt, watched, watched || bornWatched, deleting, cfg)
		}
	}
}

// recheckAt moves RecheckAt earlier to t.
func (s *State) recheckAt(t time.Time) {
	if s.RecheckAt.IsZero() || t.Before(s.RecheckAt) {
		s.RecheckAt = t
	}
}

// restartsOurs says that every restart the container shows beyond its record came while the workload was watched.
func (s *State) foldContainer(ps *PodState, rev *RevisionState, c *Container, p *Pod, since, now time.Time, dt time.Duration, watched, restartsOurs, deleting bool, cfg Config) {
	st := c.Status
	pc := ps.container(c.Name)
	cs := s.container(c.Name)
	rc := rev.container(c.Name)
	rc.decay(now, cfg.RateHalfLife)
	live, startup, readiness := c.Probes.Liveness, c.Probes.Startup, c.Probes.Readiness
	hasLiveness := live != nil
	hasStartup := startup != nil
	// A container looked at before, running or not (a checkpoint of an older version marked only containers
	// seen running). A crash-looping container spends most of its time waiting in CrashLoopBackOff and may never
	// be seen running: its restarts still count from the second look on. In a pod looked at before and watched
	// since, a container with no status at that look (still being scheduled or pulled) had not started then, and
	// a pod created while watched had no past: every restart it shows now is ours, however many a slow look let
	// pass.
	seen := pc.Seen || pc.ID != "" || restartsOurs

	// A termination since the last look: count it once its cause is known.
	if t := st.LastTermination; t != nil && t.FinishedAt.After(pc.LastFinishedAt) && st.RestartCount > pc.RestartCount && seen {
		ev := killEvidence{kills: pc.Kills, run: pc.FailRun, everStarted: pc.StartCompleted, podGrace: podTerminationGrace(p),
			liveness: live, startup: startup}
		verdict := classify(t, ev, now, cfg.EventGrace)
		if verdict.wait {
			// Look again on the next update, at the latest when the grace ends; nothing about this container is
			// advanced meanwhile.
			s.recheckAt(t.FinishedAt.Add(cfg.EventGrace))
			return
		}
		restarts := int(st.RestartCount - pc.RestartCount)
		s.countRestart(cs, rc, pc, ps, c.Name, verdict.cause, restarts, t, now, cfg.StartupHalfLife)
		pc.LastFinishedAt = t.FinishedAt
		pc.Kills, pc.FailRun = nil, FailRun{}
	}
	if !seen && st.LastTermination != nil {
		// First look at a container that restarted before it was watched: its past is not ours to count.
		pc.LastFinishedAt = st.LastTermination.FinishedAt
	}
	pc.RestartCount = st.RestartCount
	pc.Seen = true
	pc.Waiting = st.Waiting

	running := st.Running
	if running && st.ContainerID != pc.ID {
		pc.ID = st.ContainerID
		pc.StartedAt = st.RunningSince
		pc.EverReady, pc.StartCompleted, pc.StartRecorded, pc.Ready, pc.StartUnknown = false, false, false, false, false
		pc.NotReadySince = pc.StartedAt
		if !watched || pc.StartedAt.Before(since.Add(-clockSlack)) {
			inheritInstance(pc, c, p)
		}
	}
	pc.Running = running
	if !running {
		pc.Ready = false
		return
	}
	// A run of liveness failures that stopped without a kill recovered on its own: a near miss.
	if hasLiveness && pc.LiveRun > 0 && now.Sub(pc.LiveRunLast) > 2*probePeriod(live)+cfg.EventGrace {
		closeNearMiss(pc, rc)
	}
	if hasLiveness && pc.StartCompleted && !deleting {
		rc.LivenessProbes += dt.Seconds() / probePeriod(live).Seconds()
	}

	// Startup duration: to started when a startup probe gates the container, else to ready. A container with
	// neither is "ready" the moment it runs, which says nothing about its start: without a readiness probe the
	// start counts as complete once the container outlives its liveness probe's budget, and no duration is
	// measured.
	hasReadiness := readiness != nil
	var completed, measured bool
	switch {
	case hasStartup:
		completed = st.Started
		measured = completed
	case hasReadiness:
		completed, measured = st.Ready, st.Ready
	case hasLiveness:
		// Outliving the liveness budget says the start got past it, unless the probe is failing or has just
		// killed it: a killed container keeps running through its shutdown, past the budget, and a kill of a
		// start must not read as a kill of a started container.
		v := livenessBudget(live)
		failing := pc.FailRun.Failures > 0 && now.Sub(pc.FailRun.Last) <= 2*probePeriod(live)+cfg.EventGrace
		completed = !pc.StartedAt.IsZero() && now.Sub(pc.StartedAt) > v && len(pc.Kills) == 0 && !failing
	default:
		completed = true
	}
	if completed {
		pc.StartCompleted, pc.StartUnknown = true, false
	}
	// A start is measured only when its completion was seen between two recent looks (watched): the
	// instance was seen still starting at the previous look, or it started after that look (an instance
	// first seen having started before it was inherited, see inheritInstance). After a longer gap (an
	// operator down for a while with its checkpoint) the completion is only known to lie somewhere in the gap,
	// and the start is not measured at all.
	if measured && !pc.StartRecorded && !pc.StartedAt.IsZero() && !watched {
		pc.StartRecorded = true
	}
	if measured && !pc.StartRecorded && !pc.StartedAt.IsZero() {
		end := now
		if !hasStartup {
			if p.Ready && !p.ReadySince.Before(pc.StartedAt) {
				end = p.ReadySince
			}
		}
		cs.Startup.Add(end.Sub(pc.StartedAt), now, cfg.StartupHalfLife)
		cs.LastStartSeconds = end.Sub(pc.StartedAt).Seconds()
		if hasStartup {
			cs.StartupResolution = probePeriod(startup).Seconds()
		} else {
			cs.StartupResolution = probePeriod(readiness).Seconds()
		}
		pc.StartRecorded = true
	}

	// Flapping: ready switches, driven by a readiness probe, of an instance that has been ready before.
	if hasReadiness && st.Ready != pc.Ready && pc.EverReady && !deleting {
		rc.Transitions++
		rc.RateTransitions++
		cs.ReadyTransitions++
	}
	if hasReadiness && pc.EverReady && !deleting {
		rc.InServiceSeconds += dt.Seconds()
		rc.RateInServiceSeconds += dt.Seconds()
	}
	if st.Ready {
		pc.EverReady = true
		pc.NotReadySince = time.Time{}
	} else if pc.Ready || pc.NotReadySince.IsZero() {
		pc.NotReadySince = now
	}
	pc.Ready = st.Ready
}

// inheritInstance handles the first sight of a container instance that was already running at the observer's
// previous look, or that the observer was not watching when it started (no recent previous look: probe-tuner
// just installed, its policy re-created, its checkpoint lost or stale). How long its start took cannot be told:
// the kubelet exposes no time a startup probe succeeded, and the pod's Ready transition may be a later flap
// rather than the first Ready. Its age is no start either, so its start is never measured ("not at all"). What
// the kubelet says now still tells whether the start completed:
//   - with a startup probe, started is the instance's own one-way flag: started means completed; not yet
//     started means the start is still in progress, and its completion, seen by a later look, is measured;
//   - with a readiness probe (and no startup probe), ready means completed; not ready while the pod's Ready
//     condition has been False since before the instance started (a one-container pod) means never ready, a
//     start in progress whose first Ready will be seen; otherwise not ready may be a start or a flap, so
//     whether it completed is unknown (StartUnknown) until it is ready: a kill meanwhile is counted by cause
//     but neither as a killed start nor as a kill after ready;
//   - with only a liveness probe, outliving the probe's budget says it completed (foldContainer's rule works
//     from the instance's own start time);
//   - with no probe, a running container has started.
func inheritInstance(pc *PodContainer, c *Container, p *Pod) {
	st := c.Status
	pc.StartRecorded = true
	switch {
	case c.Probes.Startup != nil:
		pc.StartRecorded = st.Started
	case c.Probes.Readiness != nil && !st.Ready:
		if !p.Ready && !p.ReadySince.IsZero() && !p.ReadySince.After(pc.StartedAt.Add(clockSlack)) && len(p.Containers) == 1 {
			// The pod's Ready condition has been False since before this instance started, and the pod has no
			// other container that could have held it not ready while this one was ready: the instance has
			// never been ready, its start is in progress and its first Ready will be seen.
			pc.StartRecorded = false
			return
		}
		pc.StartUnknown = true
		// Not ready since the pod's Ready condition last went False, if that was after this instance started.
		if !p.Ready && p.ReadySince.After(pc.StartedAt) {
			pc.NotReadySince = p.ReadySince
		}
	}
}

// countRestart records restarts of one container with their cause.
func (s *State) countRestart(cs *ContainerState, rc *RevisionContainer, pc *PodContainer, ps *PodState, container string,
	cause Cause, restarts int, t *Termination, now time.Time, startupHalfLife time.Duration) {
	if cs.Restarts == nil {
		cs.Restarts = map[Cause]int{}
	}
	if rc.Restarts == nil {
		rc.Restarts = map[Cause]int{}
	}
	cs.Restarts[cause] += restarts
	rc.Restarts[cause] += restarts
	cs.markRestarts(cause, restarts, t.FinishedAt, now)
	// The run's failures say how the probe failed; when the kubelet sent no Unhealthy Event for it (it
	// rate-limits them per pod), the revision's recent failures stand in.
	timeouts := rc.RateLivenessTimeouts > rc.RateLivenessErrors
	if pc.LiveRun > 0 {
		timeouts = 2*pc.LiveRunTimeouts > pc.LiveRun
	}
	pc.LiveRun, pc.LiveRunTimeouts = 0, 0 // a run that ended in a restart is not a near miss
	if !cause.ProbeCaused() {
		return
	}
	// The instance that ended is the one last seen running, unless more than one restart happened unseen.
	sameInstance := restarts == 1 && (t.ContainerID == "" || t.ContainerID == pc.ID)
	if sameInstance && pc.StartUnknown {
		return // an inherited instance whose start may or may not have completed: neither a killed start nor a kill after ready
	}
	wasReady := sameInstance && pc.StartCompleted
	if wasReady {
		rc.KillsAfterReady += restarts
		if cause == CauseLiveness {
			rc.RateLivenessKills += float64(restarts)
			s.Kills = append(s.Kills, Kill{Pod: ps.Name, Container: container, At: t.FinishedAt, Timeouts: timeouts})
		}
		return
	}
	// Killed before it ever completed its start: a censored observation, the start takes longer than this.
	rc.KillsBeforeReady += restarts
	lived := t.FinishedAt.Sub(t.StartedAt)
	for i := 0; i < restarts; i++ {
		cs.Censored.Add(lived, now, startupHalfLife)
	}
}

// closeNearMiss records the current run of liveness failures as one that recovered without a kill.
func closeNearMiss(pc *PodContainer, rc *RevisionContainer) {
	rc.NearMissRuns++
	rc.NearMissFailures += pc.LiveRun
	pc.LiveRun, pc.LiveRunTimeouts = 0, 0
}

// livenessPeriod returns the liveness probe period of a pod's container, or the API default.
func livenessPeriod(p *Pod, container string) time.Duration {
	if probe := containerProbe(p, container, probes.Liveness); probe != nil {
		return probePeriod(probe)
	}
	return probes.DefaultPeriodSeconds * time.Second
}

// containerProbe returns the probe of kind k of a pod's app container or native sidecar, nil when it has none.
func containerProbe(p *Pod, container string, k probes.Kind) *Probe {
	if c := p.container(container); c != nil {
		return c.Probes.Get(k)
	}
	return nil
}

// podTerminationGrace is how long the kubelet lets a pod's containers stop after a kill: the pod's grace
// period, or the API default of 30 s.
func podTerminationGrace(p *Pod) time.Duration {
	if p.TerminationGracePeriodSeconds != nil {
		return time.Duration(*p.TerminationGracePeriodSeconds) * time.Second
	}
	return 30 * time.Second
}

// trackCorrelation remembers, per container of the current revision, the most replicas killed together, so that
// the finding outlives the kills list.
func (s *State) trackCorrelation(revision string, cfg Config) {
	rev := s.Revision(revision)
	if rev == nil {
		return
	}
	for name, rc := range rev.Containers {
		rc.MaxCorrelated = max(rc.MaxCorrelated, correlated(s.Kills, name, cfg.CorrelationWindow))
	}
}

func (s *State) pruneKills(now time.Time, cfg Config) {
	keep := s.Kills[:0]
	for _, k := range s.Kills {
		if now.Sub(k.At) <= 4*cfg.CorrelationWindow {
			keep = append(keep, k)
		}
	}
	s.Kills = keep
	if len(s.Kills) > 256 {
		s.Kills = s.Kills[len(s.Kills)-256:]
	}
}

// pruneRevisions keeps the current revision and the newest others, up to cfg.MaxRevisions.
func (s *State) pruneRevisions(current string, cfg Config) {
	for len(s.Revisions) > cfg.MaxRevisions {
		drop := 0
		if s.Revisions[0].Hash == current {
			drop = 1
		}
		s.Revisions = append(s.Revisions[:drop], s.Revisions[drop+1:]...)
	}
}

// probePeriod is a probe's period (the API default applied when the view was built).
func probePeriod(p *Probe) time.Duration {
	return time.Duration(p.PeriodSeconds) * time.Second
}

// livenessBudget is how long a liveness probe lets a container fail from its start before killing it, plus one
// period: a container that lives longer has passed the probe at least once.
func livenessBudget(p *Probe) time.Duration {
	return time.Duration(p.Budget()+p.PeriodSeconds) * time.Second
}
