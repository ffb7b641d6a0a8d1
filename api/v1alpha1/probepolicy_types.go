package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Mode says how far probe-tuner may go for the workloads a policy selects.
// +kubebuilder:validation:Enum=Off;Recommend;Auto
type Mode string

const (
	// ModeOff observes nothing and changes nothing; the policy only reports which workloads it selects.
	ModeOff Mode = "Off"
	// ModeRecommend observes and records recommendations in status and Events, and never writes a workload.
	ModeRecommend Mode = "Recommend"
	// ModeAuto applies recommendations to the selected Deployments' pod templates, within the policy's bounds
	// and pacing.
	ModeAuto Mode = "Auto"
)

// ProbePolicySpec selects Deployments and bounds how their probes may be tuned.
type ProbePolicySpec struct {
	// selector chooses the Deployments, in the policy's own namespace, whose probes this policy tunes.
	// It must not be empty: an empty selector would select every Deployment in the namespace.
	// +required
	// +kubebuilder:validation:XValidation:rule="(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)",message="selector must not be empty: set matchLabels or matchExpressions (an empty selector would select every Deployment in the namespace)"
	Selector metav1.LabelSelector `json:"selector"`

	// mode is how far probe-tuner may go: Off (report the selected workloads only), Recommend (observe and
	// record recommendations in status and Events, never write a workload) or Auto (apply the recommendations
	// to the Deployments' pod templates within the bounds and pacing below). Quote "Off" in YAML: a bare Off
	// is read as the boolean false.
	// +kubebuilder:default=Recommend
	// +optional
	Mode Mode `json:"mode,omitempty"`

	// containers limits tuning to the containers with these names. Empty means every container that has a
	// probe (or, for startup probes, a liveness probe). Native sidecars (initContainers with restartPolicy
	// Always) are containers like any other here; plain init containers are never tuned.
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=63
	// +optional
	Containers []string `json:"containers,omitempty"`

	// startup bounds how startup probes are sized, added and tightened.
	// +kubebuilder:default={}
	// +optional
	Startup StartupPolicy `json:"startup,omitempty"`

	// liveness bounds how liveness probes are tuned.
	// +kubebuilder:default={}
	// +optional
	Liveness LivenessPolicy `json:"liveness,omitempty"`

	// readiness bounds how readiness probes are tuned.
	// +kubebuilder:default={}
	// +optional
	Readiness ReadinessPolicy `json:"readiness,omitempty"`

	// pacing says how much evidence probe-tuner needs before acting and how fast it may change a workload.
	// +kubebuilder:default={}
	// +optional
	Pacing PacingPolicy `json:"pacing,omitempty"`
}

// StartupPolicy bounds the startup budget: the time a container may take to start before its startup probe
// (or, without one, its liveness probe) kills it. The budget is initialDelaySeconds + failureThreshold x
// periodSeconds.
type StartupPolicy struct {
	// targetPercentile is the percentile of observed startup durations that the startup budget must cover,
	// between 50 and 99.9, written as a number or a string ("99.5").
	// +kubebuilder:default=99
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]+)?$`
	// +kubebuilder:validation:XValidation:rule="double(self) >= 50.0 && double(self) <= 99.9",message="targetPercentile must be between 50 and 99.9"
	// +optional
	TargetPercentile *intstr.IntOrString `json:"targetPercentile,omitempty"`

	// safetyMargin multiplies the target percentile to give the startup budget, so a start a little slower than
	// any seen so far still succeeds. At least 1 (no margin), at most 10; a number or a string ("1.5").
	// +kubebuilder:default="1.5"
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]+)?$`
	// +kubebuilder:validation:XValidation:rule="double(self) >= 1.0",message="safetyMargin must be at least 1 (1 means no margin; 1.5 allows starts 50% slower than the target percentile)"
	// +kubebuilder:validation:XValidation:rule="double(self) <= 10.0",message="safetyMargin must be at most 10"
	// +optional
	SafetyMargin *intstr.IntOrString `json:"safetyMargin,omitempty"`

	// periodSeconds is the period of a startup probe that probe-tuner adds to a container that has none.
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=60
	// +optional
	PeriodSeconds int32 `json:"periodSeconds,omitempty"`

	// maxBudgetSeconds is the largest startup budget probe-tuner will ever set; it is also the budget given at
	// once to a container whose starts are killed before any start shows how long it needs. A container that
	// needs more is reported, not accommodated.
	// +kubebuilder:default=600
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=3600
	// +optional
	MaxBudgetSeconds int32 `json:"maxBudgetSeconds,omitempty"`

	// addWhenMissing allows probe-tuner to add a startup probe (with the liveness probe's handler) to a slow
	// starter that has none. When false, it raises the liveness probe's initialDelaySeconds instead.
	// +kubebuilder:default=true
	// +optional
	AddWhenMissing *bool `json:"addWhenMissing,omitempty"`
}

