package observe

import (
	"math"
	"time"
)

// State is everything the observer has learned about one workload. It is plain data, serialisable to JSON, so
// the caller can checkpoint it and restore it after a restart.
type State struct {
	// Containers holds what holds across pod-template revisions, by container name: startup times do not depend
	// on probe settings.
	Containers map[string]*ContainerState `json:"containers,omitempty"`
	// Revisions holds per-revision statistics, oldest first: restarts, failures and flapping depend on the probe
	// settings of the revision the pods ran.
	Revisions []*RevisionState `json:"revisions,omitempty"`
	// Pods tracks the pods being watched, by UID.
	Pods map[string]*PodState `json:"pods,omitempty"`
	// Events remembers the count already seen of each kubelet Event, so aggregated Events count once.
	Events map[string]EventMark `json:"events,omitempty"`
	// Kills lists recent liveness kills of containers that had been ready, for correlation across replicas.
	Kills []Kill `json:"kills,omitempty"`
	// UpdatedAt is the time of the last Update.
	UpdatedAt time.Time `json:"updatedAt,omitempty"`
	// RecheckAt, when set, is when the last Update left something undecided that time alone settles: a
	// termination waiting for its Killing Event. Whoever drives observation should look again then.
	RecheckAt time.Time `json:"-"`
}

// ContainerState is what is known of one container across revisions.
type ContainerState struct {
	// Startup holds completed startup durations: container start to started (with a startup probe) or ready.
	Startup Histogram `json:"startup"`
	// StartupResolution is the period, in seconds, of the probe that measured the last start: a measured start
	// can exceed the true one by up to this much, the wait for the next successful probe.
	StartupResolution float64 `json:"startupResolution,omitempty"`
	// LastStartSeconds is the duration of the most recent completed start.
	LastStartSeconds float64 `json:"lastStart,omitempty"`
	// Censored holds starts killed before they completed, by how long they ran: each only says the start takes
	// longer than that. It decays like Startup, so the two weigh recent starts alike.
	Censored Histogram `json:"censored"`
	// Restarts counts every restart ever observed, by cause.
	Restarts map[Cause]int `json:"restarts,omitempty"`
	// ReadyTransitions counts every Ready/NotReady switch of a running container after its first Ready.
	ReadyTransitions int `json:"readyTransitions,omitempty"`
	// RecentRestarts are the restarts of the last RecentWindow, one mark per cause and minute of the
	// container's end, oldest first; older marks are dropped. At most len(Causes) x 61 marks.
	RecentRestarts []RestartMark `json:"recentRestarts,omitempty"`
}

// RecentWindow is how far back ContainerState.RecentRestarts and Signals.RecentRestarts reach.
const RecentWindow = time.Hour

// RestartMark counts the restarts of one cause whose container ended in one minute.
type RestartMark struct {
	Cause Cause `json:"cause"`
	// Minute is the start of the minute the containers ended in (UTC, truncated to the minute).
	Minute time.Time `json:"minute"`
	Count  int       `json:"count"`
}

// markRestarts adds n restarts of cause, ended at the given time, and drops the marks older than RecentWindow
// before now.
func (c *ContainerState) markRestarts(cause Cause, n int, ended, now time.Time) {
	if ended.IsZero() || ended.After(now) {
		ended = now
	}
	minute := ended.UTC().Truncate(time.Minute)
	c.pruneRecent(now)
	for i := len(c.RecentRestarts) - 1; i >= 0; i-- {
		m := &c.RecentRestarts[i]
		if m.Minute.Equal(minute) && m.Cause == cause {
			m.Count += n
			return
		}
		if m.Minute.Before(minute) {
			break
		}
	}
	c.RecentRestarts = append(c.RecentRestarts, RestartMark{Cause: cause, Minute: minute, Count: n})
	// Terminations are seen about in order; a late one is put in its place.
	for i := len(c.RecentRestarts) - 1; i > 0 && c.RecentRestarts[i].Minute.Before(c.RecentRestarts[i-1].Minute); i-- {
		c.RecentRestarts[i], c.RecentRestarts[i-1] = c.RecentRestarts[i-1], c.RecentRestarts[i]
	}
}

