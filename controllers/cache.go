package controllers

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Cache indexes.
const (
	// indexPodDeployment indexes Pods by the name of the Deployment that owns them through a ReplicaSet.
	indexPodDeployment = "probetuner.io/deployment"
	// indexRSDeployment indexes ReplicaSets by the name of the Deployment that owns them.
	indexRSDeployment = "probetuner.io/rs-deployment"
	// indexEventPod indexes kubelet Events by the name of the Pod they are about.
	indexEventPod = "probetuner.io/event-pod"
)

// maxEventMessage is how much of an Event's message the cache keeps: enough to tell a timeout from an error.
const maxEventMessage = 200

// CacheOptions restricts and slims what the manager caches: only Pods owned by ReplicaSets (label-selected by
// pod-template-hash), only kubelet Events about Pods (field-selected), and of every object only the fields
// probe-tuner reads. This is what keeps memory per watched pod small.
func CacheOptions() cache.Options {
	hasTemplateHash, err := labels.NewRequirement(appsv1.DefaultDeploymentUniqueLabelKey, selection.Exists, nil)
	if err != nil {
		panic(fmt.Sprintf("building the pod selector: %v", err))
	}
	return cache.Options{
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}: {
				Label:     labels.NewSelector().Add(*hasTemplateHash),
				Transform: slimPod,
			},
			&corev1.Event{}: {
				Field:     fields.AndSelectors(fields.OneTermEqualSelector("involvedObject.kind", "Pod"), fields.OneTermEqualSelector("source", "kubelet")),
				Transform: slimEvent,
			},
			&appsv1.ReplicaSet{}: {Transform: slimReplicaSet},
			&appsv1.Deployment{}: {Transform: slimDeployment},
		},
	}
}

// slimPod keeps what observation reads: identity, owner, the template hash, which probes each container has (with
// the liveness probe's timing), and the status fields about containers and readiness.
func slimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	out := &corev1.Pod{}
	out.Name, out.Namespace, out.UID, out.ResourceVersion = p.Name, p.Namespace, p.UID, p.ResourceVersion
	out.CreationTimestamp, out.DeletionTimestamp = p.CreationTimestamp, p.DeletionTimestamp
	if h, ok := p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; ok {
		out.Labels = map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: h}
	}
	if ref := controllerRef(p.OwnerReferences); ref != nil {
		out.OwnerReferences = []metav1.OwnerReference{*ref}
	}
	for _, c := range p.Spec.Containers {
		// Of each probe only its timing is kept: it tells when a start completed and how precisely it was seen.
		sc := corev1.Container{Name: c.Name, StartupProbe: probeTiming(c.StartupProbe), LivenessProbe: probeTiming(c.LivenessProbe),
			ReadinessProbe: probeTiming(c.ReadinessProbe)}
		out.Spec.Containers = append(out.Spec.Containers, sc)
	}
	out.Status.Phase = p.Status.Phase
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			out.Status.Conditions = []corev1.PodCondition{{Type: c.Type, Status: c.Status, LastTransitionTime: c.LastTransitionTime}}
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		s := corev1.ContainerStatus{Name: cs.Name, Ready: cs.Ready, Started: cs.Started, RestartCount: cs.RestartCount, ContainerID: cs.ContainerID}
		if r := cs.State.Running; r != nil {
			s.State.Running = &corev1.ContainerStateRunning{StartedAt: r.StartedAt}
		}
		if w := cs.State.Waiting; w != nil {
			s.State.Waiting = &corev1.ContainerStateWaiting{Reason: w.Reason}
		}
		if t := cs.State.Terminated; t != nil {
			s.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: t.ExitCode, Reason: t.Reason, StartedAt: t.StartedAt, FinishedAt: t.FinishedAt, ContainerID: t.ContainerID}
		}
		if t := cs.LastTerminationState.Terminated; t != nil {
			s.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: t.ExitCode, Reason: t.Reason, StartedAt: t.StartedAt, FinishedAt: t.FinishedAt, ContainerID: t.ContainerID}
		}
		out.Status.ContainerStatuses = append(out.Status.ContainerStatuses, s)
	}
	return out, nil
}

// probeTiming copies a probe's timing fields, without its handler.
func probeTiming(p *corev1.Probe) *corev1.Probe {
	if p == nil {
		return nil
	}
	return &corev1.Probe{InitialDelaySeconds: p.InitialDelaySeconds, PeriodSeconds: p.PeriodSeconds, TimeoutSeconds: p.TimeoutSeconds,
		SuccessThreshold: p.SuccessThreshold, FailureThreshold: p.FailureThreshold}
}

