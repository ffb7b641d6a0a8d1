package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Status returns the pod status the kubelet would report now. It is built on
// demand (and cached until the next change); the caller owns the result.
func (p *PodSim) Status() corev1.PodStatus {
	if p.cache == nil || p.cacheVersion != p.version {
		s := p.buildStatus()
		p.cache = &s
		p.cacheVersion = p.version
	}
	return *p.cache.DeepCopy()
}

// stamp converts an offset into a second-precision API time, as the status
// manager stores it (status_manager.go normalizeStatus).
func (p *PodSim) stamp(t time.Duration) metav1.Time {
	return metav1.NewTime(p.w.epoch.Add(t).Truncate(time.Second))
}

func (p *PodSim) buildStatus() corev1.PodStatus {
	pod := p.pod
	s := corev1.PodStatus{
		HostIP:             p.hostIP,
		HostIPs:            []corev1.HostIP{{IP: p.hostIP}},
		PodIP:              p.podIP,
		PodIPs:             []corev1.PodIP{{IP: p.podIP}},
		QOSClass:           pod.Status.QOSClass,
		ObservedGeneration: pod.Generation,
	}
	if s.QOSClass == "" {
		s.QOSClass = qosClass(&pod.Spec)
	}
	start := p.stamp(p.addedAt)
	s.StartTime = &start
	for i := range pod.Spec.InitContainers {
		if c := p.sidecar(i); c != nil {
			s.InitContainerStatuses = append(s.InitContainerStatuses, c.status())
			continue
		}
		s.InitContainerStatuses = append(s.InitContainerStatuses, p.initContainerStatus(i))
	}
	for _, c := range p.containers {
		if !c.sidecar {
			s.ContainerStatuses = append(s.ContainerStatuses, c.status())
		}
	}
	slices.SortFunc(s.ContainerStatuses, func(a, b corev1.ContainerStatus) int { return strings.Compare(a.Name, b.Name) })
	s.Phase = p.phase(&s)
	s.Conditions = p.conditions(&s)
	return s
}

// initContainerStatus reports plain init container i: the simulator does not
// run it, so it shows completed from the moment the kubelet reached it, and
// waiting (PodInitializing) before.
func (p *PodSim) initContainerStatus(i int) corev1.ContainerStatus {
	c := &p.pod.Spec.InitContainers[i]
	f := false
	if i >= p.initReached {
		return corev1.ContainerStatus{Name: c.Name, Image: c.Image, Started: &f,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: WaitingPodInitializing}}}
	}
	at := p.stamp(p.initDoneAt[i])
	return corev1.ContainerStatus{
		Name:         c.Name,
		Image:        c.Image,
		ImageID:      imageID(c.Image),
		ContainerID:  containerID(p.w.seed, p.uid, "init/"+c.Name, 0),
		Ready:        true,
		Started:      &f,
		State:        corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: TerminatedCompleted, StartedAt: at, FinishedAt: at, ContainerID: containerID(p.w.seed, p.uid, "init/"+c.Name, 0)}},
		RestartCount: 0,
	}
}

// terminated returns the terminated state of an exited instance.
func (c *container) terminated(in *instance) *corev1.ContainerStateTerminated {
	return &corev1.ContainerStateTerminated{
		ExitCode:    in.code,
		Reason:      in.reason,
		StartedAt:   c.p.stamp(in.startedAt),
		FinishedAt:  c.p.stamp(in.finishedAt),
		ContainerID: in.id,
	}
}

// status builds the container status from the visible instance
// (kubelet_pods.go convertToAPIContainerStatuses).
func (c *container) status() corev1.ContainerStatus {
	st := corev1.ContainerStatus{
		Name:  c.spec.Name,
		Image: c.spec.Image,
	}
	started := c.started()
	st.Started = &started
	v := c.vis
	if v == nil {
		// The kubelet's default state for a container the runtime does not
		// show yet; in a pod with init containers it names the initialization.
		reason := WaitingContainerCreating
		if len(c.p.pod.Spec.InitContainers) > 0 {
			reason = WaitingPodInitializing
		}
		st.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason}
		return st
	}
	st.ContainerID = v.id
	st.ImageID = c.imageID
	st.RestartCount = v.n
	if !v.seenExited {
		st.State.Running = &corev1.ContainerStateRunning{StartedAt: c.p.stamp(v.startedAt)}
		if c.prevVis != nil && c.prevVis.exited {
			st.LastTerminationState.Terminated = c.terminated(c.prevVis)
		}
		st.Ready = c.ready()
		if len(c.spec.Resources.Requests) > 0 || len(c.spec.Resources.Limits) > 0 {
			r := c.spec.Resources.DeepCopy()
			st.Resources = r
			st.AllocatedResources = r.Requests.DeepCopy()
		}
		return st
	}
	if c.waitReason != "" && !c.p.finished {
		st.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.waitReason, Message: c.waitMessage}
		st.LastTerminationState.Terminated = c.terminated(v)
		return st
	}
	st.State.Terminated = c.terminated(v)
	if c.prevVis != nil && c.prevVis.exited {
		st.LastTerminationState.Terminated = c.terminated(c.prevVis)
	}
	return st
}

