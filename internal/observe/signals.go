package observe

import (
	"math"
	"sort"
	"time"
)

// Signals is what the recommender needs to know about one container of a workload.
type Signals struct {
	Container string
	// Replicas is how many pods of the workload were looked at.
	Replicas int

	// Startup holds completed startup durations across revisions; Censored holds how long the starts killed
	// before completing ran. Both decay alike, so their weights compare recent starts.
	Startup  *Histogram
	Censored *Histogram
	// CensoredStarts is the recent (decayed) number of starts killed before completing, rounded.
	CensoredStarts int
	// StartLowerBound is the longest start killed before it completed: the start takes at least this long.
	StartLowerBound time.Duration
	// StartupResolution is how much a measured start may exceed the true one: the period of the probe that
	// saw it complete.
	StartupResolution time.Duration

	// Restarts counts restarts by cause in the current revision.
	Restarts map[Cause]int
	// TotalRestarts counts restarts by cause over everything observed.
	TotalRestarts map[Cause]int
	// RecentRestarts counts restarts by cause whose container ended in the RecentWindow (an hour) before now,
	// to the minute.
	RecentRestarts map[Cause]int
	// KillsAfterReady and KillsBeforeReady split the current revision's probe kills by whether the container
	// had been ready.
	KillsAfterReady  int
	KillsBeforeReady int
	// LivenessKillsPerHour is the recent rate of liveness kills of ready containers per in-service hour.
	LivenessKillsPerHour float64
	// LivenessFailures and ReadinessFailures count failed probes reported in the current revision (liveness:
	// of started containers only).
	LivenessFailures  int
	ReadinessFailures int
	// NearMissRuns counts runs of liveness failures that recovered without a kill; NearMissFailures the
	// failures in them; LivenessProbes estimates the liveness probes run on started containers.
	NearMissRuns     int
	NearMissFailures int
	LivenessProbes   float64
	// LivenessTimeoutShare and ReadinessTimeoutShare are the recent shares of failures that were timeouts.
	LivenessTimeoutShare  float64
	ReadinessTimeoutShare float64

	// Transitions counts Ready/NotReady switches of running, once-ready containers in the current revision;
	// TransitionsPerHour is their recent rate per in-service hour; InServiceHours is the time behind it.
	Transitions        int
	TransitionsPerHour float64
	InServiceHours     float64

	// CrashLoopBackOff counts the pods whose container was waiting in CrashLoopBackOff at the last look: the
	// kubelet's own word that it keeps exiting, also for restarts that happened before the observer watched.
	CrashLoopBackOff int

	// NotReady lists the running pods of this container that are not ready, with how long they have been so
	// and whether they were ever ready since their start.
	NotReady []NotReadyPod

	// CorrelatedKills is the largest number of distinct pods whose ready containers were killed by liveness
	// on error answers (not timeouts) within one CorrelationWindow.
	CorrelatedKills   int
	CorrelationWindow time.Duration
}

// NotReadyPod is a running pod whose container is not ready.
type NotReadyPod struct {
	Pod       string
	For       time.Duration
	EverReady bool
}

// RevisionSummary is what verification compares between two revisions.
type RevisionSummary struct {
	Hash string
	// PodHours is the observed pod lifetime; ProbeRestarts the probe-caused restarts in it.
	PodHours      float64
	ProbeRestarts int
	// Unavailability is the share of pod time after the first Ready spent not ready.
	Unavailability float64
}

// WaitingCrashLoopBackOff is the kubelet's waiting reason of a container it holds back before restarting it.
const WaitingCrashLoopBackOff = "CrashLoopBackOff"

