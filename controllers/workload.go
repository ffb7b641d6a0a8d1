package controllers

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/status"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// workloadOutcome is what one workload contributed to the policy's reconcile.
type workloadOutcome struct {
	summary   status.Workload
	decisions []tuningv1alpha1.Decision
	// looked says the workload was looked at (its step ran, or it was only to be summarised): a look that failed
	// before its step keeps the previous summary.
	looked bool
	// changed says the tuning state changed in a way worth checkpointing at once.
	changed bool
	// retry says a write lost a race and the workload should be looked at again soon.
	retry bool
	// nextLook, when set, is when the workload must be looked at again if nothing about it changes before (see
	// tuner.NextLook).
	nextLook time.Time
}

// reconcileWorkload runs one tuning step for a Deployment: gather its pods, the kubelet's Events and the
// Deployment's revision, let tuner.StepWorkload decide, write what it decided, and record and summarise. What
// the step decided is recorded and returned even when its write fails (the hand edits and the adopted change
// found before it, new findings), with the write's error.
func (r *ProbePolicyReconciler) reconcileWorkload(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, s policy.Settings,
	d *appsv1.Deployment, ws *tuner.WorkloadState, now time.Time) (workloadOutcome, error) {
	log := ctrl.LoggerFrom(ctx).WithValues("probePolicy", klog.KObj(pol), "deployment", klog.KObj(d))
	out := workloadOutcome{summary: status.Workload{Name: d.Name}}
	pods, err := r.Pods.PodsOf(d.Namespace, d.Name)
	if err != nil {
		return out, err
	}
	events, err := r.Pods.EventsOf(d.Namespace, pods)
	if err != nil {
		return out, err
	}
	revision, rolling, err := r.currentRevision(ctx, types.NamespacedName{Namespace: pol.Namespace, Name: pol.Name}, d)
	if err != nil {
		return out, err
	}

	before := snapshotCounts(&ws.Observation)
	if ws.WatchedSince.IsZero() {
		// From this look on, every change to the workload's pods brings a look (see kubeletSource).
		ws.WatchedSince = now
	}
	look := tuner.WorkloadLook{Observe: observe.Input{Pods: observedPods(pods), Events: observedEvents(events), Revision: revision, Now: now,
		WatchedSince: ws.WatchedSince},
		Deployment: d, RolloutInProgress: rolling, Policy: pol.Name}
	step, err := tuner.StepWorkload(ws, look, s, r.ObserveConfig)
	r.recordObservationMetrics(d, &ws.Observation, before)
	if err != nil {
		return out, err
	}
	var written status.Write
	if step.Write {
		written = r.write(ctx, log, pol, d, ws, &step)
	}
	r.recordRejections(log, pol, d, step.Rejected)
	r.record(log, pol, d, &step)
	r.recordProbeMetrics(d, step.Action.Plan)
	out.looked = true
	out.decisions = step.Decisions()
	out.changed = step.Changed
	out.retry = written.Result == status.WriteLostRace
	out.summary = summarise(d, ws, step.Action, step.Facts, written, r.ObserveConfig, now)
	out.nextLook = step.NextLook
	return out, written.Err
}

// summarise describes the workload for the status.
func summarise(d *appsv1.Deployment, ws *tuner.WorkloadState, act tuner.Action, f tuner.Facts, written status.Write, cfg observe.Config, now time.Time) status.Workload {
	w := status.Workload{Name: d.Name, Findings: act.Plan.Findings}
	if ws.LastChange != nil {
		t := ws.LastChange.Time
		w.LastChangeTime = &t
	}
	for _, c := range f.Containers {
		sc := status.Container{Name: c.Name, Signals: observe.ContainerSignals(&ws.Observation, c.Name, f.Revision, now, cfg),
			Current: probes.Set{Startup: c.Startup, Liveness: c.Liveness, Readiness: c.Readiness}}
		if rec, ok := act.Plan.Probes[c.Name]; ok && act.Kind != tuner.Apply {
			sc.Recommended = &rec
		}
		w.Containers = append(w.Containers, sc)
	}
	w.State, w.Message = status.WorkloadState(act, f, ws, written)
	return w
}

// snapshotCounts records the totals the metrics are increased from.
type counts struct {
	restarts    map[string]map[observe.Cause]int
	starts      map[string]int
	transitions map[string]int
}

func snapshotCounts(s *observe.State) counts {
	c := counts{restarts: map[string]map[observe.Cause]int{}, starts: map[string]int{}, transitions: map[string]int{}}
	for name, cs := range s.Containers {
		c.restarts[name] = map[observe.Cause]int{}
		for cause, n := range cs.Restarts {
			c.restarts[name][cause] = n
		}
		c.starts[name] = cs.Startup.Count
		c.transitions[name] = cs.ReadyTransitions
	}
	return c
}
