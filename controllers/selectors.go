package controllers

import (
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// selectorCache keeps each policy's parsed label selector. Every pod and Deployment event is matched against
// every policy of its namespace, and parsing the selectors each time showed at the top of CPU profiles at a
// thousand Deployments. An entry is valid for one UID and generation: the selector is in the spec.
type selectorCache struct {
	entries sync.Map // types.NamespacedName -> cachedSelector
}

type cachedSelector struct {
	uid        types.UID
	generation int64
	selector   labels.Selector
	err        error
}

// of returns the policy's selector; an empty selector matches nothing (the API rejects one anyway).
func (c *selectorCache) of(p *tuningv1alpha1.ProbePolicy) (labels.Selector, error) {
	key := types.NamespacedName{Namespace: p.Namespace, Name: p.Name}
	if v, ok := c.entries.Load(key); ok {
		if e := v.(cachedSelector); e.uid == p.UID && e.generation == p.Generation {
			return e.selector, e.err
		}
	}
	s, err := metav1.LabelSelectorAsSelector(&p.Spec.Selector)
	if err == nil && s.Empty() {
		s = labels.Nothing()
	}
	c.entries.Store(key, cachedSelector{uid: p.UID, generation: p.Generation, selector: s, err: err})
	return s, err
}

// matches reports whether the policy selects objects with these labels.
func (c *selectorCache) matches(p *tuningv1alpha1.ProbePolicy, l map[string]string) bool {
	s, err := c.of(p)
	return err == nil && s.Matches(labels.Set(l))
}

// forget drops a deleted policy's entry.
func (c *selectorCache) forget(key types.NamespacedName) { c.entries.Delete(key) }
