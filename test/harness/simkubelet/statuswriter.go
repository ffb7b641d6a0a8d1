package simkubelet

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// maxConflictRetries bounds the re-read-and-retry rounds of one status write.
const maxConflictRetries = 5

// statusEntry is the latest simulated status of a pod that has not been written yet.
type statusEntry struct {
	uid      types.UID
	status   corev1.PodStatus // owned by the entry, never modified
	finished bool             // the pod has terminated: delete it once the status is written
	since    time.Time        // the simulated instant of the oldest change not yet written
	taken    bool             // a worker is writing this entry
}

// statusWriter is the status manager: it writes the latest simulated status of each pod through the status
// subresource, only when it differs from the API server's, and deletes terminated pods. Changes that arrive
// while a write is queued replace the queued status, so several changes of one pod become one write. Each
// pod is written by one worker at a time (the work queue guarantees it); the requests share the client's
// rate limiter (--kube-api-qps, --kube-api-burst).
type statusWriter struct {
	d     *Driver
	queue workqueue.TypedRateLimitingInterface[string]

	mu      sync.Mutex
	pending map[string]*statusEntry
	last    map[string]*corev1.Pod // the pod as returned by our last write, until the informer has caught up
}

func newStatusWriter(d *Driver) *statusWriter {
	return &statusWriter{
		d: d,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](50*time.Millisecond, 10*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "simkubelet-status"}),
		pending: map[string]*statusEntry{},
		last:    map[string]*corev1.Pod{},
	}
}

// enqueue records the latest status of a pod. changedAt is the simulated instant of the change.
func (s *statusWriter) enqueue(key string, uid types.UID, st corev1.PodStatus, finished bool, changedAt time.Time) {
	e := &statusEntry{uid: uid, status: st, finished: finished, since: changedAt}
	s.mu.Lock()
	if old := s.pending[key]; old != nil && !old.taken && old.uid == uid && old.since.Before(changedAt) {
		e.since = old.since
	}
	s.pending[key] = e
	s.mu.Unlock()
	s.queue.Add(key)
}

// forget drops what is known about a pod that is gone from the API server.
func (s *statusWriter) forget(key string, uid types.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.pending[key]; e != nil && e.uid == uid {
		delete(s.pending, key)
	}
	if p := s.last[key]; p != nil && p.UID == uid {
		delete(s.last, key)
	}
}

// pendingCount returns the number of pods with a status write pending.
func (s *statusWriter) pendingCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// run writes statuses with the given number of workers until ctx ends.
func (s *statusWriter) run(ctx context.Context, workers int) {
	runWorkers(ctx, s.queue, workers, s.d.log, "Failed to update pod status, will retry", s.process)
}

// process writes the pending entry of one pod, then deletes the pod if it has terminated.
func (s *statusWriter) process(ctx context.Context, key string) error {
	s.mu.Lock()
	e := s.pending[key]
	if e == nil {
		s.mu.Unlock()
		return nil
	}
	e.taken = true
	last := s.last[key]
	s.mu.Unlock()

	err := s.write(ctx, key, e, last)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		e.taken = false
		return err
	}
	if s.pending[key] == e {
		delete(s.pending, key)
	}
	return nil
}

// base returns the freshest copy of the pod we know of with the given UID: the informer's or the one our last
// write returned; it reads the API server when neither is that pod. nil means the pod is gone.
func (s *statusWriter) base(ctx context.Context, ns, name string, uid types.UID, last *corev1.Pod) (*corev1.Pod, error) {
	cached, err := s.d.podLister.Pods(ns).Get(name)
	if err != nil || cached.UID != uid {
		cached = nil
	}
	if last != nil && last.UID != uid {
		last = nil
	}
	b := newerPod(last, cached)
	if b != nil && b == cached && last != nil {
		s.mu.Lock()
		if s.last[podKey(ns, name)] == last {
			delete(s.last, podKey(ns, name)) // the informer has caught up
		}
		s.mu.Unlock()
	}
	if b != nil {
		return b, nil
	}
	return s.live(ctx, ns, name, uid)
}

// live reads the pod from the API server; nil when it is gone (or replaced by another pod of that name).
func (s *statusWriter) live(ctx context.Context, ns, name string, uid types.UID) (*corev1.Pod, error) {
	p, err := s.d.client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) || (err == nil && p.UID != uid) {
		return nil, nil
	}
	return p, err
}

// write updates the pod's status from the entry (when it differs), re-reading the pod on conflicts, and
// deletes a terminated pod afterwards.
func (s *statusWriter) write(ctx context.Context, key string, e *statusEntry, last *corev1.Pod) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		utilruntime.HandleError(err)
		return nil
	}
	cur, err := s.base(ctx, ns, name, e.uid, last)
	if err != nil {
		return err
	}
	if cur == nil {
		return nil // deleted in the meantime
	}
	for attempt := 0; ; attempt++ {
		merged := mergeStatus(&cur.Status, &e.status)
		if apiequality.Semantic.DeepEqual(cur.Status, merged) {
			s.d.stats.statusSkipped.Add(1)
			break
		}
		pod := *cur // shallow: only Status differs, and the copy is only serialised
		pod.Status = merged
		updated, err := s.d.client.CoreV1().Pods(ns).UpdateStatus(ctx, &pod, metav1.UpdateOptions{})
		if err == nil {
			updated.ManagedFields = nil
			s.mu.Lock()
			s.last[key] = updated
			s.mu.Unlock()
			s.d.stats.statusWrites.Add(1)
			s.d.stats.observeLag(time.Since(e.since))
			break
		}
		if apierrors.IsNotFound(err) {
			return nil
		}
		if !apierrors.IsConflict(err) || attempt >= maxConflictRetries {
			s.d.stats.writeErrors.Add(1)
			return fmt.Errorf("updating status: %w", err)
		}
		s.d.stats.conflicts.Add(1)
		if cur, err = s.live(ctx, ns, name, e.uid); err != nil || cur == nil {
			return err
		}
	}
	if e.finished {
		return s.d.deleteTerminated(ctx, ns, name, e.uid)
	}
	return nil
}
