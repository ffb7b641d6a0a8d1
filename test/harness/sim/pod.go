package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// PodSim is one simulated pod on its kubelet: the pod worker (SyncPod), the
// probe workers of its containers, the container runtime and the apps.
type PodSim struct {
	w      *World
	pod    *corev1.Pod
	uid    types.UID
	node   string
	hostIP string
	podIP  string
	rng    *rand.Rand // kubelet-side randomness (requeue jitter)

	// containers are the containers the kubelet runs: the native sidecars in
	// init order, then the app containers.
	containers []*container
	addedAt    time.Duration

	// Init containers (see init.go): the kubelet reaches them in order. The
	// first initReached are reached; a plain one completed when it was reached
	// (initDoneAt), a native sidecar was started then.
	initReached      int
	initDoneAt       []time.Duration
	initialized      bool          // the Initialized condition
	initializedSince time.Duration // its last transition

	// Pod worker state.
	busy         bool // a SyncPod is in progress (killing or starting containers)
	pendingSync  bool // a sync was requested while busy
	syncGen      uint64
	killQueue    []killItem
	startQueue   []startItem
	backOffUntil time.Duration // earliest back-off expiry met in this sync, or -1
	syncQueued   bool          // a sync is scheduled (now or at the next relist)
	relistQueued bool          // a PLEG event is scheduled
	lastSyncEnd  time.Duration // when the previous sync ended (pod_workers.go lastSyncTime)

	// Deletion and termination.
	deleted      bool
	pendingGrace *int64 // grace period of a requested deletion
	grace        time.Duration
	terminating  bool
	termStart    time.Duration // when termination began: sidecars' waits for their turn count from there
	turnsDue     bool          // the grace period ran out: every sidecar's turn has come
	finished     bool
	finishedAt   time.Duration
	removed      bool

	// Status bookkeeping.
	version       uint64
	dirtyQueued   bool
	changedQueued bool
	cache         *corev1.PodStatus
	cacheVersion  uint64
	ready         bool
	readySince    time.Duration // last Ready/ContainersReady transition
	scheduledAt   metav1.Time

	// Counters.
	wanted        bool
	notReadySince time.Duration
	stats         PodStats
}

func newPodSim(w *World, pod *corev1.Pod, node string, behaviors map[string]*Behavior) (*PodSim, error) {
	p := &PodSim{
		w:            w,
		pod:          pod,
		uid:          pod.UID,
		node:         node,
		addedAt:      w.now,
		backOffUntil: -1,
		wanted:       true,
		lastSyncEnd:  -1,
	}
	if p.uid == "" {
		p.uid = podUID(w.seed, pod.Namespace, pod.Name)
		pod.UID = p.uid
	}
	p.rng = newRand(w.seed, "kubelet", pod.Namespace, pod.Name)
	p.hostIP, p.podIP = w.allocateIPs(pod, node)
	p.stats.AddedAt = w.Now()
	p.stats.Events = map[string]int{}
	p.notReadySince = w.now
	p.scheduledAt = metav1.NewTime(w.Now().Truncate(time.Second))
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue && !c.LastTransitionTime.IsZero() {
			p.scheduledAt = c.LastTransitionTime
		}
	}
	p.readySince = w.now
	for i := range pod.Spec.InitContainers {
		if spec := &pod.Spec.InitContainers[i]; isSidecar(spec) {
			if err := p.addContainer(spec, i, true, behaviors[spec.Name]); err != nil {
				return nil, err
			}
		}
	}
	for i := range pod.Spec.Containers {
		spec := &pod.Spec.Containers[i]
		if err := p.addContainer(spec, i, false, behaviors[spec.Name]); err != nil {
			return nil, err
		}
	}
	p.beginInit()
	return p, nil
}

func (p *PodSim) addContainer(spec *corev1.Container, specIdx int, sidecar bool, b *Behavior) error {
	c, err := newContainer(p, len(p.containers), spec, specIdx, sidecar, b)
	if err != nil {
		return err
	}
	p.containers = append(p.containers, c)
	return nil
}

// allocateIPs returns the node and pod IPs: the pod's own status IPs when set
// (a live driver may pass them), else deterministic addresses. The pod IP is
// derived from the pod's name (a collision moves to the next free address), so
// adding a pod does not change the addresses of the others.
func (w *World) allocateIPs(pod *corev1.Pod, node string) (hostIP, podIP string) {
	idx, ok := w.nodes[node]
	if !ok {
		idx = len(w.nodes)
		w.nodes[node] = idx
	}
	hostIP = fmt.Sprintf("172.18.%d.%d", idx/250%256, idx%250+2)
	if pod.Status.HostIP != "" {
		hostIP = pod.Status.HostIP
	}
	podIP = pod.Status.PodIP
	for h := uint32(hash64(pod.Namespace, pod.Name)); podIP == ""; h++ {
		ip := fmt.Sprintf("10.%d.%d.%d", 64+idx%128, h>>8&0xff, h%250+2)
		if !w.usedIPs[ip] {
			podIP = ip
		}
	}
	w.usedIPs[podIP] = true
	return hostIP, podIP
}

// start runs the kubelet's first handling of a new pod: probe workers are
// created (they probe at once, before any container exists) and a sync starts
// the containers.
func (p *PodSim) start() {
	for _, c := range p.containers {
		for _, wk := range c.workers {
			if wk != nil {
				wk.begin()
			}
		}
	}
	p.w.markDirty(p)
	if p.pod.DeletionTimestamp != nil {
		p.markDeleted()
		return
	}
	p.requestSync()
}

// Name returns the pod name.
func (p *PodSim) Name() string { return p.pod.Name }

// Namespace returns the pod namespace.
func (p *PodSim) Namespace() string { return p.pod.Namespace }

// UID returns the pod UID.
func (p *PodSim) UID() types.UID { return p.uid }

// Node returns the node the pod runs on.
func (p *PodSim) Node() string { return p.node }

// Pod returns a copy of the pod object as the simulator sees it (defaulted,
// with deletionTimestamp once deleted), without status.
func (p *PodSim) Pod() *corev1.Pod {
	c := p.pod.DeepCopy()
	c.Status = corev1.PodStatus{}
	return c
}

// Ready reports the pod's Ready condition.
func (p *PodSim) Ready() bool { return p.ready }

// Deleted reports whether deletion has been requested (and has taken effect).
func (p *PodSim) Deleted() bool { return p.deleted }

// Finished reports whether a deleted pod has terminated all its containers:
// its final status has been reported and it can be removed.
func (p *PodSim) Finished() bool { return p.finished }

// StatusVersion increases whenever the status changes.
func (p *PodSim) StatusVersion() uint64 { return p.version }
