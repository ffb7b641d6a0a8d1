package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// never is an offset that is never reached.
const never = time.Duration(math.MaxInt64)

// container is one container of a pod: its probe workers, its runtime
// instances and its CrashLoopBackOff entry.
type container struct {
	p         *PodSim
	idx       int
	spec      *corev1.Container
	b         *Behavior
	rng       *rand.Rand // the app's randomness
	fieldPath string
	imageID   string

	// sidecar marks a native sidecar (an init container with restartPolicy Always), initIdx its index among the
	// pod's init containers; stopPending says its Killing event is out and it waits for its turn to get SIGTERM
	// while the pod terminates.
	sidecar     bool
	initIdx     int
	stopPending bool

	workers [numProbeTypes]*worker

	// cur is the newest runtime instance; vis the instance the kubelet's status
	// shows; prevVis the visible instance before vis (for lastState).
	cur, vis, prevVis *instance
	starting          *instance // being pulled/created
	n                 int32     // instances created so far
	// gens is the last generation handed to one of the container's instances: instance generations come from
	// this one counter so that a timer scheduled for an instance never matches a later instance.
	gens uint64

	backoff     backoffEntry
	waitReason  string // reason cache: CrashLoopBackOff while backing off
	waitMessage string
}

// instance is one run of a container (one container ID).
type instance struct {
	id           string
	n            int32  // restartCount of this instance
	gen          uint64 // invalidates the instance's pending start and exit timers; unique within the container
	startedAt    time.Duration
	startedTrunc time.Duration // startedAt truncated to the second, as the status manager stores it
	running      bool

	// App state.
	readyAt     time.Duration // serves health checks from then on
	hangAt      time.Duration
	hangCounted bool

	// Pending exit (crash, OOM or the end of a kill).
	exitAt     time.Duration
	exitCode   int32
	exitReason string
	exitCause  Cause
	sigtermAt  time.Duration // -1 until SIGTERM
	killCause  Cause
	waiter     bool // the pod worker waits for this exit

	// Exit, once it happened.
	exited     bool
	finishedAt time.Duration
	code       int32
	reason     string
	cause      Cause
	seenExited bool // the kubelet's status shows the exit
}

func (in *instance) hung(t time.Duration) bool { return t >= in.hangAt }

// newContainer makes the simulated container of spec, which is p.containers[idx]: the app container
// pod.Spec.Containers[specIdx], or the native sidecar pod.Spec.InitContainers[specIdx] when sidecar is set.
func newContainer(p *PodSim, idx int, spec *corev1.Container, specIdx int, sidecar bool, b *Behavior) (*container, error) {
	if b == nil {
		d := DefaultBehavior()
		b = &d
	}
	list := "containers"
	if sidecar {
		list = "initContainers"
	}
	c := &container{
		p:         p,
		idx:       idx,
		spec:      spec,
		b:         b,
		rng:       newRand(p.w.seed, "app", p.pod.Namespace, p.pod.Name, spec.Name),
		fieldPath: fmt.Sprintf("spec.%s{%s}", list, spec.Name),
		imageID:   imageID(spec.Image),
		sidecar:   sidecar,
		initIdx:   specIdx,
	}
	if spec.Name == "" {
		c.fieldPath = fmt.Sprintf("spec.%s[%d]", list, specIdx)
	}
	for t, pr := range [numProbeTypes]*corev1.Probe{Startup: spec.StartupProbe, Readiness: spec.ReadinessProbe, Liveness: spec.LivenessProbe} {
		if pr != nil {
			c.workers[t] = newWorker(c, ProbeType(t), pr)
		}
	}
	return c, nil
}

// refreshVisible applies the runtime changes up to asOf to the visible status;
// it reports whether anything changed.
func (c *container) refreshVisible(asOf time.Duration) bool {
	changed := false
	if cur := c.cur; cur != nil && cur != c.vis && cur.running && cur.startedAt <= asOf {
		c.prevVis, c.vis = c.vis, cur
		changed = true
	}
	if v := c.vis; v != nil && v.exited && !v.seenExited && v.finishedAt <= asOf {
		v.seenExited = true
		changed = true
	}
	if changed && c.workers[Startup] != nil {
		c.workers[Startup].wake()
	}
	return changed
}

func (c *container) visibleRunning() bool { return c.vis != nil && !c.vis.seenExited }

// started is the status' started flag (prober_manager.go isContainerStarted):
// the startup probe succeeded for the visible container, or there is none.
func (c *container) started() bool {
	if !c.visibleRunning() {
		return false
	}
	if wk := c.workers[Startup]; wk != nil && !wk.stopped {
		return wk.resultFor(c.vis.id) == resSuccess
	}
	return true
}

// ready is the status' ready flag: started, running and readiness succeeded
// (or there is no readiness probe).
func (c *container) ready() bool {
	if !c.started() {
		return false
	}
	if wk := c.workers[Readiness]; wk != nil {
		return wk.resultFor(c.vis.id) == resSuccess
	}
	return true
}

// maybeTriggerReadiness runs the readiness probe at once when the container is
// started but not ready, as UpdatePodStatus does on every sync.
func (c *container) maybeTriggerReadiness() {
	wk := c.workers[Readiness]
	if wk == nil || !c.started() || wk.resultFor(c.vis.id) == resSuccess {
		return
	}
	wk.trigger()
}

// shouldRestart applies the pod's restart policy to the visible exited
// instance (container/helpers.go ShouldContainerBeRestarted); a native
// sidecar is always restarted, whatever the pod's policy.
func (c *container) shouldRestart() bool {
	if c.sidecar {
		return true
	}
	switch c.p.pod.Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return c.vis.code != 0
	}
	return true
}

func (c *container) setWaiting(reason, msg string) {
	if c.waitReason == reason && c.waitMessage == msg {
		return
	}
	c.waitReason, c.waitMessage = reason, msg
	c.p.w.markDirty(c.p)
	c.p.updateInitialized() // a waiting app container no longer counts as started
}
