package podstore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

const (
	indexByDeployment = "deployment"
	indexByPod        = "pod"
)

// EventReasons are the kubelet Event reasons observation reads: Killing carries the cause of a restart,
// Unhealthy the probe failures.
var EventReasons = []string{"Killing", "Unhealthy"}

// Store holds the records and the informers that keep them current.
type Store struct {
	// pods has one informer per watched namespace, keyed by namespace; the key "" (metav1.NamespaceAll) when
	// every namespace is watched.
	pods   map[string]cache.SharedIndexInformer
	events []cache.SharedIndexInformer
}

// New returns a Store watching the pods that carry a pod-template-hash (those of Deployments) and the kubelet's
// Events of EventReasons about pods, in the given namespaces, or in every namespace when none is given (a
// namespace-scoped install has no right to list pods cluster-wide). Nothing is watched before Start.
func New(cs kubernetes.Interface, namespaces ...string) (*Store, error) {
	hasHash, err := labels.NewRequirement(appsv1.DefaultDeploymentUniqueLabelKey, selection.Exists, nil)
	if err != nil {
		return nil, fmt.Errorf("building the pod selector: %w", err)
	}
	podSelector := labels.NewSelector().Add(*hasHash).String()
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	rest := cs.CoreV1().RESTClient()
	s := &Store{pods: map[string]cache.SharedIndexInformer{}}
	for _, ns := range namespaces {
		if _, dup := s.pods[ns]; dup {
			continue
		}
		s.pods[ns] = newInformer(
			cache.NewFilteredListWatchFromClient(rest, "pods", ns, func(o *metav1.ListOptions) { o.LabelSelector = podSelector }),
			&corev1.Pod{}, FromPod, cache.Indexers{indexByDeployment: podDeploymentIndex})
		for _, reason := range EventReasons {
			selector := fields.AndSelectors(fields.OneTermEqualSelector("involvedObject.kind", "Pod"), fields.OneTermEqualSelector("source", "kubelet"),
				fields.OneTermEqualSelector("reason", reason)).String()
			s.events = append(s.events, newInformer(
				cache.NewFilteredListWatchFromClient(rest, "events", ns, func(o *metav1.ListOptions) { o.FieldSelector = selector }),
				&corev1.Event{}, FromEvent, cache.Indexers{indexByPod: eventPodIndex}))
		}
	}
	return s, nil
}

// podIndexer is the indexer of the pod informer that watches namespace, or nil when none does.
func (s *Store) podIndexer(namespace string) cache.Indexer {
	if inf, ok := s.pods[namespace]; ok {
		return inf.GetIndexer()
	}
	if inf, ok := s.pods[metav1.NamespaceAll]; ok {
		return inf.GetIndexer()
	}
	return nil
}

// Namespaces returns the namespaces the store watches, sorted; [""] when it watches every namespace.
func (s *Store) Namespaces() []string {
	out := make([]string, 0, len(s.pods))
	for ns := range s.pods {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// NewStatic returns a Store holding the given pods and Events and watching nothing: for tests of the code that
// reads it.
func NewStatic(pods []*corev1.Pod, events []*corev1.Event) *Store {
	s := &Store{pods: map[string]cache.SharedIndexInformer{metav1.NamespaceAll: newInformer(nil, &corev1.Pod{}, FromPod, cache.Indexers{indexByDeployment: podDeploymentIndex})},
		events: []cache.SharedIndexInformer{newInformer(nil, &corev1.Event{}, FromEvent, cache.Indexers{indexByPod: eventPodIndex})}}
	for _, p := range pods {
		r, _ := FromPod(p)
		_ = s.pods[metav1.NamespaceAll].GetIndexer().Add(r)
	}
	for _, e := range events {
		r, _ := FromEvent(e)
		_ = s.events[0].GetIndexer().Add(r)
	}
	return s
}

func newInformer(lw cache.ListerWatcher, example runtime.Object, transform cache.TransformFunc, indexers cache.Indexers) cache.SharedIndexInformer {
	inf := cache.NewSharedIndexInformerWithOptions(lw, example, cache.SharedIndexInformerOptions{Indexers: indexers})
	if err := inf.SetTransform(transform); err != nil {
		panic(fmt.Sprintf("setting the transform of an informer not yet started: %v", err))
	}
	return inf
}

func podDeploymentIndex(obj any) ([]string, error) {
	p, ok := obj.(*Pod)
	if !ok || p.Deployment == "" {
		return nil, nil
	}
	return []string{p.Namespace + "/" + p.Deployment}, nil
}

func eventPodIndex(obj any) ([]string, error) {
	e, ok := obj.(*Event)
	if !ok {
		return nil, nil
	}
	return []string{e.Namespace + "/" + e.Pod}, nil
}

// Handlers are told about changes. They run on the informers' goroutines and must not block.
type Handlers struct {
	// PodChanged is called for a pod added, deleted, or changed in a field the record keeps. restarted says a
	// container restarted or terminated, or the pod came or went: what a decision may be waiting for, as opposed
	// to readiness going up and down.
	PodChanged func(p *Pod, restarted bool)
	// Killing is called for a Killing Event added or updated (its count increased).
	Killing func(*Event)
}

// Start registers the handlers and runs the informers until ctx ends. Call it once.
func (s *Store) Start(ctx context.Context, h Handlers) error {
	if h.PodChanged != nil {
		podHandler := cache.ResourceEventHandlerFuncs{
			AddFunc: func(obj any) { callPod(h.PodChanged, obj, true) },
			UpdateFunc: func(old, cur any) {
				if !reflect.DeepEqual(old, cur) {
					o, _ := old.(*Pod)
					c, _ := cur.(*Pod)
					callPod(h.PodChanged, cur, o == nil || c == nil || restarted(o, c))
				}
			},
			DeleteFunc: func(obj any) { callPod(h.PodChanged, obj, true) },
		}
		for _, inf := range s.podInformers() {
			if _, err := inf.AddEventHandler(podHandler); err != nil {
				return fmt.Errorf("watching pods: %w", err)
			}
		}
	}
	if h.Killing != nil {
		for _, inf := range s.events {
			if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
				AddFunc:    func(obj any) { callKilling(h.Killing, obj) },
				UpdateFunc: func(_, cur any) { callKilling(h.Killing, cur) },
			}); err != nil {
				return fmt.Errorf("watching Events: %w", err)
			}
		}
	}
	for _, inf := range s.informers() {
		go inf.RunWithContext(ctx)
	}
	return nil
}