// ContainerSignals computes the signals of one container from s at time now, for the current revision.
func ContainerSignals(s *State, container, revision string, now time.Time, cfg Config) Signals {
	sig := Signals{Container: container, Restarts: map[Cause]int{}, TotalRestarts: map[Cause]int{}, RecentRestarts: map[Cause]int{}}
	if cs := s.Containers[container]; cs != nil {
		cs.Startup.decay(now, cfg.StartupHalfLife)
		cs.Censored.decay(now, cfg.StartupHalfLife)
		sig.Startup, sig.Censored = &cs.Startup, &cs.Censored
		sig.CensoredStarts = int(math.Round(cs.Censored.Weight()))
		sig.StartLowerBound = cs.Censored.Quantile(1)
		sig.StartupResolution = time.Duration(cs.StartupResolution * float64(time.Second))
		for c, n := range cs.Restarts {
			sig.TotalRestarts[c] = n
		}
		cs.pruneRecent(now)
		for _, m := range cs.RecentRestarts {
			sig.RecentRestarts[m.Cause] += m.Count
		}
	} else {
		sig.Startup, sig.Censored = &Histogram{}, &Histogram{}
	}
	if rev := s.Revision(revision); rev != nil {
		if rc := rev.Containers[container]; rc != nil {
			rc.decay(now, cfg.RateHalfLife)
			for c, n := range rc.Restarts {
				sig.Restarts[c] = n
			}
			sig.KillsAfterReady, sig.KillsBeforeReady = rc.KillsAfterReady, rc.KillsBeforeReady
			sig.LivenessFailures, sig.ReadinessFailures = rc.LivenessFailures, rc.ReadinessFailures
			sig.NearMissRuns, sig.NearMissFailures, sig.LivenessProbes = rc.NearMissRuns, rc.NearMissFailures, rc.LivenessProbes
			sig.CorrelatedKills = rc.MaxCorrelated
			sig.Transitions = rc.Transitions
			sig.InServiceHours = rc.InServiceSeconds / 3600
			if hours := rc.RateInServiceSeconds / 3600; hours > 0 {
				sig.TransitionsPerHour = rc.RateTransitions / hours
				sig.LivenessKillsPerHour = rc.RateLivenessKills / hours
			}
			sig.LivenessTimeoutShare = share(rc.RateLivenessTimeouts, rc.RateLivenessErrors)
			sig.ReadinessTimeoutShare = share(rc.RateReadinessTimeouts, rc.RateReadinessErrors)
		}
	}
	for _, ps := range s.Pods {
		sig.Replicas++
		pc := ps.Containers[container]
		if pc != nil && pc.Waiting == WaitingCrashLoopBackOff {
			sig.CrashLoopBackOff++
		}
		if pc == nil || !pc.Running || pc.Ready || pc.NotReadySince.IsZero() {
			continue
		}
		sig.NotReady = append(sig.NotReady, NotReadyPod{Pod: ps.Name, For: now.Sub(pc.NotReadySince), EverReady: pc.EverReady})
	}
	sort.Slice(sig.NotReady, func(i, j int) bool { return sig.NotReady[i].Pod < sig.NotReady[j].Pod })
	sig.CorrelatedKills = max(sig.CorrelatedKills, correlated(s.Kills, container, cfg.CorrelationWindow))
	sig.CorrelationWindow = cfg.CorrelationWindow
	return sig
}

// correlated returns the largest number of distinct pods with a kill of container inside one window, counting
// only kills on error answers: timeouts spread over replicas are what a latency tail looks like, not a shared
// dependency.
func correlated(all []Kill, container string, window time.Duration) int {
	kills := make([]Kill, 0, len(all))
	for _, k := range all {
		if k.Container == container && !k.Timeouts {
			kills = append(kills, k)
		}
	}
	sort.Slice(kills, func(i, j int) bool { return kills[i].At.Before(kills[j].At) })
	best := 0
	for i, k := range kills {
		pods := map[string]bool{}
		for _, other := range kills[i:] {
			if other.At.Sub(k.At) > window {
				break
			}
			pods[other.Pod] = true
		}
		best = max(best, len(pods))
	}
	return best
}

// Summary describes one revision for verification.
func Summary(s *State, hash string) RevisionSummary {
	sum := RevisionSummary{Hash: hash}
	rev := s.Revision(hash)
	if rev == nil {
		return sum
	}
	sum.PodHours = rev.PodSeconds / 3600
	if rev.ServiceSeconds > 0 {
		sum.Unavailability = rev.ServiceNotReadySeconds / rev.ServiceSeconds
	}
	for _, rc := range rev.Containers {
		sum.ProbeRestarts += rc.Restarts[CauseLiveness] + rc.Restarts[CauseStartup]
	}
	return sum
}

func share(a, b float64) float64 {
	if a+b == 0 {
		return 0
	}
	return a / (a + b)
}
