package v1alpha1

// Condition types of a ProbePolicy.
const (
	// ConditionReady is True when the policy is valid and in force.
	ConditionReady = "Ready"
	// ConditionConflict is True when a workload the policy selects is also selected by another policy.
	ConditionConflict = "Conflict"
	// ConditionAttentionRequired is True when a workload shows a pattern probe-tuner will not tune blindly.
	ConditionAttentionRequired = "AttentionRequired"
	// ConditionCheckpointWritten is False when the policy's tuning state could not be checkpointed (too large
	// for a ConfigMap, or the write failed): it lives in memory only, and an operator restart loses it.
	ConditionCheckpointWritten = "CheckpointWritten"
)
