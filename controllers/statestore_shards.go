package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

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

// A policy whose state outgrows one ConfigMap spreads it over shards: the checkpoint ConfigMap (shard 0) keeps the
// version, the decision history, the number of shards and the first workloads; shards 1.. hold the others. Up to
// one ConfigMap the form stays version 2, which earlier releases read.
const (
	// shardedCheckpointVersion is the version of a checkpoint spread over more than one ConfigMap.
	shardedCheckpointVersion = 3
	// maxCheckpointShards bounds the ConfigMaps of one policy's checkpoint (about 14 MiB of state).
	maxCheckpointShards = 16
)

// shard is the JSON form of checkpoint shard 1.. .
type shard struct {
	Version int `json:"version"`
	// Index is the shard's number, Of the number of ConfigMaps of the checkpoint when it was written.
	Index int `json:"shard"`
	Of    int `json:"of"`
	// Policy is the UID of the policy whose state it holds: a shard is read only by it.
	Policy    types.UID                       `json:"policyUID"`
	Workloads map[string]*tuner.WorkloadState `json:"workloads"`
}

// shardName is the ConfigMap of the policy's checkpoint shard i (1..). The suffix carries a hash of the policy's
// UID, so that no other policy's checkpoint has that name (a policy named "caches-1" has "probe-tuner-caches-1").
func shardName(pol *tuningv1alpha1.ProbePolicy, i int) string {
	return shardNameOf(pol.Name, pol.UID, i)
}

func shardNameOf(policy string, uid types.UID, i int) string {
	sum := sha256.Sum256([]byte(uid))
	return fmt.Sprintf("%s-shard-%d-%s", checkpointName(policy), i, hex.EncodeToString(sum[:])[:8])
}

// split spreads the workloads over as few ConfigMaps as hold them, each encoded within limit bytes, in name order:
// the checkpoint (with the decision history) first, then the shards. It fails when a workload alone does not fit
// or more than maxCheckpointShards are needed.
func split(pol *tuningv1alpha1.ProbePolicy, workloads map[string]*tuner.WorkloadState, decisions []tuningv1alpha1.Decision, limit int) ([][]byte, error) {
	names := make([]string, 0, len(workloads))
	for name := range workloads {
		names = append(names, name)
	}
	sort.Strings(names)
	// Room is what a part's workloads may take: the limit less its other fields (a generous bound).
	history, err := json.Marshal(decisions)
	if err != nil {
		return nil, err
	}
	const frame = 256
	var parts []map[string]*tuner.WorkloadState
	part, used, room := map[string]*tuner.WorkloadState{}, 0, limit-frame-len(history)
	for _, name := range names {
		raw, err := json.Marshal(workloads[name])
		if err != nil {
			return nil, err
		}
		size := len(raw) + len(name) + 4
		if size > limit-frame {
			return nil, fmt.Errorf("the state of workload %s alone is %d KiB", name, size>>10)
		}
		if used+size > room && len(part) > 0 || size > room {
			parts = append(parts, part)
			part, used, room = map[string]*tuner.WorkloadState{}, 0, limit-frame
		}
		part[name], used = workloads[name], used+size
	}
	parts = append(parts, part)
	if len(parts) > maxCheckpointShards {
		return nil, fmt.Errorf("it needs %d ConfigMaps, more than %d", len(parts), maxCheckpointShards)
	}
	out := make([][]byte, len(parts))
	for i, p := range parts {
		if i == 0 {
			out[i], err = json.Marshal(checkpoint{Version: shardedCheckpointVersion, Workloads: p, Decisions: nonNilDecisions(decisions), Shards: len(parts), ShardsOf: pol.UID})
		} else {
			out[i], err = json.Marshal(shard{Version: shardedCheckpointVersion, Index: i, Of: len(parts), Policy: pol.UID, Workloads: p})
		}
		if err != nil {
			return nil, err
		}
		if len(out[i]) > limit {
			return nil, fmt.Errorf("part %d of the state is %d KiB", i, len(out[i])>>10)
		}
	}
	return out, nil
}

func nonNilDecisions(d []tuningv1alpha1.Decision) []tuningv1alpha1.Decision {
	if d == nil {
		return []tuningv1alpha1.Decision{}
	}
	return d
}

