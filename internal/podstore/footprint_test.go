package podstore

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// fullPod is a Deployment's pod as the API server serves it: managed fields, a projected token volume, resources,
// five conditions and a container that restarted once.
func fullPod(i int) *corev1.Pod {
	t := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, i%60, 0, time.UTC))
	name := fmt.Sprintf("w%04d-healthy-7d9c6b5f4-%05d", i/5, i)
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(8080), Scheme: corev1.URISchemeHTTP}},
			PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}
	}
	fields := []byte(`{"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"0b0e1c1e\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:livenessProbe":{".":{},"f:httpGet":{".":{},"f:path":{},"f:port":{}}},"f:name":{},"f:readinessProbe":{}}}}}`)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, GenerateName: name[:len(name)-5], Namespace: "bench", UID: types.UID(fmt.Sprintf("6f0c1d2e-0000-4000-8000-%012d", i)),
			ResourceVersion: fmt.Sprint(100000 + i), CreationTimestamp: t,
			Labels:          map[string]string{"app": name[:len(name)-16], appsv1.DefaultDeploymentUniqueLabelKey: "7d9c6b5f4"},
			Annotations:     map[string]string{"sim.probetuner.io/startup": "3s-6s"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name[:len(name)-6], UID: "0b0e1c1e", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
			ManagedFields: []metav1.ManagedFieldsEntry{
				{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", Time: &t, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: fields}},
				{Manager: "simkubelet", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", Time: &t, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: fields}, Subresource: "status"},
			},
		},
		Spec: corev1.PodSpec{
			NodeName: fmt.Sprintf("sim-node-%d", i%50), ServiceAccountName: "default", RestartPolicy: corev1.RestartPolicyAlways, DNSPolicy: corev1.DNSClusterFirst,
			TerminationGracePeriodSeconds: ptr.To[int64](30), SchedulerName: "default-scheduler",
			Volumes: []corev1.Volume{{Name: "kube-api-access-abcde", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3607)}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			}}}}},
			Containers: []corev1.Container{{
				Name: "app", Image: "example.com/app:1", ImagePullPolicy: corev1.PullIfNotPresent,
				Resources:              corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")}},
				VolumeMounts:           []corev1.VolumeMount{{Name: "kube-api-access-abcde", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true}},
				LivenessProbe:          probe("/healthz"),
				ReadinessProbe:         probe("/ready"),
				TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			}},
			Tolerations: []corev1.Toleration{
				{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
				{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
			},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, HostIP: "10.0.0.1", PodIP: fmt.Sprintf("10.1.%d.%d", i/250, i%250), StartTime: &t, QOSClass: corev1.PodQOSBurstable,
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue, LastTransitionTime: t},
				{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: t},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: t},
				{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: t},
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: t},
			},
			ContainerStatuses: []corev1.ContainerStatus{{
				Name: "app", Ready: true, Started: ptr.To(true), RestartCount: 1, Image: "example.com/app:1", ImageID: "example.com/app@sha256:0123456789abcdef",
				ContainerID:          fmt.Sprintf("sim://%064d", i),
				State:                corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: t}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error", StartedAt: t, FinishedAt: t, ContainerID: fmt.Sprintf("sim://%064d", i+1)}},
			}},
		},
	}
}

// storedBytesPerPod stores n pods, passed through transform, in an indexer with the given indexers, and returns
// the heap the stored pods hold, per pod.
func storedBytesPerPod(n int, transform func(any) (any, error), indexers cache.Indexers) float64 {
	store := cache.NewIndexer(cache.DeletionHandlingMetaNamespaceKeyFunc, indexers)
	before := heapAfterGC()
	for i := range n {
		obj, err := transform(fullPod(i))
		if err != nil {
			panic(err)
		}
		if err := store.Add(obj); err != nil {
			panic(err)
		}
	}
	after := heapAfterGC()
	runtime.KeepAlive(store)
	return float64(after-before) / float64(n)
}

func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkPodRecordFootprint reports what one watched pod costs in the pod store, against the same pod cached
// whole by a plain informer (the floor of make bench-scale, which also indexes by namespace).
func BenchmarkPodRecordFootprint(b *testing.B) {
	const pods = 5000
	identity := func(o any) (any, error) { return o, nil }
	var record, whole float64
	for b.Loop() {
		record = storedBytesPerPod(pods, FromPod, cache.Indexers{indexByDeployment: podDeploymentIndex})
		whole = storedBytesPerPod(pods, identity, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
	b.ReportMetric(record, "record-bytes/pod")
	b.ReportMetric(whole, "whole-bytes/pod")
}