// LivenessPolicy bounds liveness probe tuning. Raising failureThreshold tolerates transient failures but delays
// the detection of a hung container; maxTimeToDetectSeconds caps that delay.
// +kubebuilder:validation:XValidation:rule="!has(self.minFailureThreshold) || !has(self.maxFailureThreshold) || self.minFailureThreshold <= self.maxFailureThreshold",message="liveness.minFailureThreshold must not be greater than liveness.maxFailureThreshold"
type LivenessPolicy struct {
	// minFailureThreshold is the lowest failureThreshold probe-tuner will set on a liveness probe.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MinFailureThreshold int32 `json:"minFailureThreshold,omitempty"`

	// maxFailureThreshold is the highest failureThreshold probe-tuner will set on a liveness probe.
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxFailureThreshold int32 `json:"maxFailureThreshold,omitempty"`

	// maxTimeToDetectSeconds is the longest a hung container may go undetected: probe-tuner keeps
	// failureThreshold x periodSeconds + timeoutSeconds of every liveness probe it writes at or below it.
	// +kubebuilder:default=120
	// +kubebuilder:validation:Minimum=5
	// +kubebuilder:validation:Maximum=3600
	// +optional
	MaxTimeToDetectSeconds int32 `json:"maxTimeToDetectSeconds,omitempty"`

	// maxTimeoutSeconds is the highest timeoutSeconds probe-tuner will set on a liveness probe.
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=60
	// +optional
	MaxTimeoutSeconds int32 `json:"maxTimeoutSeconds,omitempty"`
}

// ReadinessPolicy bounds readiness probe tuning against flapping: a Pod that goes Ready and NotReady over and over
// while it runs.
// +kubebuilder:validation:XValidation:rule="!has(self.minFailureThreshold) || !has(self.maxFailureThreshold) || self.minFailureThreshold <= self.maxFailureThreshold",message="readiness.minFailureThreshold must not be greater than readiness.maxFailureThreshold"
type ReadinessPolicy struct {
	// flappingTolerancePerHour is how many Ready/NotReady transitions per running hour a Pod may make before
	// probe-tuner treats its readiness as flapping.
	// +kubebuilder:default=6
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=3600
	// +optional
	FlappingTolerancePerHour int32 `json:"flappingTolerancePerHour,omitempty"`

	// minFailureThreshold is the lowest failureThreshold probe-tuner will set on a readiness probe.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MinFailureThreshold int32 `json:"minFailureThreshold,omitempty"`

	// maxFailureThreshold is the highest failureThreshold probe-tuner will set on a readiness probe.
	// +kubebuilder:default=6
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxFailureThreshold int32 `json:"maxFailureThreshold,omitempty"`

	// maxTimeoutSeconds is the highest timeoutSeconds probe-tuner will set on a readiness probe.
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=60
	// +optional
	MaxTimeoutSeconds int32 `json:"maxTimeoutSeconds,omitempty"`

	// maxSuccessThreshold is the highest successThreshold probe-tuner will set on a readiness probe, to make a
	// flapping Pod prove itself healthy several times before it receives traffic again.
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	// +optional
	MaxSuccessThreshold int32 `json:"maxSuccessThreshold,omitempty"`
}

// PacingPolicy says how much evidence probe-tuner needs and how fast it may change one workload.
type PacingPolicy struct {
	// minSamples is how many observations (completed starts, or running Pods watched for readiness) a decision
	// needs. A crash loop never completes a start; once this many starts were killed at the current budget, the
	// budget goes to startup.maxBudgetSeconds, and is tightened once completed starts show the target percentile.
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	MinSamples int32 `json:"minSamples,omitempty"`

	// cooldown is the least time between two changes to the same workload, at least one minute
	// (for example "10m" or "1h").
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="cooldown must be at least 1m, so that each change is observed before the next"
	// +optional
	Cooldown *metav1.Duration `json:"cooldown,omitempty"`

	// maxStepPercent is the largest change of one liveness or readiness field, or of a startup budget being
	// tightened, in one decision, in percent of its current value (a change of 1 is always allowed). 100 lets a
	// value at most double at a time, and fall as far as the evidence says; 50 lets it grow by half or fall by
	// half. A startup budget that kills starts is not bound by it: it grows as far as the evidence needs, up to
	// startup.maxBudgetSeconds, in one decision, because a too-short budget costs a crash loop and a too-long one
	// almost nothing.
	// +kubebuilder:default=100
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=1000
	// +optional
	MaxStepPercent int32 `json:"maxStepPercent,omitempty"`

	// verificationWindow is how long probe-tuner watches the new Pods after a change. If probe-caused
	// restarts do not fall, or availability gets worse, within it, the change is reverted and not retried.
	// +kubebuilder:default="10m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('30s')",message="verificationWindow must be at least 30s"
	// +optional
	VerificationWindow *metav1.Duration `json:"verificationWindow,omitempty"`
}

