package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/status"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// checkpointKey is the ConfigMap data key holding the JSON state.
const checkpointKey = "state.json"

// checkpointVersion is the version of the checkpoint's JSON form written now:
// {"version":2,"workloads":{...},"decisions":[...]}. Version 1 (no decision history) and the unversioned form
// before it (the workloads map alone) are still read; a newer version is refused with an Event.
const checkpointVersion = 2

// checkpointInterval bounds how often an unchanged-but-observing policy's state is written: an operator restart
// loses at most this much observation.
const checkpointInterval = 30 * time.Second

// maxCheckpointBytes bounds the encoded state a checkpoint holds: a ConfigMap holds at most 1 MiB, data and
// metadata together, and the managed fields of a server-side apply repeat the keys.
const maxCheckpointBytes = 900 << 10

// Event reasons about checkpoints, recorded on the policy.
const (
	EventCheckpointUnreadable = "CheckpointUnreadable"
	EventCheckpointTooLarge   = "CheckpointTooLarge"
	// EventCheckpointInvalid says workloads' states in a readable checkpoint hold values outside their bounds
	// and were dropped (those workloads start afresh, the others are kept).
	EventCheckpointInvalid = "CheckpointInvalid"
	// EventCheckpointNotWritten says the checkpoint could not be written (API error).
	EventCheckpointNotWritten = "CheckpointNotWritten"
)

// checkpoint is the checkpoint's JSON form.
type checkpoint struct {
	// Version is checkpointVersion.
	Version int `json:"version"`
	// Workloads holds each tracked workload's state, by Deployment name.
	Workloads map[string]*tuner.WorkloadState `json:"workloads"`
	// Decisions is the policy's decision history, newest first, at most status.MaxDecisions (version 2 on). The
	// status shows it; it is never read back from the status, which anyone with status access can edit.
	Decisions []tuningv1alpha1.Decision `json:"decisions"`
	// Shards is the number of ConfigMaps the checkpoint spreads over, this one included (version 3; see
	// statestore_shards.go).
	Shards int `json:"shards,omitempty"`
	// ShardsOf is the UID of the policy that wrote the shards (version 3): their names and contents carry it.
	ShardsOf types.UID `json:"shardsOf,omitempty"`
	// history says Decisions was in the checkpoint: a checkpoint written before version 2 has none.
	history bool
}

// StateStore keeps each policy's workload states in memory and persists them, versioned, in a ConfigMap named
// after the policy and owned by it (so it goes away with the policy). A checkpoint that cannot be read costs what
// was learned, not the operator: the policy's workloads are observed afresh, and a Warning Event says so.
type StateStore struct {
	// Reader reads ConfigMaps directly from the API server: they are not cached (probe-tuner would otherwise
	// watch every ConfigMap in the cluster).
	Reader client.Reader
	// Writer writes the checkpoints.
	Writer CheckpointWriter
	// Recorder records the Warning Events about checkpoints on their policy; none when nil.
	Recorder recorder.EventRecorder
	// MaxBytes bounds the encoded state; maxCheckpointBytes when zero.
	MaxBytes int

	mu       sync.Mutex
	policies map[types.NamespacedName]*storedPolicy
}

// storedPolicy is what the store holds of one policy.
type storedPolicy struct {
	workloads map[string]*tuner.WorkloadState
	// decisions is the decision history; historyKnown says it is probe-tuner's own (from a version 2 checkpoint,
	// no checkpoint at all, or a status patched since), not yet to be taken from a status written by a release
	// that kept no history in its checkpoint.
	decisions    []tuningv1alpha1.Decision
	historyKnown bool
	savedAt      time.Time
	// deferred says the last save was not due yet and wrote nothing: what changed since the last write waits.
	deferred bool
	// triedAt is when a write was last tried.
	triedAt time.Time
	// tooLarge says the last save was refused for its size (its Event was recorded).
	tooLarge bool
	// failure is why the last save did not write the checkpoint; nil when it did (or none was due yet).
	failure *status.CheckpointFailure
	// shardCount is the number of ConfigMaps of the checkpoint last read or written; shardsWritten the content
	// hashes of the shards (1..) this process wrote, so that unchanged ones are not written again.
	shardCount    int
	shardsWritten map[int][32]byte
}

