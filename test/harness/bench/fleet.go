package bench

import (
	"fmt"
	"hash/fnv"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/test/harness/sim"
)

// fleet is one simulated Deployment with its ReplicaSets and pods. It plays the Deployment and ReplicaSet
// controllers (rolling update with maxSurge and maxUnavailable, pods removed once their kubelet has finished
// them) on top of the simulated kubelets of a sim.World.
type fleet struct {
	w    *sim.World
	seed uint64
	node string
	// d is the Deployment as it is now; its pod template is defaulted like the API server's.
	d    *appsv1.Deployment
	hash string
	// replicas, surge and unavailable are spec.replicas and the resolved rolling update bounds.
	replicas, surge, unavailable int32

	sets  []*replicaSet
	pods  []*podRec // every pod ever created, in creation order
	live  []*podRec // the pods not yet removed, in creation order
	names map[string]bool

	// onDelete is called when a pod is deleted (before the kubelet has stopped it).
	onDelete func(*podRec, time.Time)
	// hung reports whether a pod is hung (it serves nothing even while Ready).
	hung func(*podRec) bool
}

// replicaSet is one pod-template revision of the Deployment.
type replicaSet struct {
	hash string
	// tag names the ReplicaSet's pods. It is derived from the seed and the ReplicaSet's ordinal rather than from
	// the template, so that the n-th pod of the n-th ReplicaSet has the same name (hence the same random
	// streams in the simulator) whatever its probes: runs with different probe settings see the same
	// application behaviour for as long as their random draws stay in step.
	tag      string
	template *corev1.PodTemplateSpec
	replicas int32
	created  int // pods created so far
}

// podRec is one pod of the fleet.
type podRec struct {
	rs  *replicaSet
	obj *corev1.Pod
	ps  *sim.PodSim
	seq int // creation order in the fleet

	deleting bool
	removed  bool

	statusVersion uint64
	hasStatus     bool
}

func newFleet(w *sim.World, sc *Scenario, d *appsv1.Deployment, seed uint64) *fleet {
	f := &fleet{
		w: w, seed: seed, node: "sim-node-1", d: d,
		replicas: sc.Replicas, surge: sc.surge, unavailable: sc.unavailable,
		names: map[string]bool{},
	}
	f.hash = sim.TemplateHash(&d.Spec.Template)
	return f
}

// object returns the pod as the API server would show it now (status refreshed when it changed).
func (p *podRec) object() *corev1.Pod {
	if v := p.ps.StatusVersion(); !p.hasStatus || v != p.statusVersion {
		p.obj.Status = p.ps.Status()
		p.statusVersion, p.hasStatus = v, true
	}
	return p.obj
}

func (p *podRec) ready() bool { return !p.deleting && !p.removed && p.ps.Ready() }

func (p *podRec) restarts() int32 {
	var n int32
	st := &p.object().Status
	for _, list := range [][]corev1.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses} {
		for _, c := range list {
			n += c.RestartCount // native sidecars' restarts count too; plain init containers have none
		}
	}
	return n
}

// setTemplate replaces the Deployment's pod template: a new revision when its hash is new, the revival of an
// older ReplicaSet when the template equals one seen before (a revert).
func (f *fleet) setTemplate(t corev1.PodTemplateSpec) {
	sim.ApplyDefaults(&t.Spec)
	f.d.Spec.Template = t
	f.hash = sim.TemplateHash(&f.d.Spec.Template)
}

// probes returns the current template's probes per container, native sidecars included.
func (f *fleet) probes() map[string]probes.Set {
	out := map[string]probes.Set{}
	for _, c := range probes.Tunable(&f.d.Spec.Template.Spec) {
		out[c.Name] = probes.Set{Startup: c.StartupProbe.DeepCopy(), Liveness: c.LivenessProbe.DeepCopy(), Readiness: c.ReadinessProbe.DeepCopy()}
	}
	return out
}

func (f *fleet) set(hash string) *replicaSet {
	for _, rs := range f.sets {
		if rs.hash == hash {
			return rs
		}
	}
	return nil
}

