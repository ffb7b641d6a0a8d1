package controllers

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// statusPatches remembers when this process last patched each policy's status, so that a change only in the
// observed figures is patched at most every status.ObservedRefresh (see status.PatchWait).
type statusPatches struct {
	mu sync.Mutex
	at map[types.NamespacedName]time.Time
}

// last is when the policy's status was last patched; the zero time when never by this process.
func (s *statusPatches) last(key types.NamespacedName) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.at[key]
}

func (s *statusPatches) patched(key types.NamespacedName, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at == nil {
		s.at = map[types.NamespacedName]time.Time{}
	}
	s.at[key] = at
}

func (s *statusPatches) forget(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.at, key)
}
