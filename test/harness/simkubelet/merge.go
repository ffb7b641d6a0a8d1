package simkubelet

import (
	corev1 "k8s.io/api/core/v1"
)

// kubeletConditions are the pod conditions a 1.37 kubelet owns (pkg/kubelet/types/pod_status.go
// PodConditionsByKubelet, plus the feature-gated PodReadyToStartContainers and AllContainersRestarting). It
// replaces them with its own; every other condition (DisruptionTarget, readiness gates, ...) is kept.
var kubeletConditions = map[corev1.PodConditionType]bool{
	corev1.PodScheduled:              true,
	corev1.PodReady:                  true,
	corev1.PodInitialized:            true,
	corev1.ContainersReady:           true,
	corev1.PodResizeInProgress:       true,
	corev1.PodResizePending:          true,
	corev1.PodReadyToStartContainers: true,
	corev1.AllContainersRestarting:   true,
}

// mergeStatus returns the status to write: the simulated status, with the conditions and fields that other
// components own taken from the API server's current status (as the kubelet's status manager mergePodStatus
// does). Neither argument is modified; the result shares slices with both.
func mergeStatus(api, simulated *corev1.PodStatus) corev1.PodStatus {
	out := *simulated
	conds := make([]corev1.PodCondition, 0, len(api.Conditions)+len(simulated.Conditions))
	for _, c := range api.Conditions {
		if !kubeletConditions[c.Type] {
			conds = append(conds, c)
		}
	}
	for _, c := range simulated.Conditions {
		if kubeletConditions[c.Type] {
			conds = append(conds, c)
		}
	}
	out.Conditions = conds
	out.NominatedNodeName = api.NominatedNodeName
	out.ResourceClaimStatuses = api.ResourceClaimStatuses
	out.ExtendedResourceClaimStatus = api.ExtendedResourceClaimStatus
	out.NodeAllocatableResourceClaimStatuses = api.NodeAllocatableResourceClaimStatuses
	if out.Reason == "" && out.Message == "" {
		out.Reason, out.Message = api.Reason, api.Message
	}
	return out
}