// checkpointName is the ConfigMap name for a policy.
func checkpointName(policy string) string { return "probe-tuner-" + policy }

// Load returns the policy's workload states, reading the checkpoint on first use. The map is the store's: the
// caller changes the states in place.
func (s *StateStore) Load(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, now time.Time) (map[string]*tuner.WorkloadState, error) {
	key := client.ObjectKeyFromObject(pol)
	s.mu.Lock()
	if sp, ok := s.policies[key]; ok {
		s.mu.Unlock()
		return sp.workloads, nil
	}
	s.mu.Unlock()

	// No checkpoint, or one that cannot be read, starts an empty history of probe-tuner's own.
	cp := checkpoint{Workloads: map[string]*tuner.WorkloadState{}, history: true}
	var cm corev1.ConfigMap
	err := s.Reader.Get(ctx, types.NamespacedName{Namespace: pol.Namespace, Name: checkpointName(pol.Name)}, &cm)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return nil, fmt.Errorf("reading the checkpoint of ProbePolicy %s: %w", key, err)
	default:
		if raw := cm.Data[checkpointKey]; raw != "" {
			decoded, err := decodeCheckpoint([]byte(raw))
			if err != nil {
				s.unreadable(ctx, pol, err)
			} else {
				cp = decoded
			}
			if cp.Shards > 1 {
				if err := s.loadShards(ctx, pol, cp.ShardsOf, cp.Shards, cp.Workloads); err != nil {
					return nil, err
				}
			}
			if invalid := dropInvalid(cp.Workloads, now); len(invalid) > 0 {
				s.invalid(ctx, pol, invalid)
			}
			cp.Decisions = validDecisions(cp.Decisions, now)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.policies == nil {
		s.policies = map[types.NamespacedName]*storedPolicy{}
	}
	// The shards a save may have to empty are this policy's own, not those of a policy deleted before it.
	shards := 1
	if cp.ShardsOf == pol.UID {
		shards = max(cp.Shards, 1)
	}
	s.policies[key] = &storedPolicy{workloads: cp.Workloads, decisions: cp.Decisions, historyKnown: cp.history, shardCount: shards}
	return cp.Workloads, nil
}

// History returns the policy's decision history, newest first, and whether it is probe-tuner's own; it is not
// when the policy was not loaded or its checkpoint predates the history (then the caller starts from the
// status, once).
func (s *StateStore) History(key types.NamespacedName) ([]tuningv1alpha1.Decision, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, ok := s.policies[key]
	if !ok || !sp.historyKnown {
		return nil, false
	}
	return slices.Clone(sp.decisions), true
}

// SetHistory keeps the decision history the status now shows; the next save checkpoints it.
func (s *StateStore) SetHistory(key types.NamespacedName, decisions []tuningv1alpha1.Decision) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sp, ok := s.policies[key]; ok {
		sp.decisions, sp.historyKnown = slices.Clone(decisions), true
	}
}

// maxClockSkew is how far ahead of this replica's clock a checkpointed decision may be dated: another replica
// may have made it.
const maxClockSkew = 5 * time.Minute

// validDecisions keeps at most status.MaxDecisions entries of a checkpointed history that are well formed: a
// known action and probe, a time not after now, names within the API's limits.
func validDecisions(in []tuningv1alpha1.Decision, now time.Time) []tuningv1alpha1.Decision {
	var out []tuningv1alpha1.Decision
	for _, d := range in {
		if len(out) == status.MaxDecisions {
			break
		}
		switch {
		case d.Time.IsZero(), d.Time.Time.After(now.Add(maxClockSkew)),
			!slices.Contains([]tuningv1alpha1.DecisionAction{tuningv1alpha1.DecisionApplied, tuningv1alpha1.DecisionRecommended,
				tuningv1alpha1.DecisionReverted, tuningv1alpha1.DecisionSkipped}, d.Action),
			!slices.Contains([]tuningv1alpha1.ProbeKind{tuningv1alpha1.ProbeStartup, tuningv1alpha1.ProbeLiveness, tuningv1alpha1.ProbeReadiness}, d.Probe),
			len(d.Workload) > 253, len(d.Container) > 63, len(d.Evidence) > 4096, len(d.ID) > 128:
			continue
		}
		out = append(out, d)
	}
	return out
}