// phase follows kubelet_pods.go getPhase: a pod is Pending while an init
// container is not done (a sidecar not started counts only until an app
// container has run), and otherwise follows its app containers; a running
// sidecar counts as running, a sidecar that exited does not count.
func (p *PodSim) phase(ps *corev1.PodStatus) corev1.PodPhase {
	running, waiting, stopped, succeeded := 0, 0, 0, 0
	pendingInit, pendingSidecar, appStarted := false, false, false
	for i, s := range ps.InitContainerStatuses {
		switch {
		case !isSidecar(&p.pod.Spec.InitContainers[i]):
			pendingInit = pendingInit || s.State.Terminated == nil
		case s.State.Running != nil:
			running++
			pendingSidecar = pendingSidecar || s.Started == nil || !*s.Started
		case s.State.Waiting != nil && s.LastTerminationState.Terminated == nil:
			waiting++
			pendingSidecar = true
		}
	}
	cs := ps.ContainerStatuses
	for _, s := range cs {
		appStarted = appStarted || s.State.Running != nil || s.State.Terminated != nil
	}
	for _, s := range cs {
		switch {
		case s.State.Running != nil:
			running++
		case s.State.Terminated != nil:
			stopped++
			if s.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case s.State.Waiting != nil:
			if s.LastTerminationState.Terminated != nil {
				stopped++
			} else {
				waiting++
			}
		}
	}
	switch {
	case p.finished && running == 0:
		if waiting == 0 && stopped == succeeded {
			return corev1.PodSucceeded
		}
		return corev1.PodFailed
	case pendingInit || (pendingSidecar && !appStarted) || waiting > 0:
		return corev1.PodPending
	case running > 0:
		return corev1.PodRunning
	case stopped > 0:
		switch p.pod.Spec.RestartPolicy {
		case corev1.RestartPolicyNever:
			if stopped == succeeded {
				return corev1.PodSucceeded
			}
			return corev1.PodFailed
		case corev1.RestartPolicyOnFailure:
			if stopped == succeeded {
				return corev1.PodSucceeded
			}
		}
		return corev1.PodRunning
	}
	return corev1.PodPending
}

// conditions builds the pod conditions in the kubelet's order
// (kubelet_pods.go generateAPIPodStatus, status/generate.go), with the
// transition times the status manager keeps (updateLastTransitionTime).
func (p *PodSim) conditions(s *corev1.PodStatus) []corev1.PodCondition {
	gen := p.pod.Generation
	added := p.stamp(p.addedAt)
	sandbox := corev1.PodCondition{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue, LastTransitionTime: added, ObservedGeneration: gen}
	if p.finished {
		sandbox.Status = corev1.ConditionFalse
		sandbox.LastTransitionTime = p.stamp(p.finishedAt)
	}
	initialized := corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: p.stamp(p.initializedSince), ObservedGeneration: gen}
	if !p.initialized {
		initialized.Status = corev1.ConditionFalse
		initialized.Reason = "ContainersNotInitialized"
		initialized.Message = fmt.Sprintf("containers with incomplete status: %s", "["+strings.Join(p.incompleteInit(), " ")+"]")
	}
	ready := corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: p.stamp(p.readySince), ObservedGeneration: gen}
	if !p.ready {
		ready.Status = corev1.ConditionFalse
		switch {
		case p.finished && s.Phase == corev1.PodFailed:
			ready.Reason = "PodFailed"
		case p.finished && s.Phase == corev1.PodSucceeded:
			ready.Reason = "PodCompleted"
		default:
			var unready []string
			for i, c := range s.InitContainerStatuses {
				if isSidecar(&p.pod.Spec.InitContainers[i]) && !c.Ready {
					unready = append(unready, c.Name) // sidecars gate readiness too, named first
				}
			}
			for _, c := range s.ContainerStatuses {
				if !c.Ready {
					unready = append(unready, c.Name)
				}
			}
			ready.Reason = "ContainersNotReady"
			ready.Message = fmt.Sprintf("containers with unready status: %s", "["+strings.Join(unready, " ")+"]")
		}
	}
	containersReady := ready
	containersReady.Type = corev1.ContainersReady
	scheduled := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: p.scheduledAt, ObservedGeneration: gen}
	return []corev1.PodCondition{sandbox, initialized, ready, containersReady, scheduled}
}

// qosClass computes the QoS class from requests and limits (simplified
// pkg/apis/core/v1/helper/qos: Guaranteed when every container has equal cpu
// and memory requests and limits, BestEffort when nothing is set).
func qosClass(spec *corev1.PodSpec) corev1.PodQOSClass {
	set, guaranteed := false, true
	for _, c := range spec.Containers {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			if hasReq || hasLim {
				set = true
			}
			if !hasLim {
				guaranteed = false
				continue
			}
			if hasReq && req.Cmp(lim) != 0 {
				guaranteed = false
			}
		}
	}
	switch {
	case !set:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}
