package simkubelet

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// nodeLoad counts the pods on each of our nodes, for least-loaded placement. Pods are counted from the moment
// they are bound (by us) or seen bound (by the informer) until they are deleted; assign is idempotent.
type nodeLoad struct {
	mu     sync.Mutex
	podsOn map[string]int       // node -> pods
	nodeOf map[types.UID]string // pod -> node
}

func newNodeLoad() *nodeLoad {
	return &nodeLoad{podsOn: map[string]int{}, nodeOf: map[types.UID]string{}}
}

// assign records that pod runs on node.
func (l *nodeLoad) assign(pod types.UID, node string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.nodeOf[pod]; ok {
		if prev == node {
			return
		}
		l.podsOn[prev]--
	}
	l.nodeOf[pod] = node
	l.podsOn[node]++
}

// forget removes a deleted pod.
func (l *nodeLoad) forget(pod types.UID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.nodeOf[pod]; ok {
		l.podsOn[prev]--
		delete(l.nodeOf, pod)
	}
}

// leastLoaded returns the candidate with the fewest pods (the first of equals), or "" when there is none.
func (l *nodeLoad) leastLoaded(candidates []string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	best, bestN := "", 0
	for _, n := range candidates {
		if c := l.podsOn[n]; best == "" || c < bestN {
			best, bestN = n, c
		}
	}
	return best
}
