package controllers

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// policyScope is everything one reconcile of a policy works on: what was gathered before the phases run, and
// what the phases found.
type policyScope struct {
	// policy is the policy as read; its status is the previous one.
	policy *tuningv1alpha1.ProbePolicy
	// key names the policy.
	key types.NamespacedName
	// settings are the policy's resolved settings, and specErr what makes its spec invalid.
	settings policy.Settings
	specErr  error
	// deployments are the Deployments the selector matches, by name.
	deployments []appsv1.Deployment
	// acting names, per Deployment, the policy that acts on it (the oldest selecting it).
	acting map[string]string
	// states are the tracked workloads' states, the store's own (changed in place).
	states map[string]*tuner.WorkloadState
	// now is the time of the reconcile.
	now time.Time

	// changed names the workloads marked changed since the policy's last reconcile (see workloadLooks).
	changed map[string]bool
	// outcomes holds one outcome per Deployment, in order, failed ones included.
	outcomes []workloadOutcome
	// errs are the errors of the workloads and phases, each naming its workload.
	errs []error
	// requeue is when the policy is looked at again.
	requeue requeueAfter
	// skipCheckpoint says the status does not hold this reconcile's decisions: the checkpoint waits.
	skipCheckpoint bool
	// historyChanged says the status patched a decision history the checkpoint does not hold yet: it is written now.
	historyChanged bool
}

// newScope gathers the policy's settings, its Deployments, the policies acting on them and their states. An
// error here leaves nothing to work on: nothing is written.
func (r *ProbePolicyReconciler) newScope(ctx context.Context, pol *tuningv1alpha1.ProbePolicy) (*policyScope, error) {
	sc := &policyScope{policy: pol, key: types.NamespacedName{Namespace: pol.Namespace, Name: pol.Name}, now: r.Clock.Now()}
	sc.settings, sc.specErr = policy.Resolve(pol.Spec)
	var err error
	if !r.index.fed {
		if err := r.index.syncNamespace(ctx, r.Client, pol.Namespace); err != nil {
			return nil, err
		}
	}
	r.index.refreshPolicy(pol)
	if sc.deployments, err = r.selectedDeployments(ctx, pol); err != nil {
		return nil, err
	}
	sc.acting = r.actingPolicies(pol.Namespace, sc.deployments)
	if sc.states, err = r.States.Load(ctx, pol, sc.now); err != nil {
		return nil, err
	}
	sc.requeue = requeueAfter{now: sc.now}
	if len(sc.deployments) > 0 && sc.settings.Mode != tuningv1alpha1.ModeOff {
		// The safety look: each workload stepped asks for its own next look (at most this far away); the others
		// (in conflict, or under an invalid spec) are summarised again at least this often.
		sc.requeue.within(tuner.SafetyLookInterval)
	}
	return sc, nil
}