// pruneRecent drops the marks of minutes that ended more than RecentWindow before now.
func (c *ContainerState) pruneRecent(now time.Time) {
	drop := 0
	for drop < len(c.RecentRestarts) && !c.RecentRestarts[drop].Minute.Add(time.Minute).After(now.Add(-RecentWindow)) {
		drop++
	}
	if drop > 0 {
		c.RecentRestarts = append(c.RecentRestarts[:0], c.RecentRestarts[drop:]...)
	}
	if len(c.RecentRestarts) == 0 {
		c.RecentRestarts = nil
	}
}

// RevisionState is what was observed of the pods of one pod-template revision.
type RevisionState struct {
	// Hash is the pod-template-hash label of the revision's pods.
	Hash string `json:"hash"`
	// FirstSeen is when a pod of the revision was first observed.
	FirstSeen time.Time `json:"firstSeen"`
	// PodSeconds is the observed lifetime of the revision's pods, summed.
	PodSeconds float64 `json:"podSeconds,omitempty"`
	// NotReadySeconds is the part of PodSeconds during which a pod was not Ready.
	NotReadySeconds float64 `json:"notReadySeconds,omitempty"`
	// ServiceSeconds is the lifetime of the revision's pods after they were first Ready; ServiceNotReadySeconds
	// the part of it spent not Ready. Unlike NotReadySeconds it leaves out the first start, so a new revision
	// is not judged worse for having just started.
	ServiceSeconds         float64 `json:"serviceSeconds,omitempty"`
	ServiceNotReadySeconds float64 `json:"serviceNotReadySeconds,omitempty"`
	// Containers holds per-container statistics of the revision.
	Containers map[string]*RevisionContainer `json:"containers,omitempty"`
}

// RevisionContainer holds one container's statistics within a revision. The Rate* fields fade with the rate
// half-life; the others are plain totals over the revision's life.
type RevisionContainer struct {
	Restarts         map[Cause]int `json:"restarts,omitempty"`
	KillsAfterReady  int           `json:"killsAfterReady,omitempty"`
	KillsBeforeReady int           `json:"killsBeforeReady,omitempty"`

	DecayedAt time.Time `json:"decayedAt,omitempty"`
	// Rate counters, decayed.
	RateTransitions       float64 `json:"rateTransitions,omitempty"`
	RateInServiceSeconds  float64 `json:"rateInServiceSeconds,omitempty"`
	RateLivenessKills     float64 `json:"rateLivenessKills,omitempty"`
	RateReadinessTimeouts float64 `json:"rateReadinessTimeouts,omitempty"`
	RateReadinessErrors   float64 `json:"rateReadinessErrors,omitempty"`
	RateLivenessTimeouts  float64 `json:"rateLivenessTimeouts,omitempty"`
	RateLivenessErrors    float64 `json:"rateLivenessErrors,omitempty"`
	// Transitions and InServiceSeconds are the undecayed totals behind the flapping rate.
	Transitions      int     `json:"transitions,omitempty"`
	InServiceSeconds float64 `json:"inServiceSeconds,omitempty"`
	// LivenessFailures counts failed liveness probes of started containers reported by the kubelet (Unhealthy
	// Events).
	LivenessFailures int `json:"livenessFailures,omitempty"`
	// NearMissRuns counts runs of liveness failures that ended without a kill (the container recovered on its
	// own); NearMissFailures the failures in them.
	NearMissRuns     int `json:"nearMissRuns,omitempty"`
	NearMissFailures int `json:"nearMissFailures,omitempty"`
	// LivenessProbes estimates the liveness probes run on started containers (running time / period).
	LivenessProbes float64 `json:"livenessProbes,omitempty"`
	// MaxCorrelated is the most pods whose ready containers were killed by liveness within one correlation
	// window, over the revision's life.
	MaxCorrelated int `json:"maxCorrelated,omitempty"`
	// ReadinessFailures counts failed readiness probes reported by the kubelet.
	ReadinessFailures int `json:"readinessFailures,omitempty"`
}

