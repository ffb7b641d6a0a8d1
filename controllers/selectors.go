package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// policyIndex maps each Deployment to the ProbePolicies of its namespace that select it (oldest first: the first
// is the one that acts on it) and to those whose status still lists it, and each policy to the Deployments it
// selects. It is kept current from the Deployment and ProbePolicy events (see SetupWithManager): a selector is
// matched against a Deployment when either changes, not on every pod update and reconcile. At a thousand
// Deployments under a hundred policies, matching every selector of the namespace on each pod update and each
// reconcile showed at the top of CPU profiles.
//
// Without a manager feeding it (tests that call Reconcile on a client alone), each reconcile brings the
// namespace's entries up to date from the client's lists first (syncNamespace).
type policyIndex struct {
	// fed says the watches feed the index; see SetupWithManager.
	fed bool

	mu         sync.RWMutex
	namespaces map[string]*namespaceIndex
}

type namespaceIndex struct {
	policies    map[string]*indexedPolicy
	deployments map[string]*indexedDeployment
	// tracked lists, per Deployment name, the policies whose status lists it: a Deployment that stops matching is
	// released by them, so its events still go to them.
	tracked map[string]map[string]bool
}

// indexedPolicy is what the index holds of a policy. An entry is valid for one UID and generation: the selector
// is in the spec.
type indexedPolicy struct {
	name       string
	uid        types.UID
	generation int64
	created    time.Time
	deleting   bool
	// selector is the parsed selector; err says why it cannot be parsed (it then selects nothing).
	selector labels.Selector
	err      error
	// selects holds the Deployments the selector matches; tracks the workloads the status lists.
	selects map[string]bool
	tracks  []string
}

// indexedDeployment is what the index holds of a Deployment: its labels (the cached object's own map, shared) and
// the policies selecting it, oldest first.
type indexedDeployment struct {
	labels     map[string]string
	selectedBy []*indexedPolicy
}

// olderPolicy orders policies by creation, then name: the first selecting a Deployment acts on it.
func olderPolicy(a, b *indexedPolicy) int {
	if !a.created.Equal(b.created) {
		return a.created.Compare(b.created)
	}
	return compareStrings(a.name, b.name)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (x *policyIndex) namespace(ns string) *namespaceIndex {
	if x.namespaces == nil {
		x.namespaces = map[string]*namespaceIndex{}
	}
	n := x.namespaces[ns]
	if n == nil {
		n = &namespaceIndex{policies: map[string]*indexedPolicy{}, deployments: map[string]*indexedDeployment{}, tracked: map[string]map[string]bool{}}
		x.namespaces[ns] = n
	}
	return n
}

// parseSelector returns the policy's selector; an empty one matches nothing (the API rejects one anyway).
func parseSelector(p *tuningv1alpha1.ProbePolicy) (labels.Selector, error) {
	s, err := metav1.LabelSelectorAsSelector(&p.Spec.Selector)
	if err != nil {
		return labels.Nothing(), err
	}
	if s.Empty() {
		return labels.Nothing(), nil
	}
	return s, nil
}

// setPolicy adds or updates a policy from its object and returns the Deployments whose selecting policies changed
// (it started or stopped selecting them, or its age or deletion changes which policy acts on them).
func (x *policyIndex) setPolicy(p *tuningv1alpha1.ProbePolicy) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := x.namespace(p.Namespace)
	ip := n.policies[p.Name]
	deleting := p.DeletionTimestamp != nil
	fresh := ip == nil || ip.uid != p.UID || ip.generation != p.Generation || ip.deleting != deleting || !ip.created.Equal(p.CreationTimestamp.Time)
	if ip == nil {
		ip = &indexedPolicy{name: p.Name, selects: map[string]bool{}}
		n.policies[p.Name] = ip
	}
	n.setTracks(ip, p.Status.Workloads)
	if !fresh {
		return nil
	}
	ip.uid, ip.generation, ip.created, ip.deleting = p.UID, p.Generation, p.CreationTimestamp.Time, deleting
	ip.selector, ip.err = parseSelector(p)
	var affected []string
	for name, d := range n.deployments {
		was, is := ip.selects[name], ip.selector.Matches(labels.Set(d.labels))
		switch {
		case is && !was:
			ip.selects[name] = true
			d.selectedBy = append(d.selectedBy, ip)
		case was && !is:
			delete(ip.selects, name)
			d.selectedBy = slices.DeleteFunc(d.selectedBy, func(o *indexedPolicy) bool { return o == ip })
		}
		if is || was {
			// Its age or deletion may have changed too: which policy acts is decided again.
			slices.SortFunc(d.selectedBy, olderPolicy)
			affected = append(affected, name)
		}
	}
	sort.Strings(affected)
	return affected
}

