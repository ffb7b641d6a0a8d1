package v1alpha1

// Condition types of a ProbePolicy.
const (
	// ConditionReady is True when the policy is valid and in force.
	ConditionReady = "Ready"
	// ConditionConflict is True when a workload the policy selects is also selected by another policy.
	ConditionConflict = "Conflict"
	// ConditionAttentionRequired is True when a workload shows a pattern probe-tuner will not tune blindly.
	ConditionAttentionRequired = "AttentionRequired"
)
