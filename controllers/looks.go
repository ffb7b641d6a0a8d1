package controllers

import (
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// workloadLooks remembers, per policy, each workload's last step and which workloads something happened to
// since. A policy is reconciled whenever one of its workloads' pods changes, and most of its other workloads
// then have nothing new: a workload whose pods, kubelet Events and Deployment are unchanged since its last step,
// and whose next look (tuner.NextLook: the earliest moment time alone changes anything about it) has not come,
// would be stepped to the same outcome. It keeps that outcome instead; stepping every workload of a policy on
// each pod update was most of the operator's CPU per update.
//
// Only the event sources know what changed, so a workload is left unstepped only when they mark changes
// (tracked, set when the controller is wired to them); a reconciler called on its own steps every workload.
type workloadLooks struct {
	mu       sync.Mutex
	tracked  bool
	policies map[types.NamespacedName]*policyLooks
}

type policyLooks struct {
	// uid and generation are the policy's at the last looks: another policy of the same name, or a changed
	// spec, has its workloads stepped afresh.
	uid        types.UID
	generation int64
	// changed names the workloads something happened to since their last step.
	changed map[string]bool
	last    map[string]lastLook
	// revisions holds each workload's current template hash by its revision number (see currentRevision); kept
	// across spec changes, dropped with the workload.
	revisions map[string]knownRevision
}

// lastLook is what a workload's last step found, and what it was taken on.
type lastLook struct {
	outcome workloadOutcome
	// deployment is what the step read of the Deployment: a change to it (spec, labels, annotations, whether it
	// is rolling out) has the workload stepped again; its status following its pods' readiness does not.
	deployment deploymentView
	// state is the tuning state stepped: a state loaded afresh (after a lost checkpoint) is stepped again.
	state *tuner.WorkloadState
}

// changed marks that something happened to a workload of the policy: its next reconcile steps it.
func (l *workloadLooks) changed(policy types.NamespacedName, deployment string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	pl := l.policy(policy)
	pl.changed[deployment] = true
}

func (l *workloadLooks) policy(key types.NamespacedName) *policyLooks {
	if l.policies == nil {
		l.policies = map[types.NamespacedName]*policyLooks{}
	}
	pl := l.policies[key]
	if pl == nil {
		pl = &policyLooks{changed: map[string]bool{}, last: map[string]lastLook{}, revisions: map[string]knownRevision{}}
		l.policies[key] = pl
	}
	return pl
}

// begin starts a reconcile of the policy: it returns the workloads marked changed since the last one (and clears
// the marks: a change during this reconcile marks them again), and drops every last look when the policy is
// another one or its spec changed.
func (l *workloadLooks) begin(pol *tuningv1alpha1.ProbePolicy) map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	pl := l.policy(types.NamespacedName{Namespace: pol.Namespace, Name: pol.Name})
	if pl.uid != pol.UID || pl.generation != pol.Generation {
		pl.uid, pl.generation, pl.last = pol.UID, pol.Generation, map[string]lastLook{}
	}
	changed := pl.changed
	pl.changed = map[string]bool{}
	return changed
}

// reuse returns the workload's last outcome when stepping it now would find nothing new: it was not marked
// changed, its Deployment and state are the ones stepped, and its next look has not come. The outcome carries no
// decision, write or change: those were the last step's.
func (l *workloadLooks) reuse(policy types.NamespacedName, d *appsv1.Deployment, ws *tuner.WorkloadState, changed map[string]bool, now time.Time) (workloadOutcome, bool) {
	if changed[d.Name] {
		return workloadOutcome{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.tracked {
		return workloadOutcome{}, false
	}
	last, ok := l.policy(policy).last[d.Name]
	if !ok || last.deployment != viewOf(d) || last.state != ws || last.outcome.nextLook.IsZero() || !now.Before(last.outcome.nextLook) {
		return workloadOutcome{}, false
	}
	return workloadOutcome{summary: last.outcome.summary, looked: true, nextLook: last.outcome.nextLook}, true
}

// remember keeps a step's outcome; a step that failed or lost a race is forgotten, so that it is taken again.
func (l *workloadLooks) remember(policy types.NamespacedName, d *appsv1.Deployment, ws *tuner.WorkloadState, out workloadOutcome, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	pl := l.policy(policy)
	if err != nil || out.retry || !out.looked {
		delete(pl.last, d.Name)
		return
	}
	pl.last[d.Name] = lastLook{outcome: out, deployment: viewOf(d), state: ws}
}

// forget drops a workload's last look: it was not stepped (only summarised), or is no longer selected.
func (l *workloadLooks) forget(policy types.NamespacedName, deployment string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if pl := l.policies[policy]; pl != nil {
		delete(pl.last, deployment)
	}
}

// forgetPolicy drops everything about a deleted policy.
func (l *workloadLooks) forgetPolicy(policy types.NamespacedName) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.policies, policy)
}

// prune drops the last looks of the workloads not selected.
func (l *workloadLooks) prune(policy types.NamespacedName, selected map[string]bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if pl := l.policies[policy]; pl != nil {
		for name := range pl.last {
			if !selected[name] {
				delete(pl.last, name)
			}
		}
		for name := range pl.revisions {
			if !selected[name] {
				delete(pl.revisions, name)
			}
		}
	}
}

// revision returns the workload's remembered current revision.
func (l *workloadLooks) revision(policy types.NamespacedName, deployment string) (knownRevision, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	known, ok := l.policy(policy).revisions[deployment]
	return known, ok
}

// rememberRevision keeps the workload's current revision until its revision number moves.
func (l *workloadLooks) rememberRevision(policy types.NamespacedName, deployment string, known knownRevision) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.policy(policy).revisions[deployment] = known
}