// setTracks records the workloads the policy's status lists.
func (n *namespaceIndex) setTracks(ip *indexedPolicy, workloads []tuningv1alpha1.WorkloadSummary) {
	if len(ip.tracks) == len(workloads) && slices.EqualFunc(ip.tracks, workloads, func(name string, w tuningv1alpha1.WorkloadSummary) bool { return name == w.Name }) {
		return
	}
	for _, name := range ip.tracks {
		if set := n.tracked[name]; set != nil {
			delete(set, ip.name)
			if len(set) == 0 {
				delete(n.tracked, name)
			}
		}
	}
	ip.tracks = ip.tracks[:0]
	for _, w := range workloads {
		ip.tracks = append(ip.tracks, w.Name)
		set := n.tracked[w.Name]
		if set == nil {
			set = map[string]bool{}
			n.tracked[w.Name] = set
		}
		set[ip.name] = true
	}
}

// refreshPolicy updates the policy from an object read for its reconcile when the index does not know it yet or
// knows an older generation of it: the reconcile then works on its current selector even if the event that
// feeds the index has not arrived.
func (x *policyIndex) refreshPolicy(p *tuningv1alpha1.ProbePolicy) {
	x.mu.RLock()
	var ip *indexedPolicy
	if n := x.namespaces[p.Namespace]; n != nil {
		ip = n.policies[p.Name]
	}
	stale := ip == nil || ip.uid != p.UID || ip.generation < p.Generation
	x.mu.RUnlock()
	if stale {
		x.setPolicy(p)
	}
}

// deletePolicy forgets a policy and returns the Deployments it selected.
func (x *policyIndex) deletePolicy(key types.NamespacedName) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := x.namespaces[key.Namespace]
	if n == nil || n.policies[key.Name] == nil {
		return nil
	}
	ip := n.policies[key.Name]
	n.setTracks(ip, nil)
	var affected []string
	for name := range ip.selects {
		if d := n.deployments[name]; d != nil {
			d.selectedBy = slices.DeleteFunc(d.selectedBy, func(o *indexedPolicy) bool { return o == ip })
		}
		affected = append(affected, name)
	}
	delete(n.policies, key.Name)
	n.dropIfEmpty(x, key.Namespace)
	sort.Strings(affected)
	return affected
}

// setDeployment adds or updates a Deployment from its labels; the selectors are matched only when they changed.
// The map is kept, not copied: it must not be changed afterwards (the cache's objects are not).
func (x *policyIndex) setDeployment(ns, name string, lbls map[string]string) {
	x.mu.RLock()
	var d *indexedDeployment
	if n := x.namespaces[ns]; n != nil {
		d = n.deployments[name]
	}
	same := d != nil && maps.Equal(d.labels, lbls)
	x.mu.RUnlock()
	if same {
		return // a status update, the most frequent event: nothing to match
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	n := x.namespace(ns)
	if d = n.deployments[name]; d == nil {
		d = &indexedDeployment{}
		n.deployments[name] = d
	}
	d.labels = lbls
	d.selectedBy = d.selectedBy[:0]
	for _, ip := range n.policies {
		if ip.selector != nil && ip.selector.Matches(labels.Set(lbls)) {
			ip.selects[name] = true
			d.selectedBy = append(d.selectedBy, ip)
		} else {
			delete(ip.selects, name)
		}
	}
	slices.SortFunc(d.selectedBy, olderPolicy)
}

// deleteDeployment forgets a Deployment.
func (x *policyIndex) deleteDeployment(ns, name string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := x.namespaces[ns]
	if n == nil || n.deployments[name] == nil {
		return
	}
	for _, ip := range n.deployments[name].selectedBy {
		delete(ip.selects, name)
	}
	delete(n.deployments, name)
	n.dropIfEmpty(x, ns)
}

func (n *namespaceIndex) dropIfEmpty(x *policyIndex, ns string) {
	if len(n.policies) == 0 && len(n.deployments) == 0 && len(n.tracked) == 0 {
		delete(x.namespaces, ns)
	}
}

// knows reports whether the index holds the Deployment.
func (x *policyIndex) knows(ns, name string) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := x.namespaces[ns]
	return n != nil && n.deployments[name] != nil
}

