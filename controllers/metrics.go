package controllers

import (
	appsv1 "k8s.io/api/apps/v1"

	"github.com/probetuner/probe-tuner/internal/metrics"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

// recordObservationMetrics adds what the last observation learned to the counters and the startup histogram.
func (r *ProbePolicyReconciler) recordObservationMetrics(d *appsv1.Deployment, s *observe.State, before counts) {
	for name, cs := range s.Containers {
		for _, cause := range observe.Causes {
			if n := cs.Restarts[cause] - before.restarts[name][cause]; n > 0 {
				metrics.Restarts.WithLabelValues(d.Namespace, d.Name, name, string(cause)).Add(float64(n))
			}
		}
		if n := cs.ReadyTransitions - before.transitions[name]; n > 0 {
			metrics.ReadyTransitions.WithLabelValues(d.Namespace, d.Name, name).Add(float64(n))
		}
		// Several starts completing in one observation are rare (one update per pod change); each is
		// reported with the newest start's duration.
		for i := before.starts[name]; i < cs.Startup.Count; i++ {
			metrics.StartupDuration.WithLabelValues(d.Namespace, d.Name, name).Observe(cs.LastStartSeconds)
		}
	}
}

// recordProbeMetrics shows current and recommended probe values, and the findings.
func (r *ProbePolicyReconciler) recordProbeMetrics(d *appsv1.Deployment, plan recommend.Plan) {
	var w metrics.Workload
	for _, c := range probes.Tunable(&d.Spec.Template.Spec) {
		cp := metrics.ContainerProbes{Container: c.Name, Current: map[probes.Kind]probes.Values{}}
		set := probes.ContainerSet(c)
		for _, k := range probes.Kinds {
			if p := set.Get(k); p != nil {
				cp.Current[k] = probes.Of(p)
			}
		}
		if rec, ok := plan.Probes[c.Name]; ok {
			cp.Recommended = map[probes.Kind]probes.Values{}
			for _, k := range probes.Kinds {
				if p := rec.Get(k); p != nil {
					cp.Recommended[k] = probes.Of(p)
				}
			}
		}
		w.Containers = append(w.Containers, cp)
	}
	for _, f := range plan.Findings {
		w.Findings = append(w.Findings, metrics.Finding{Container: f.Container, Reason: f.Reason, Severity: string(f.Severity)})
	}
	metrics.WorkloadsShown.Set(d.Namespace, d.Name, w)
}

// countAdjustments counts decided changes by direction.
func (r *ProbePolicyReconciler) countAdjustments(d *appsv1.Deployment, changes []probes.Change, action string) {
	for _, c := range changes {
		direction := "up"
		switch {
		case c.Field == probes.WholeProbe && c.To == 0:
			direction = "removed"
		case c.Field == probes.WholeProbe:
			direction = "added"
		case c.To < c.From:
			direction = "down"
		}
		metrics.Adjustments.WithLabelValues(d.Namespace, d.Name, c.Container, string(c.Probe), string(c.Field), direction, action).Inc()
	}
}

func (r *ProbePolicyReconciler) countRevert(d *appsv1.Deployment) {
	metrics.Reverts.WithLabelValues(d.Namespace, d.Name).Inc()
}