// decay fades the rate counters to now.
func (r *RevisionContainer) decay(now time.Time, halfLife time.Duration) {
	f, ok := decayTo(&r.DecayedAt, now, halfLife)
	if !ok {
		return
	}
	r.RateTransitions *= f
	r.RateInServiceSeconds *= f
	r.RateLivenessKills *= f
	r.RateReadinessTimeouts *= f
	r.RateReadinessErrors *= f
	r.RateLivenessTimeouts *= f
	r.RateLivenessErrors *= f
}

// decayTo moves a decay clock (the time values were last decayed to) on to now and returns the factor, by the
// half-life, that values must be multiplied by to fade from the old time to now. ok is false when nothing is to
// fade: a zero clock only starts at now, and a clock at or after now stays put (time never runs back for decay).
func decayTo(decayedAt *time.Time, now time.Time, halfLife time.Duration) (factor float64, ok bool) {
	if decayedAt.IsZero() || !now.After(*decayedAt) {
		if decayedAt.IsZero() {
			*decayedAt = now
		}
		return 0, false
	}
	factor = math.Exp2(-float64(now.Sub(*decayedAt)) / float64(halfLife))
	*decayedAt = now
	return factor, true
}

// PodState tracks one pod between updates.
type PodState struct {
	Name     string `json:"name"`
	Revision string `json:"revision,omitempty"`
	// Ready is the pod's Ready condition as last seen; EverReady says it has been Ready at least once.
	Ready     bool `json:"ready,omitempty"`
	EverReady bool `json:"everReady,omitempty"`
	// LastSeen is when the pod was last observed.
	LastSeen time.Time `json:"lastSeen"`
	// Containers tracks the pod's containers by name.
	Containers map[string]*PodContainer `json:"containers,omitempty"`
	// firstLook marks a pod added during the current Update (by an Event or its status): the previous look
	// that bounds what it did is then the previous look at the workload.
	firstLook bool
}

// PodContainer tracks one container instance of a pod.
type PodContainer struct {
	// ID is the current container instance's ID.
	ID           string `json:"id,omitempty"`
	RestartCount int32  `json:"restartCount,omitempty"`
	// StartedAt is when the current instance started running.
	StartedAt time.Time `json:"startedAt,omitempty"`
	// Running says the container was running when last seen; Ready is its ready flag then.
	Running bool `json:"running,omitempty"`
	Ready   bool `json:"ready,omitempty"`
	// EverReady says the current instance has been ready at least once.
	EverReady bool `json:"everReady,omitempty"`
	// StartCompleted says the current instance finished starting: its startup probe succeeded, or (without
	// one) its readiness probe did, or (with a liveness probe only) it outlived the liveness probe's budget.
	StartCompleted bool `json:"startCompleted,omitempty"`
	// StartRecorded says the current instance's startup duration was recorded, or will never be: its
	// completion was not seen between two recent looks (see inheritInstance).
	StartRecorded bool `json:"startRecorded,omitempty"`
	// StartUnknown says the current instance was first seen running but not ready, long after it started: it may
	// be starting or flapping. It clears once the instance is ready.
	StartUnknown bool `json:"startUnknown,omitempty"`
	// Seen says the container was looked at before (running or not), so a later termination is one the
	// observer saw happen.
	Seen bool `json:"seen,omitempty"`
	// Waiting is the reason the container was waiting at the last look (CrashLoopBackOff, ...), empty when it
	// was not waiting.
	Waiting string `json:"waiting,omitempty"`
	// NotReadySince is when the running instance last stopped being ready (or started), zero while ready.
	NotReadySince time.Time `json:"notReadySince,omitempty"`
	// LastFinishedAt is the finish time of the last termination already counted.
	LastFinishedAt time.Time `json:"lastFinishedAt,omitempty"`
	// Kills are Killing Events not yet matched to a termination.
	Kills []KillMark `json:"kills,omitempty"`
	// LiveRun counts the liveness failures of the current run; LiveRunLast is the time of its last failure.
	LiveRun     int       `json:"liveRun,omitempty"`
	LiveRunLast time.Time `json:"liveRunLast,omitempty"`
	// LiveRunTimeouts counts the failures of the current run that were timeouts rather than error answers.
	LiveRunTimeouts int `json:"liveRunTimeouts,omitempty"`
	// FailRun is the latest run of consecutive liveness or startup probe failures the kubelet reported, during
	// the start or after it: the evidence of a probe kill that does not wait for the Killing Event.
	FailRun FailRun `json:"failRun,omitzero"`
}