// requests returns a reconcile request for each policy that selects the Deployment or lists it in its status.
func (x *policyIndex) requests(ns, name string) []reconcile.Request {
	return x.requestsExcept(ns, name, "")
}

// requestsExcept is requests without the named policy.
func (x *policyIndex) requestsExcept(ns, name, except string) []reconcile.Request {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := x.namespaces[ns]
	if n == nil {
		return nil
	}
	var out []reconcile.Request
	add := func(policy string) {
		if policy == except {
			return
		}
		req := reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: policy}}
		if !slices.Contains(out, req) {
			out = append(out, req)
		}
	}
	if d := n.deployments[name]; d != nil {
		for _, ip := range d.selectedBy {
			add(ip.name)
		}
	}
	tracking := make([]string, 0, len(n.tracked[name]))
	for policy := range n.tracked[name] {
		tracking = append(tracking, policy)
	}
	sort.Strings(tracking)
	for _, policy := range tracking {
		add(policy)
	}
	return out
}

// selected returns the names of the Deployments the policy selects, sorted, or the reason its selector cannot be
// read.
func (x *policyIndex) selected(ns, policy string) ([]string, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := x.namespaces[ns]
	if n == nil || n.policies[policy] == nil {
		return nil, nil
	}
	ip := n.policies[policy]
	if ip.err != nil {
		return nil, ip.err
	}
	names := make([]string, 0, len(ip.selects))
	for name := range ip.selects {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// acting returns the policy that acts on the Deployment: the oldest of those selecting it that is not being
// deleted; "" when there is none.
func (x *policyIndex) acting(ns, name string) string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if n := x.namespaces[ns]; n != nil {
		if d := n.deployments[name]; d != nil {
			for _, ip := range d.selectedBy {
				if !ip.deleting {
					return ip.name
				}
			}
		}
	}
	return ""
}

// syncNamespace brings the namespace's entries up to date from the client's lists of its ProbePolicies and
// Deployments, for a reconciler that no watch feeds.
func (x *policyIndex) syncNamespace(ctx context.Context, c client.Reader, ns string) error {
	var policies tuningv1alpha1.ProbePolicyList
	if err := c.List(ctx, &policies, client.InNamespace(ns)); err != nil {
		return fmt.Errorf("listing the ProbePolicies of namespace %s: %w", ns, err)
	}
	var deployments appsv1.DeploymentList
	if err := c.List(ctx, &deployments, client.InNamespace(ns)); err != nil {
		return fmt.Errorf("listing the Deployments of namespace %s: %w", ns, err)
	}
	listed := map[string]bool{}
	for i := range deployments.Items {
		d := &deployments.Items[i]
		listed[d.Name] = true
		x.setDeployment(ns, d.Name, d.Labels)
	}
	for _, name := range x.deploymentNames(ns) {
		if !listed[name] {
			x.deleteDeployment(ns, name)
		}
	}
	listed = map[string]bool{}
	for i := range policies.Items {
		p := &policies.Items[i]
		listed[p.Name] = true
		x.setPolicy(p)
	}
	for _, name := range x.policyNames(ns) {
		if !listed[name] {
			x.deletePolicy(types.NamespacedName{Namespace: ns, Name: name})
		}
	}
	return nil
}

func (x *policyIndex) deploymentNames(ns string) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if n := x.namespaces[ns]; n != nil {
		return slices.Collect(maps.Keys(n.deployments))
	}
	return nil
}

func (x *policyIndex) policyNames(ns string) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if n := x.namespaces[ns]; n != nil {
		return slices.Collect(maps.Keys(n.policies))
	}
	return nil
}