// ProbePolicyStatus is what probe-tuner observed and decided for the selected workloads.
type ProbePolicyStatus struct {
	// observedGeneration is the generation of the spec this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions describe the policy's state: Ready (the policy is valid and its workloads are being
	// observed), Conflict (a workload is also selected by another policy), AttentionRequired (a workload
	// shows a pattern probe-tuner will not tune blindly, such as correlated liveness failures) and
	// CheckpointWritten (False when the tuning state could not be saved to the policy's ConfigMap).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// workloadCount is how many Deployments the selector currently selects.
	// +optional
	WorkloadCount int32 `json:"workloadCount"`

	// changesApplied counts the probe changes this policy has written to the Deployments it selects (Auto mode
	// only), recomputed on each reconcile from probe-tuner's own record of each write, never added to what is stored.
	// +optional
	ChangesApplied int32 `json:"changesApplied"`

	// lastDecision summarises the most recent decision, for `kubectl get`.
	// +optional
	LastDecision string `json:"lastDecision,omitempty"`

	// lastDecisionTime is when the most recent decision was made.
	// +optional
	LastDecisionTime *metav1.Time `json:"lastDecisionTime,omitempty"`

	// workloads summarises, per selected Deployment and container, what was observed, the current probe
	// values and the recommended ones. The list is atomic, like decisions: probe-tuner alone writes the status,
	// always whole, and a keyed list would make the API server track every entry's fields in managedFields (they
	// were as large as the status itself, sent with every watch event and write).
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=500
	// +optional
	Workloads []WorkloadSummary `json:"workloads,omitempty"`

	// decisions lists the most recent decisions, newest first (at most 20).
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	// +optional
	Decisions []Decision `json:"decisions,omitempty"`
}

// WorkloadSummary is the state of one selected Deployment.
type WorkloadSummary struct {
	// name is the Deployment's name.
	Name string `json:"name"`

	// state is where the workload stands: Observing (gathering evidence), Stable (nothing to change),
	// Recommended (a change is recommended and not applied), Adjusting (a change is being written: it rolls
	// out, or its write lost a race, failed or gave way to a hand edit, as the message says), Verifying
	// (watching the new Pods), Paused (the Deployment carries probetuner.io/paused: "true"), Conflict (selected
	// by another policy too), AttentionRequired (a person must act) or Off (the policy's mode is Off).
	// +optional
	State WorkloadState `json:"state,omitempty"`

	// message explains the state in a sentence.
	// +optional
	Message string `json:"message,omitempty"`

	// lastChangeTime is when probe-tuner last wrote this Deployment's probes.
	// +optional
	LastChangeTime *metav1.Time `json:"lastChangeTime,omitempty"`

	// containers holds one summary per tuned container (atomic, as workloads).
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Containers []ContainerSummary `json:"containers,omitempty"`
}

// ContainerSummary is what was observed of one container and how its probes stand.
type ContainerSummary struct {
	// name is the container's name.
	Name string `json:"name"`

	// observed is what probe-tuner has seen this container do.
	// +optional
	Observed ObservedSignals `json:"observed,omitempty"`

	// current is the container's probes as the Deployment declares them now.
	// +optional
	Current ProbeSet `json:"current,omitempty"`

	// recommended is the probes probe-tuner recommends; absent when they equal current.
	// +optional
	Recommended *ProbeSet `json:"recommended,omitempty"`
}