// unreadable logs and records that the policy's checkpoint could not be read and its state starts afresh.
func (s *StateStore) unreadable(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, err error) {
	ctrl.LoggerFrom(ctx).Error(err, "Checkpoint cannot be read; observing the policy's workloads afresh",
		"probePolicy", klog.KObj(pol), "configMap", checkpointName(pol.Name))
	if s.Recorder == nil {
		return
	}
	s.Recorder.Eventf(pol, nil, corev1.EventTypeWarning, EventCheckpointUnreadable, "LoadCheckpoint",
		"%s", truncate(fmt.Sprintf("The checkpoint in ConfigMap %s cannot be read (%v). The tuning state was reset: what was observed of the "+
			"selected workloads (starts, restarts, readiness), their last change and its verification, and the reverted changes and hand "+
			"edits to leave alone are learned again from now, so recommendations wait for fresh evidence", checkpointName(pol.Name), err)))
}

// dropInvalid removes the states that hold values outside their bounds (see tuner.WorkloadState.Validate) and
// returns what was wrong with each, by workload.
func dropInvalid(workloads map[string]*tuner.WorkloadState, now time.Time) map[string]error {
	invalid := map[string]error{}
	for name, ws := range workloads {
		if err := ws.Validate(now); err != nil {
			invalid[name] = err
			delete(workloads, name)
		}
	}
	return invalid
}

// invalid logs, per workload, and records in one Warning Event that states in the policy's checkpoint were
// refused for values outside their bounds: those workloads are observed afresh, the others keep their state.
func (s *StateStore) invalid(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, invalid map[string]error) {
	names := make([]string, 0, len(invalid))
	for name := range invalid {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, name := range names {
		ctrl.LoggerFrom(ctx).Error(invalid[name], "Checkpointed state of a workload is out of bounds; observing it afresh",
			"probePolicy", klog.KObj(pol), "configMap", checkpointName(pol.Name), "workload", name)
		parts = append(parts, fmt.Sprintf("%s (%v)", name, invalid[name]))
	}
	if s.Recorder == nil {
		return
	}
	s.Recorder.Eventf(pol, nil, corev1.EventTypeWarning, EventCheckpointInvalid, "LoadCheckpoint", "%s",
		truncate(fmt.Sprintf("The checkpoint in ConfigMap %s holds values outside their bounds for %d workloads; their tuning state was "+
			"reset and is learned again from now, the other workloads keep theirs: %s", checkpointName(pol.Name), len(names), strings.Join(parts, "; "))))
}

// decodeCheckpoint reads a checkpoint in a versioned form, or in the unversioned form before them.
func decodeCheckpoint(raw []byte) (checkpoint, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return checkpoint{}, fmt.Errorf("not a JSON object: %w", err)
	}
	// In the versioned forms "version" is a number; in the old one every value is a workload's state, an object
	// (a Deployment may well be named "version").
	v, versioned := top["version"]
	if versioned && len(v) > 0 && v[0] != '{' {
		var cp checkpoint
		if err := json.Unmarshal(raw, &cp); err != nil {
			return checkpoint{}, fmt.Errorf("version %s: %w", v, err)
		}
		switch cp.Version {
		case 1:
			cp.Decisions, cp.Shards = nil, 0
		case checkpointVersion:
			cp.history, cp.Shards = true, 0
		case shardedCheckpointVersion:
			cp.history = true
			if cp.Shards < 1 {
				return checkpoint{}, fmt.Errorf("version %d names %d shards", cp.Version, cp.Shards)
			}
		default:
			return checkpoint{}, fmt.Errorf("version %d is not one of 1 to %d, the ones this probe-tuner reads (written by a newer release?)", cp.Version, shardedCheckpointVersion)
		}
		cp.Workloads = nonNil(cp.Workloads)
		return cp, nil
	}
	var legacy map[string]*tuner.WorkloadState
	if err := json.Unmarshal(raw, &legacy); err != nil {
		return checkpoint{}, fmt.Errorf("unversioned: %w", err)
	}
	return checkpoint{Workloads: nonNil(legacy)}, nil
}