// FailRun is a run of consecutive failures of one killing probe (liveness or startup), from Unhealthy Events.
type FailRun struct {
	// Probe is CauseLiveness or CauseStartup: the probe that failed and the cause of the kill it leads to.
	Probe Cause `json:"probe,omitempty"`
	// Failures counts the failures reported; First and Last are when the first and last of them were seen.
	Failures int       `json:"failures,omitempty"`
	First    time.Time `json:"first,omitzero"`
	Last     time.Time `json:"last,omitzero"`
}

// extend adds n failures of probe at the given time: they continue the run unless another probe failed or more
// than two periods passed since its last failure (a success came in between).
func (r *FailRun) extend(probe Cause, at time.Time, n int, period time.Duration) {
	if r.Failures == 0 || r.Probe != probe || at.Sub(r.Last) > 2*period {
		*r = FailRun{Probe: probe, First: at}
	}
	r.Failures += n
	if at.After(r.Last) {
		r.Last = at
	}
}

// KillMark is a kubelet Killing Event for a probe failure.
type KillMark struct {
	Cause Cause     `json:"cause"`
	At    time.Time `json:"at"`
}

// Kill is a liveness kill of a container that had been ready.
type Kill struct {
	Pod       string    `json:"pod"`
	Container string    `json:"container"`
	At        time.Time `json:"at"`
	// Timeouts says the failures behind the kill were mostly timeouts (a slow answer) rather than error answers
	// (the endpoint said it is unhealthy). Only error answers at the same moments on many replicas point at a
	// shared dependency; timeouts on many replicas are also what a fleet-wide latency tail looks like.
	Timeouts bool `json:"timeouts,omitempty"`
}

// EventMark is the count of a kubelet Event already processed and when it was last seen.
type EventMark struct {
	Count int32     `json:"count"`
	Seen  time.Time `json:"seen"`
}

func (s *State) container(name string) *ContainerState {
	if s.Containers == nil {
		s.Containers = map[string]*ContainerState{}
	}
	c := s.Containers[name]
	if c == nil {
		c = &ContainerState{}
		s.Containers[name] = c
	}
	return c
}

// Revision returns the statistics of the revision with the given hash, or nil.
func (s *State) Revision(hash string) *RevisionState {
	for _, r := range s.Revisions {
		if r.Hash == hash {
			return r
		}
	}
	return nil
}

func (s *State) revision(hash string, now time.Time) *RevisionState {
	if r := s.Revision(hash); r != nil {
		return r
	}
	r := &RevisionState{Hash: hash, FirstSeen: now}
	s.Revisions = append(s.Revisions, r)
	return r
}

func (r *RevisionState) container(name string) *RevisionContainer {
	if r.Containers == nil {
		r.Containers = map[string]*RevisionContainer{}
	}
	c := r.Containers[name]
	if c == nil {
		c = &RevisionContainer{}
		r.Containers[name] = c
	}
	return c
}