// active returns the pods of rs (all ReplicaSets when nil) that are not terminating, oldest first.
func (f *fleet) active(rs *replicaSet) []*podRec {
	var out []*podRec
	for _, p := range f.live {
		if !p.deleting && (rs == nil || p.rs == rs) {
			out = append(out, p)
		}
	}
	return out
}

// countActive counts the pods of rs (all ReplicaSets when nil) that are not terminating.
func (f *fleet) countActive(rs *replicaSet) int32 {
	var n int32
	for _, p := range f.live {
		if !p.deleting && (rs == nil || p.rs == rs) {
			n++
		}
	}
	return n
}

func (f *fleet) available(rs *replicaSet) int32 {
	var n int32
	for _, p := range f.live {
		if p.rs == rs && p.ready() {
			n++
		}
	}
	return n
}

// servingPods counts the pods that are Ready, not terminating and not hung: the replicas that serve.
func (f *fleet) servingPods() int {
	n := 0
	for _, p := range f.live {
		if p.ready() && (f.hung == nil || !f.hung(p)) {
			n++
		}
	}
	return n
}

// present returns the pods that exist (terminating ones included), with their current status.
func (f *fleet) present() []*corev1.Pod {
	out := make([]*corev1.Pod, 0, len(f.live))
	for _, p := range f.live {
		out = append(out, p.object())
	}
	return out
}

// rollingOut reports what the operator reads from the Deployment's status: the current template has not
// finished rolling out (fewer updated replicas than wanted, or pods of older revisions still running).
func (f *fleet) rollingOut() bool {
	updated := f.countActive(f.set(f.hash))
	total := f.countActive(nil)
	return updated < f.replicas || total > updated
}

// busy reports whether the controllers still have work: a rollout in progress or pods terminating.
func (f *fleet) busy() bool {
	if f.set(f.hash) == nil {
		return true
	}
	for _, p := range f.live {
		if p.deleting || p.rs.hash != f.hash {
			return true
		}
	}
	for _, rs := range f.sets {
		if f.countActive(rs) != rs.replicas {
			return true
		}
	}
	return false
}

// sync runs one pass of the Deployment controller's rolling update and of the ReplicaSet controller, and
// removes the pods the kubelet has finished. It mirrors pkg/controller/deployment/rolling.go: scale the new
// ReplicaSet up within maxSurge, then scale old ReplicaSets down, unhealthy pods first, without going below
// replicas - maxUnavailable available pods.
func (f *fleet) sync(now time.Time) error {
	if !f.busy() {
		return nil
	}
	live := f.live[:0]
	for _, p := range f.live {
		if p.deleting && p.ps.Finished() {
			f.w.RemovePod(p.obj.Namespace, p.obj.Name)
			p.removed = true
			continue
		}
		live = append(live, p)
	}
	clear(f.live[len(live):])
	f.live = live
	newRS := f.set(f.hash)
	if newRS == nil {
		newRS = &replicaSet{hash: f.hash, tag: f.nameTag(len(f.sets)), template: f.d.Spec.Template.DeepCopy()}
		f.sets = append(f.sets, newRS)
	}
	var old []*replicaSet
	for _, rs := range f.sets {
		if rs != newRS {
			old = append(old, rs)
		}
	}
	total := func() int32 {
		var n int32
		for _, rs := range f.sets {
			n += rs.replicas
		}
		return n
	}

	// Scale up the new ReplicaSet within maxSurge.
	if newRS.replicas < f.replicas {
		if room := f.replicas + f.surge - total(); room > 0 {
			newRS.replicas += min(room, f.replicas-newRS.replicas)
		}
	} else if newRS.replicas > f.replicas {
		newRS.replicas = f.replicas
	}

	// Scale old ReplicaSets down.
	minAvailable := f.replicas - f.unavailable
	newUnavailable := newRS.replicas - f.available(newRS)
	if maxScaledDown := total() - minAvailable - newUnavailable; maxScaledDown > 0 {
		var cleaned int32
		for _, rs := range old { // unhealthy pods first: they cost no availability
			if cleaned >= maxScaledDown {
				break
			}
			if unhealthy := rs.replicas - f.available(rs); unhealthy > 0 {
				n := min(unhealthy, maxScaledDown-cleaned)
				rs.replicas -= n
				cleaned += n
			}
		}
		var avail int32
		for _, rs := range f.sets {
			avail += f.available(rs)
		}
		if avail > minAvailable {
			budget := avail - minAvailable
			for _, rs := range old {
				if budget <= 0 {
					break
				}
				n := min(rs.replicas, budget)
				rs.replicas -= n
				budget -= n
			}
		}
	}

	// The ReplicaSet controller: create or delete pods to match each ReplicaSet's replicas.
	for _, rs := range f.sets {
		pods := f.active(rs)
		for n := int32(len(pods)); n < rs.replicas; n++ {
			if err := f.createPod(rs); err != nil {
				return err
			}
		}
		if extra := len(pods) - int(rs.replicas); extra > 0 {
			f.deletePods(pods, extra, now)
		}
	}
	return nil
}