// nonNil returns the states without nil entries ("name": null), as an empty map when there are none.
func nonNil(in map[string]*tuner.WorkloadState) map[string]*tuner.WorkloadState {
	out := make(map[string]*tuner.WorkloadState, len(in))
	for name, ws := range in {
		if ws != nil {
			out[name] = ws
		}
	}
	return out
}

// encodeCheckpoint writes the states and the decision history in the current version.
func encodeCheckpoint(workloads map[string]*tuner.WorkloadState, decisions []tuningv1alpha1.Decision) ([]byte, error) {
	if decisions == nil {
		decisions = []tuningv1alpha1.Decision{}
	}
	return json.Marshal(checkpoint{Version: checkpointVersion, Workloads: workloads, Decisions: decisions})
}

// Save writes the policy's state when force is set or the last write is older than the checkpoint interval. A
// state too large for a ConfigMap is not written: a Warning Event says so once, and the state lives on in memory.
func (s *StateStore) Save(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, now time.Time, force bool) error {
	key := client.ObjectKeyFromObject(pol)
	s.mu.Lock()
	sp, ok := s.policies[key]
	if !ok {
		s.mu.Unlock()
		return nil
	}
	if !force && now.Sub(sp.savedAt) < checkpointInterval {
		sp.deferred = true
		s.mu.Unlock()
		return nil
	}
	sp.deferred, sp.triedAt = false, now
	data, err := encodeCheckpoint(sp.workloads, sp.decisions)
	tracked := len(sp.workloads)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encoding the checkpoint of ProbePolicy %s: %w", key, err)
	}
	parts := [][]byte{data}
	if limit := s.limit(); len(data) > limit {
		s.mu.Lock()
		parts, err = split(pol, sp.workloads, sp.decisions, limit)
		s.mu.Unlock()
		if err != nil {
			s.tooLarge(ctx, pol, sp, len(data), limit, tracked, err)
			return nil
		}
	}
	// Shards first, the checkpoint that names them last: a crash in between leaves the old count, whose shards
	// hold states of this save or the one before, all valid.
	if err := s.writeShards(ctx, pol, sp, parts); err != nil {
		s.notWritten(ctx, pol, sp, fmt.Errorf("writing the checkpoint of ProbePolicy %s: %w", key, err))
		return nil
	}
	if err := s.Writer.ApplyCheckpoint(ctx, checkpointConfigMap(pol, checkpointName(pol.Name), parts[0])); err != nil {
		s.notWritten(ctx, pol, sp, fmt.Errorf("writing the checkpoint of ProbePolicy %s: %w", key, err))
		return nil
	}
	s.mu.Lock()
	sp.savedAt, sp.tooLarge, sp.failure = now, false, nil
	s.mu.Unlock()
	return nil
}

// SaveDue returns when the policy's state should be saved again although nothing forces it: at the checkpoint
// interval after the last write when the last save was deferred, after the last try when it failed, and zero when
// the checkpoint is up to date.
// Looks at a workload can be minutes apart; without this, what a deferred save held back would wait for them.
func (s *StateStore) SaveDue(key types.NamespacedName) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, ok := s.policies[key]
	switch {
	case !ok:
		return time.Time{}
	case sp.failure != nil:
		return sp.triedAt.Add(checkpointInterval)
	case sp.deferred:
		return sp.savedAt.Add(checkpointInterval)
	}
	return time.Time{}
}