// ObservedSignals are the evidence probe-tuner has gathered for one container of a workload.
type ObservedSignals struct {
	// startupSamples is how many completed starts were measured (start to started/ready).
	// +optional
	StartupSamples int32 `json:"startupSamples,omitempty"`

	// startupP50 is the median observed startup duration.
	// +optional
	StartupP50 *metav1.Duration `json:"startupP50,omitempty"`

	// startupP99 is the 99th percentile of observed startup durations.
	// +optional
	StartupP99 *metav1.Duration `json:"startupP99,omitempty"`

	// startupLowerBound is the longest start that was killed before it completed: the start takes at least
	// this long.
	// +optional
	StartupLowerBound *metav1.Duration `json:"startupLowerBound,omitempty"`

	// livenessKills counts restarts caused by a failed liveness probe.
	// +optional
	LivenessKills int32 `json:"livenessKills,omitempty"`

	// startupKills counts restarts caused by a failed startup probe.
	// +optional
	StartupKills int32 `json:"startupKills,omitempty"`

	// oomKills counts restarts caused by the container exceeding its memory limit (not a probe problem).
	// +optional
	OOMKills int32 `json:"oomKills,omitempty"`

	// crashes counts restarts after the application exited with an error on its own (not a probe problem).
	// +optional
	Crashes int32 `json:"crashes,omitempty"`

	// restartsLastHour counts, by cause, the restarts whose container ended in the hour before this status was
	// computed (to the minute); the counters above are totals over everything observed. Absent when nothing
	// was observed (mode Off).
	// +optional
	RestartsLastHour *RestartCounts `json:"restartsLastHour,omitempty"`

	// readyTransitionsPerHour is how often the container's Pods switch between Ready and NotReady per running
	// hour, as a decimal string with two significant digits.
	// +optional
	ReadyTransitionsPerHour string `json:"readyTransitionsPerHour,omitempty"`

	// stuckPods counts Pods running but not Ready for far longer than the workload's normal start.
	// +optional
	StuckPods int32 `json:"stuckPods,omitempty"`
}

// RestartCounts counts a container's restarts by cause.
type RestartCounts struct {
	// liveness counts restarts caused by a failed liveness probe.
	// +optional
	Liveness int32 `json:"liveness,omitempty"`
	// startup counts restarts caused by a failed startup probe.
	// +optional
	Startup int32 `json:"startup,omitempty"`
	// oom counts restarts caused by the container exceeding its memory limit.
	// +optional
	OOM int32 `json:"oom,omitempty"`
	// error counts restarts after the application exited with an error on its own.
	// +optional
	Error int32 `json:"error,omitempty"`
	// completed counts restarts after the application exited with code 0.
	// +optional
	Completed int32 `json:"completed,omitempty"`
}

// ProbeSet holds the tunable fields of a container's three probes; a nil probe is absent.
type ProbeSet struct {
	// startup is the startup probe.
	// +optional
	Startup *ProbeValues `json:"startup,omitempty"`
	// liveness is the liveness probe.
	// +optional
	Liveness *ProbeValues `json:"liveness,omitempty"`
	// readiness is the readiness probe.
	// +optional
	Readiness *ProbeValues `json:"readiness,omitempty"`
}

// ProbeValues are the timing fields of one probe.
type ProbeValues struct {
	// initialDelaySeconds is the delay after the container starts before the probe runs.
	// +optional
	InitialDelaySeconds int32 `json:"initialDelaySeconds,omitempty"`
	// periodSeconds is how often the probe runs.
	// +optional
	PeriodSeconds int32 `json:"periodSeconds,omitempty"`
	// timeoutSeconds is how long one probe attempt may take.
	// +optional
	TimeoutSeconds int32 `json:"timeoutSeconds,omitempty"`
	// successThreshold is how many consecutive successes mark the probe passing again.
	// +optional
	SuccessThreshold int32 `json:"successThreshold,omitempty"`
	// failureThreshold is how many consecutive failures mark the probe failed.
	// +optional
	FailureThreshold int32 `json:"failureThreshold,omitempty"`
}

// Decision is one thing probe-tuner decided about one probe field, with the evidence for it.
type Decision struct {
	// id identifies the decision; the same id is written on the Deployment's probetuner.io/last-change
	// annotation when the decision is applied.
	// +optional
	ID string `json:"id,omitempty"`
	// time is when the decision was made.
	Time metav1.Time `json:"time"`
	// workload is the Deployment's name.
	Workload string `json:"workload"`
	// container is the container's name.
	Container string `json:"container"`
	// probe is startup, liveness or readiness.
	Probe ProbeKind `json:"probe"`
	// field is the probe field, such as failureThreshold, or "probe" when a whole probe is added.
	Field string `json:"field"`
	// from is the value before the decision ("" when the probe was absent).
	// +optional
	From string `json:"from,omitempty"`
	// to is the value after the decision.
	To string `json:"to"`
	// action is Applied (written to the Deployment), Recommended (recommended and not written), Reverted
	// (undone after verification failed) or Skipped (the field is left alone, with the cause in reason, such
	// as ManualOverride).
	Action DecisionAction `json:"action"`
	// reason is a short CamelCase cause, such as StartupKilledBeforeReady or ReadinessFlapping.
	Reason string `json:"reason"`
	// evidence states the observations behind the decision in numbers.
	// +optional
	Evidence string `json:"evidence,omitempty"`
}