// createPod adds one pod of rs to the world, bound to the node at once.
func (f *fleet) createPod(rs *replicaSet) error {
	var name string
	for {
		rs.created++
		name = fmt.Sprintf("%s-%s-%s", f.d.Name, rs.tag, token(5, f.seed, rs.tag, fmt.Sprint(rs.created)))
		if !f.names[name] {
			break
		}
	}
	f.names[name] = true
	d := *f.d
	d.Spec.Template = *rs.template
	pod := sim.PodFromTemplate(&d, rs.hash, "x")
	pod.Name = name
	pod.OwnerReferences[0].Name = f.d.Name + "-" + rs.tag
	ps, err := f.w.AddPod(pod, f.node)
	if err != nil {
		return fmt.Errorf("creating pod %s: %w", name, err)
	}
	pod.UID = ps.UID()
	pod.Spec.NodeName = f.node
	p := &podRec{rs: rs, obj: pod, ps: ps, seq: len(f.pods)}
	f.pods = append(f.pods, p)
	f.live = append(f.live, p)
	return nil
}

// deletePods deletes n of the given pods, chosen as the ReplicaSet controller does: not ready before ready,
// more restarts before fewer, newer before older.
func (f *fleet) deletePods(pods []*podRec, n int, now time.Time) {
	ranked := append([]*podRec(nil), pods...)
	sort.SliceStable(ranked, func(i, j int) bool {
		a, b := ranked[i], ranked[j]
		if ra, rb := a.ready(), b.ready(); ra != rb {
			return !ra
		}
		if ra, rb := a.restarts(), b.restarts(); ra != rb {
			return ra > rb
		}
		return a.seq > b.seq
	})
	for _, p := range ranked[:n] {
		f.deletePod(p, now)
	}
}

func (f *fleet) deletePod(p *podRec, now time.Time) {
	if p.deleting {
		return
	}
	_ = p.ps.Delete(now, nil) // only fails for a negative grace period, which is not given
	p.deleting = true
	grace := *p.obj.Spec.TerminationGracePeriodSeconds
	ts := metav1.NewTime(now.Add(time.Duration(grace) * time.Second).Truncate(time.Second))
	p.obj.DeletionTimestamp = &ts
	p.obj.DeletionGracePeriodSeconds = &grace
	if f.onDelete != nil {
		f.onDelete(p, now)
	}
}

// nameTag is the name part of the ordinal-th ReplicaSet's pods.
func (f *fleet) nameTag(ordinal int) string {
	return token(10, f.seed, f.d.Namespace, f.d.Name, "rs", fmt.Sprint(ordinal))
}

// token derives n characters of the Kubernetes name-suffix alphabet from the parts.
func token(n int, seed uint64, parts ...string) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	h := fnv.New64a()
	fmt.Fprintf(h, "%d", seed)
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	v := h.Sum64()
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[v%uint64(len(alphabet))]
		v /= uint64(len(alphabet))
		if v == 0 {
			v = h.Sum64() ^ uint64(i+1)*0x9e3779b97f4a7c15
		}
	}
	return string(b)
}