// Failure returns why the policy's last save did not write its checkpoint, or nil when it did.
func (s *StateStore) Failure(key types.NamespacedName) *status.CheckpointFailure {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sp, ok := s.policies[key]; ok && sp.failure != nil {
		f := *sp.failure
		return &f
	}
	return nil
}

// notWritten logs a failed checkpoint write, keeps it for the status condition and records a Warning Event when
// the previous save had succeeded: the state lives on in memory, and the next save (at the checkpoint interval,
// on the policy's normal resync) tries again. The error is not returned: an error would put the policy on the
// work queue's back-off instead of its resync.
func (s *StateStore) notWritten(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, sp *storedPolicy, err error) {
	s.mu.Lock()
	first := sp.failure == nil || sp.failure.Reason != EventCheckpointNotWritten
	sp.failure = &status.CheckpointFailure{Reason: EventCheckpointNotWritten, Message: fmt.Sprintf("The checkpoint in ConfigMap %s could not be written (%v); "+
		"the tuning state is kept in memory and the write is tried again on the next resync. An operator restart before then loses what was observed "+
		"since the last checkpoint", checkpointName(pol.Name), err)}
	s.mu.Unlock()
	ctrl.LoggerFrom(ctx).Error(err, "Checkpoint not written; the tuning state is kept in memory", "probePolicy", klog.KObj(pol), "configMap", checkpointName(pol.Name))
	if first && s.Recorder != nil {
		s.Recorder.Eventf(pol, nil, corev1.EventTypeWarning, EventCheckpointNotWritten, "SaveCheckpoint", "%s", truncate(sp.failure.Message))
	}
}

func (s *StateStore) limit() int {
	if s.MaxBytes > 0 {
		return s.MaxBytes
	}
	return maxCheckpointBytes
}

// tooLarge logs and records, once until a save succeeds again, that the state is too large to checkpoint.
func (s *StateStore) tooLarge(ctx context.Context, pol *tuningv1alpha1.ProbePolicy, sp *storedPolicy, size, limit, tracked int, why error) {
	s.mu.Lock()
	first := !sp.tooLarge
	sp.tooLarge = true
	sp.failure = &status.CheckpointFailure{Reason: EventCheckpointTooLarge, Message: fmt.Sprintf("The tuning state of %d workloads is %d KiB and cannot be "+
		"checkpointed in at most %d ConfigMaps of %d KiB starting with %s (%v); it is kept in memory only, so an operator restart loses what was observed "+
		"since the last checkpoint. Split the policy's selector across several policies", tracked, size>>10, maxCheckpointShards, limit>>10, checkpointName(pol.Name), why)}
	message := sp.failure.Message
	s.mu.Unlock()
	if !first {
		return
	}
	ctrl.LoggerFrom(ctx).Info("Checkpoint too large; the tuning state is kept in memory only", "probePolicy", klog.KObj(pol),
		"configMap", checkpointName(pol.Name), "bytes", size, "limit", limit, "workloads", tracked)
	if s.Recorder == nil {
		return
	}
	s.Recorder.Eventf(pol, nil, corev1.EventTypeWarning, EventCheckpointTooLarge, "SaveCheckpoint", "%s", truncate(message))
}

// Forget drops a deleted policy's state from memory and returns the workloads it tracked.
func (s *StateStore) Forget(key types.NamespacedName) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	if sp, ok := s.policies[key]; ok {
		for name := range sp.workloads {
			names = append(names, name)
		}
	}
	delete(s.policies, key)
	return names
}

// Prune drops the state of workloads the policy no longer selects, and returns their names: they stop being
// tracked.
func (s *StateStore) Prune(key types.NamespacedName, selected map[string]bool) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pruned []string
	if sp, ok := s.policies[key]; ok {
		for name := range sp.workloads {
			if !selected[name] {
				delete(sp.workloads, name)
				pruned = append(pruned, name)
			}
		}
	}
	return pruned
}