// WorkloadState is where a selected workload stands, as status.workloads[].state shows it.
// +kubebuilder:validation:Enum=Observing;Stable;Recommended;Adjusting;Verifying;Paused;Conflict;AttentionRequired;Off
type WorkloadState string

// Workload states.
const (
	// WorkloadObserving: probe-tuner is gathering evidence before it can recommend anything (or the policy is
	// invalid, and it only lists the workload).
	WorkloadObserving WorkloadState = "Observing"
	// WorkloadStable: the probes fit what was observed; nothing to change.
	WorkloadStable WorkloadState = "Stable"
	// WorkloadRecommended: a change is recommended and not applied (Recommend mode, a rollout, a cooldown).
	WorkloadRecommended WorkloadState = "Recommended"
	// WorkloadAdjusting: a change is being written: written and rolling out, or a write that lost a race,
	// failed or gave way to a hand edit and is decided again; the message says which.
	WorkloadAdjusting WorkloadState = "Adjusting"
	// WorkloadVerifying: the last change is rolled out and its new Pods are watched before it is kept.
	WorkloadVerifying WorkloadState = "Verifying"
	// WorkloadPaused: the Deployment carries probetuner.io/paused: "true"; nothing is written.
	WorkloadPaused WorkloadState = "Paused"
	// WorkloadConflict: an older policy selects the workload too, and it alone tunes it.
	WorkloadConflict WorkloadState = "Conflict"
	// WorkloadAttentionRequired: the workload shows a pattern a person must act on.
	WorkloadAttentionRequired WorkloadState = "AttentionRequired"
	// WorkloadOff: the policy's mode is Off; the workload is listed, neither observed nor changed.
	WorkloadOff WorkloadState = "Off"
)

// DecisionAction is what became of a decision.
// +kubebuilder:validation:Enum=Applied;Recommended;Reverted;Skipped
type DecisionAction string

// Decision actions.
const (
	// DecisionApplied: the change was written to the Deployment.
	DecisionApplied DecisionAction = "Applied"
	// DecisionRecommended: the change was recommended and not written (Recommend mode, or held back).
	DecisionRecommended DecisionAction = "Recommended"
	// DecisionReverted: an earlier change was undone after its verification failed.
	DecisionReverted DecisionAction = "Reverted"
	// DecisionSkipped: the field was left alone, with the cause in reason (such as a hand edit respected).
	DecisionSkipped DecisionAction = "Skipped"
)

// ProbeKind names one of a container's three probes.
// +kubebuilder:validation:Enum=startup;liveness;readiness
type ProbeKind string

// Probe kinds.
const (
	// ProbeStartup is the startup probe.
	ProbeStartup ProbeKind = "startup"
	// ProbeLiveness is the liveness probe.
	ProbeLiveness ProbeKind = "liveness"
	// ProbeReadiness is the readiness probe.
	ProbeReadiness ProbeKind = "readiness"
)

// ProbePolicy selects Deployments and bounds how probe-tuner tunes their liveness, readiness and startup probes
// from what their Pods actually do.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pp;probepol,categories=probetuner
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.mode`
// +kubebuilder:printcolumn:name="Workloads",type=integer,JSONPath=`.status.workloadCount`
// +kubebuilder:printcolumn:name="Changes",type=integer,JSONPath=`.status.changesApplied`
// +kubebuilder:printcolumn:name="Last Decision",type=string,JSONPath=`.status.lastDecision`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ProbePolicy struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec selects the Deployments and bounds the tuning.
	// +required
	Spec ProbePolicySpec `json:"spec"`

	// status is what probe-tuner observed and decided.
	// +optional
	Status ProbePolicyStatus `json:"status,omitempty"`
}

// ProbePolicyList is a list of ProbePolicies.
//
// +kubebuilder:object:root=true
type ProbePolicyList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the ProbePolicies.
	Items []ProbePolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ProbePolicy{}, &ProbePolicyList{})
}
