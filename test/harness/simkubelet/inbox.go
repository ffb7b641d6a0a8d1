package simkubelet

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// podChange is the latest known state of a pod on one of our nodes.
type podChange struct {
	pod *corev1.Pod // the latest object (shared with the informer cache: read only); nil when it is gone
	uid types.UID   // the UID of the pod that is gone (when pod is nil)
}

// inbox hands pod changes from the informer goroutines to the world loop, which alone may touch the world.
// Several changes of one pod before the loop drains them collapse into the latest; pods are drained in the
// order they first arrived.
type inbox struct {
	mu      sync.Mutex
	keys    []string
	changes map[string]podChange
}

func newInbox() *inbox { return &inbox{changes: map[string]podChange{}} }

// put records the latest state of the pod with the given key.
func (b *inbox) put(key string, c podChange) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.changes[key]; !ok {
		b.keys = append(b.keys, key)
	}
	b.changes[key] = c
}

// drain returns the pending changes in arrival order and empties the inbox.
func (b *inbox) drain() ([]string, map[string]podChange) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.keys) == 0 {
		return nil, nil
	}
	keys, changes := b.keys, b.changes
	b.keys, b.changes = nil, make(map[string]podChange, len(changes))
	return keys, changes
}
