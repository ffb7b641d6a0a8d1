package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// checkpointKey is the ConfigMap data key holding the JSON state.
const checkpointKey = "state.json"

// checkpointInterval bounds how often an unchanged-but-observing policy's state is written: an operator restart
// loses at most this much observation.
const checkpointInterval = 30 * time.Second

// Checkpoints keeps each policy's tuning state in memory and persists it in a ConfigMap named after the
// policy, owned by it (so it goes away with the policy).
type Checkpoints struct {
	// Reader reads ConfigMaps directly from the API server: they are not cached (probe-tuner would otherwise
	// watch every ConfigMap in the cluster).
	Reader client.Reader
	Writer client.Writer

	mu       sync.Mutex
	policies map[types.NamespacedName]*policyState
}

type policyState struct {
	workloads map[string]*tuner.WorkloadState
	savedAt   time.Time
	// pending holds decisions not yet in the policy's status: a status patch that fails must not lose them.
	pending []tuningv1alpha1.Decision
	// pendingApplied counts the changes applied but not yet counted in status.changesApplied.
	pendingApplied int
}

// checkpointName is the ConfigMap name for a policy.
func checkpointName(policy string) string { return "probe-tuner-" + policy }

// Load returns the policy's workload states, reading the checkpoint on first use.
func (c *Checkpoints) Load(ctx context.Context, pol *tuningv1alpha1.ProbePolicy) (map[string]*tuner.WorkloadState, error) {
	key := types.NamespacedName{Namespace: pol.Namespace, Name: pol.Name}
	c.mu.Lock()
	if c.policies == nil {
		c.policies = map[types.NamespacedName]*policyState{}
	}
	if ps, ok := c.policies[key]; ok {
		c.mu.Unlock()
		return ps.workloads, nil
	}
	c.mu.Unlock()

	workloads := map[string]*tuner.WorkloadState{}
	var cm corev1.ConfigMap
	err := c.Reader.Get(ctx, types.NamespacedName{Namespace: pol.Namespace, Name: checkpointName(pol.Name)}, &cm)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("reading the checkpoint of ProbePolicy %s: %w", key, err)
	default:
		if raw := cm.Data[checkpointKey]; raw != "" {
			if err := json.Unmarshal([]byte(raw), &workloads); err != nil {
				// A corrupt checkpoint costs what was learned, not the operator: start afresh.
				ctrl.LoggerFrom(ctx).Error(err, "Checkpoint is not valid JSON; observing the policy's workloads afresh",
					"probePolicy", klog.KObj(pol), "configMap", checkpointName(pol.Name))
				workloads = map[string]*tuner.WorkloadState{}
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.policies[key] = &policyState{workloads: workloads}
	return workloads, nil
}

// AddPending queues decisions (and a count of applied changes) for the policy's status, and returns everything
// queued so far.
func (c *Checkpoints) AddPending(key types.NamespacedName, decisions []tuningv1alpha1.Decision, applied int) ([]tuningv1alpha1.Decision, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.policies[key]
	if !ok {
		return decisions, applied
	}
	ps.pending = append(ps.pending, decisions...)
	ps.pendingApplied += applied
	return append([]tuningv1alpha1.Decision(nil), ps.pending...), ps.pendingApplied
}

// ClearPending forgets the queued decisions once the status holds them.
func (c *Checkpoints) ClearPending(key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.policies[key]; ok {
		ps.pending, ps.pendingApplied = nil, 0
	}
}

// Save writes the policy's state when force is set or the last write is older than the checkpoint interval.
func (c *Checkpoints) Save(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, now time.Time, force bool) error {
	key := types.NamespacedName{Namespace: pol.Namespace, Name: pol.Name}
	c.mu.Lock()
	ps, ok := c.policies[key]
	if !ok || (!force && now.Sub(ps.savedAt) < checkpointInterval) {
		c.mu.Unlock()
		return nil
	}
	data, err := json.Marshal(ps.workloads)
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encoding the checkpoint of ProbePolicy %s: %w", key, err)
	}
	owner := metav1ac.OwnerReference().WithAPIVersion(tuningv1alpha1.GroupVersion.String()).WithKind("ProbePolicy").
		WithName(pol.Name).WithUID(pol.UID).WithController(true).WithBlockOwnerDeletion(true)
	cm := corev1ac.ConfigMap(checkpointName(pol.Name), pol.Namespace).
		WithLabels(map[string]string{"app.kubernetes.io/managed-by": "probe-tuner", "probetuner.io/policy": pol.Name}).
		WithOwnerReferences(owner).
		WithData(map[string]string{checkpointKey: string(data)})
	if err := c.Writer.Apply(ctx, cm, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("writing the checkpoint of ProbePolicy %s: %w", key, err)
	}
	c.mu.Lock()
	ps.savedAt = now
	c.mu.Unlock()
	return nil
}

// Forget drops a deleted policy's state from memory and returns the workloads it tracked.
func (c *Checkpoints) Forget(key types.NamespacedName) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	if ps, ok := c.policies[key]; ok {
		for name := range ps.workloads {
			names = append(names, name)
		}
	}
	delete(c.policies, key)
	return names
}

// Prune drops the state of workloads the policy no longer selects: they stop being tracked.
func (c *Checkpoints) Prune(key types.NamespacedName, selected map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.policies[key]; ok {
		for name := range ps.workloads {
			if !selected[name] {
				delete(ps.workloads, name)
			}
		}
	}
}