// slimEvent keeps the Event's identity, subject, reason, a bounded message, its count and times.
func slimEvent(obj any) (any, error) {
	e, ok := obj.(*corev1.Event)
	if !ok {
		return obj, nil
	}
	out := &corev1.Event{Reason: e.Reason, Count: e.Count, LastTimestamp: e.LastTimestamp, EventTime: e.EventTime, FirstTimestamp: e.FirstTimestamp}
	out.Name, out.Namespace, out.UID, out.ResourceVersion = e.Name, e.Namespace, e.UID, e.ResourceVersion
	out.InvolvedObject = corev1.ObjectReference{Name: e.InvolvedObject.Name, FieldPath: e.InvolvedObject.FieldPath}
	if e.Series != nil {
		out.Series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	switch e.Reason {
	case "Killing", "Unhealthy":
		out.Message = e.Message
		if len(out.Message) > maxEventMessage {
			out.Message = out.Message[:maxEventMessage]
		}
	}
	return out, nil
}

// slimReplicaSet keeps what tells a Deployment's current revision: owner, template hash and revision.
func slimReplicaSet(obj any) (any, error) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return obj, nil
	}
	out := &appsv1.ReplicaSet{}
	out.Name, out.Namespace, out.UID, out.ResourceVersion, out.CreationTimestamp = rs.Name, rs.Namespace, rs.UID, rs.ResourceVersion, rs.CreationTimestamp
	if h, ok := rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; ok {
		out.Labels = map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: h}
	}
	if v, ok := rs.Annotations[revisionAnnotation]; ok {
		out.Annotations = map[string]string{revisionAnnotation: v}
	}
	if ref := controllerRef(rs.OwnerReferences); ref != nil {
		out.OwnerReferences = []metav1.OwnerReference{*ref}
	}
	out.Spec.Replicas = rs.Spec.Replicas
	out.Status.Replicas = rs.Status.Replicas
	return out, nil
}

// slimDeployment drops what probe-tuner never reads of a Deployment: managed fields, the last-applied
// annotation, and container fields other than names, images and probes.
func slimDeployment(obj any) (any, error) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return obj, nil
	}
	d.ManagedFields = nil
	if _, ok := d.Annotations[corev1.LastAppliedConfigAnnotation]; ok {
		anns := make(map[string]string, len(d.Annotations))
		for k, v := range d.Annotations {
			if k != corev1.LastAppliedConfigAnnotation {
				anns[k] = v
			}
		}
		d.Annotations = anns
	}
	spec := &d.Spec.Template.Spec
	spec.Volumes, spec.InitContainers = nil, nil
	for i := range spec.Containers {
		c := &spec.Containers[i]
		c.Env, c.EnvFrom, c.VolumeMounts, c.Command, c.Args, c.Resources = nil, nil, nil, nil, nil, corev1.ResourceRequirements{}
	}
	return d, nil
}

// deploymentOfPod returns the name of the Deployment owning a Pod through its ReplicaSet ("<deployment>-<hash>").
func deploymentOfPod(p *corev1.Pod) string {
	ref := controllerRef(p.OwnerReferences)
	hash := p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
	if ref == nil || ref.Kind != "ReplicaSet" || hash == "" {
		return ""
	}
	return strings.TrimSuffix(ref.Name, "-"+hash)
}

// SetupIndexes registers the cache indexes the controllers query.
func SetupIndexes(indexer client.FieldIndexer) error {
	ctx := context.Background()
	if err := indexer.IndexField(ctx, &corev1.Pod{}, indexPodDeployment, func(o client.Object) []string {
		if d := deploymentOfPod(o.(*corev1.Pod)); d != "" {
			return []string{d}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("indexing pods by deployment: %w", err)
	}
	if err := indexer.IndexField(ctx, &appsv1.ReplicaSet{}, indexRSDeployment, func(o client.Object) []string {
		if ref := controllerRef(o.GetOwnerReferences()); ref != nil && ref.Kind == "Deployment" {
			return []string{ref.Name}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("indexing replicasets by deployment: %w", err)
	}
	if err := indexer.IndexField(ctx, &corev1.Event{}, indexEventPod, func(o client.Object) []string {
		return []string{o.(*corev1.Event).InvolvedObject.Name}
	}); err != nil {
		return fmt.Errorf("indexing events by pod: %w", err)
	}
	return nil
}

// controllerRef returns the controlling owner reference, or nil.
func controllerRef(refs []metav1.OwnerReference) *metav1.OwnerReference {
	for i := range refs {
		if refs[i].Controller != nil && *refs[i].Controller {
			return &refs[i]
		}
	}
	return nil
}

// revisionAnnotation is the Deployment controller's revision number, on Deployments and their ReplicaSets.
const revisionAnnotation = "deployment.kubernetes.io/revision"