func callPod(f func(*Pod, bool), obj any, restarted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if p, ok := obj.(*Pod); ok {
		f(p, restarted)
	}
}

// restarted reports whether a container of the pod restarted or terminated, or the pod started being deleted.
func restarted(old, cur *Pod) bool {
	if !old.Deleting.Equal(cur.Deleting) || len(old.Containers) != len(cur.Containers) {
		return true
	}
	for i := range cur.Containers {
		o, c := &old.Containers[i], &cur.Containers[i]
		if o.RestartCount != c.RestartCount || (o.Terminated == nil) != (c.Terminated == nil) {
			return true
		}
	}
	return false
}

func callKilling(f func(*Event), obj any) {
	if e, ok := obj.(*Event); ok && e.Reason == "Killing" {
		f(e)
	}
}

// podInformers returns the pod informers in the order of their namespaces.
func (s *Store) podInformers() []cache.SharedIndexInformer {
	var out []cache.SharedIndexInformer
	for _, ns := range s.Namespaces() {
		out = append(out, s.pods[ns])
	}
	return out
}

func (s *Store) informers() []cache.SharedIndexInformer {
	return append(s.podInformers(), s.events...)
}

// WaitForSync waits until every informer has listed what it watches.
func (s *Store) WaitForSync(ctx context.Context) error {
	var synced []cache.InformerSynced
	for _, inf := range s.informers() {
		synced = append(synced, inf.HasSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return errors.New("the pod and Event informers did not sync")
	}
	return nil
}

// PodsOf returns the records of the pods of a Deployment, sorted by name. They are the store's own: read them,
// never change them.
func (s *Store) PodsOf(namespace, deployment string) ([]*Pod, error) {
	idx := s.podIndexer(namespace)
	if idx == nil {
		return nil, nil
	}
	objs, err := idx.ByIndex(indexByDeployment, namespace+"/"+deployment)
	if err != nil {
		return nil, fmt.Errorf("listing the pods of Deployment %s/%s: %w", namespace, deployment, err)
	}
	out := make([]*Pod, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*Pod))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// DeploymentOfPod returns the name of the Deployment owning a pod, or "" when the pod is not known.
func (s *Store) DeploymentOfPod(namespace, pod string) string {
	idx := s.podIndexer(namespace)
	if idx == nil {
		return ""
	}
	obj, ok, err := idx.GetByKey(namespace + "/" + pod)
	if err != nil || !ok {
		return ""
	}
	return obj.(*Pod).Deployment
}

// EventsOf returns the records of the kubelet Events about the given pods. They are the store's own: read them,
// never change them.
func (s *Store) EventsOf(namespace string, pods []*Pod) ([]*Event, error) {
	var out []*Event
	for _, p := range pods {
		for _, inf := range s.events {
			objs, err := inf.GetIndexer().ByIndex(indexByPod, namespace+"/"+p.Name)
			if err != nil {
				return nil, fmt.Errorf("listing the Events of pod %s/%s: %w", namespace, p.Name, err)
			}
			for _, o := range objs {
				out = append(out, o.(*Event))
			}
		}
	}
	return out, nil
}