// loadShards reads shards 1..n-1 of the policy's checkpoint, written by the policy of UID uid (another than pol's
// when pol was deleted and created again under its name and the checkpoint is still there), into workloads. A shard
// that is missing, unreadable or another policy's costs the states it held (one Warning Event names them all), not
// the others'; an API error is returned.
func (s *StateStore) loadShards(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, uid types.UID, n int, workloads map[string]*tuner.WorkloadState) error {
	if n > maxCheckpointShards {
		s.shardsUnreadable(ctx, pol, []string{fmt.Sprintf("%s names %d shards, more than the %d probe-tuner writes", checkpointName(pol.Name), n, maxCheckpointShards)})
		return nil
	}
	var bad []string
	defer func() { s.shardsUnreadable(ctx, pol, bad) }()
	for i := 1; i < n; i++ {
		name := shardNameOf(pol.Name, uid, i)
		var cm corev1.ConfigMap
		err := s.Reader.Get(ctx, types.NamespacedName{Namespace: pol.Namespace, Name: name}, &cm)
		switch {
		case apierrors.IsNotFound(err):
			bad = append(bad, name+" does not exist")
			continue
		case err != nil:
			return fmt.Errorf("reading checkpoint shard %s of ProbePolicy %s: %w", name, client.ObjectKeyFromObject(pol), err)
		}
		var sh shard
		if err := json.Unmarshal([]byte(cm.Data[checkpointKey]), &sh); err != nil {
			bad = append(bad, fmt.Sprintf("%s is not JSON (%v)", name, err))
			continue
		}
		if sh.Version != shardedCheckpointVersion || sh.Index != i || sh.Policy != uid {
			bad = append(bad, fmt.Sprintf("%s is version %d shard %d of policy UID %q, not version %d shard %d of %q",
				name, sh.Version, sh.Index, sh.Policy, shardedCheckpointVersion, i, uid))
			continue
		}
		for w, ws := range sh.Workloads {
			if _, dup := workloads[w]; !dup && ws != nil {
				workloads[w] = ws
			}
		}
	}
	return nil
}

// shardsUnreadable logs each shard of the checkpoint that could not be read and records one Warning Event for
// them all: the workloads they held start afresh.
func (s *StateStore) shardsUnreadable(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, why []string) {
	if len(why) == 0 {
		return
	}
	for _, w := range why {
		ctrl.LoggerFrom(ctx).Error(errors.New(w), "Checkpoint shard cannot be read; its workloads are observed afresh", "probePolicy", klog.KObj(pol))
	}
	if s.Recorder == nil {
		return
	}
	s.Recorder.Eventf(pol, nil, corev1.EventTypeWarning, EventCheckpointUnreadable, "LoadCheckpoint", "%s",
		truncate(fmt.Sprintf("%d checkpoint shards cannot be read: %s. The tuning state of the workloads they held was reset and is learned "+
			"again from now; the other workloads keep theirs", len(why), strings.Join(why, "; "))))
}

// writeShards writes shards 1.. of a sharded checkpoint, those whose content changed since the last write, and
// empties the shards a smaller state no longer uses. The checkpoint ConfigMap itself, which names the number of
// shards, is written after them by the caller.
func (s *StateStore) writeShards(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, sp *storedPolicy, parts [][]byte) error {
	s.mu.Lock()
	written, before := sp.shardsWritten, sp.shardCount
	s.mu.Unlock()
	sums := map[int][32]byte{}
	for i := 1; i < max(len(parts), before); i++ {
		data := []byte(`{"version":3,"shard":` + fmt.Sprint(i) + `,"of":` + fmt.Sprint(len(parts)) + `,"policyUID":"` + string(pol.UID) + `","workloads":{}}`)
		if i < len(parts) {
			data = parts[i]
		}
		sum := sha256.Sum256(data)
		if prev, ok := written[i]; ok && prev == sum {
			sums[i] = sum
			continue
		}
		if err := s.Writer.ApplyCheckpoint(ctx, checkpointConfigMap(pol, shardName(pol, i), data)); err != nil {
			return fmt.Errorf("writing checkpoint shard %s: %w", shardName(pol, i), err)
		}
		sums[i] = sum
	}
	s.mu.Lock()
	sp.shardsWritten, sp.shardCount = sums, len(parts)
	s.mu.Unlock()
	return nil
}

// checkpointConfigMap is the apply configuration of a checkpoint ConfigMap of the policy, owned by it.
func checkpointConfigMap(pol *tuningv1alpha1.ProbePolicy, name string, data []byte) *corev1ac.ConfigMapApplyConfiguration {
	owner := metav1ac.OwnerReference().WithAPIVersion(tuningv1alpha1.GroupVersion.String()).WithKind("ProbePolicy").
		WithName(pol.Name).WithUID(pol.UID).WithController(true).WithBlockOwnerDeletion(true)
	return corev1ac.ConfigMap(name, pol.Namespace).
		WithLabels(map[string]string{"app.kubernetes.io/managed-by": "probe-tuner", "probetuner.io/policy": pol.Name}).
		WithOwnerReferences(owner).
		WithData(map[string]string{checkpointKey: string(data)})
}
