// Package sim is a deterministic, discrete-event model of how a Kubernetes
// 1.36 kubelet runs liveness, readiness and startup probes, kills and restarts
// containers, and reports pod status and events, driven by simulated
// applications whose behaviour is read from pod annotations.
//
// The same World serves two kinds of users. In virtual time (probesim, tests,
// the tuning benchmark) the caller advances the clock with Advance or RunUntil
// and 24 hours of 10 replicas take well under a second. In real time (a
// simulated kubelet writing statuses to a real API server) the caller creates
// the World with Epoch = time.Now() and calls RunUntil(time.Now()) every
// 100-250ms from one goroutine. The package starts no goroutines, imports no
// client, and is not safe for concurrent use. Outputs are real
// corev1.PodStatus values (PodSim.Status, built on demand) and kubelet events
// (Event), delivered through hooks (Options.OnEvent, Options.OnStatusChange)
// or drained (DrainEvents, DrainChanged).
//
// # Determinism
//
// All randomness comes from math/rand/v2 PCG streams seeded from the world
// seed and the pod's namespace and name (and container name), so equal inputs
// and seed give equal outputs, and adding a pod does not change the random
// draws of the others. Timers that fall on the same instant run in the order
// they were scheduled.
//
// # Kubelet rules and where they come from
//
// Paths are relative to k8s.io/kubernetes@v1.36.3. The code is written from
// these rules; none of it is copied.
//
//   - API defaults for probes (timeoutSeconds 1, periodSeconds 10,
//     successThreshold 1, failureThreshold 3), httpGet path "/" and scheme HTTP,
//     terminationGracePeriodSeconds 30, restartPolicy Always, imagePullPolicy:
//     pkg/apis/core/v1/defaults.go (SetDefaults_Probe, SetDefaults_PodSpec,
//     SetDefaults_Container, SetDefaults_HTTPGetAction). Probe validation
//     (successThreshold 1 for liveness/startup, no terminationGracePeriodSeconds
//     on readiness, one handler): pkg/apis/core/validation/validation.go.
//   - One worker per container and probe type, created with the pod; it probes
//     at once, then on a ticker of periodSeconds started when the worker is
//     created; a random first delay only when the kubelet started less than a
//     period ago: pkg/kubelet/prober/prober_manager.go (AddPod) and
//     pkg/kubelet/prober/worker.go (run).
//   - doProbe, in order: no container yet -> wait; a new container ID seeds the
//     initial result (readiness Failure, liveness Success, startup Unknown) and
//     ends the hold; on hold -> skip; container not running -> Failure;
//     pod deleted -> liveness/startup report Success and stop; whole seconds
//     since state.running.startedAt (second precision, as the status manager
//     stores it) below initialDelaySeconds -> skip; startup stops once started;
//     liveness and readiness wait until started; a result changes only after
//     failureThreshold / successThreshold consecutive results (the run counters
//     survive container restarts and are reset only when the worker holds);
//     after a liveness Failure or any startup result the worker holds until a
//     new container ID: pkg/kubelet/prober/worker.go (doProbe).
//   - Probe outputs and event texts ("<Type> probe failed: <output>",
//     "... probe errored and resulted in unknown state: ..."):
//     pkg/kubelet/prober/prober.go; the outputs of pkg/probe/http/http.go
//     (url.Error texts, "HTTP probe failed with statuscode: %d"),
//     pkg/probe/http/request.go (URL from scheme, host or pod IP, port, path),
//     pkg/probe/tcp/tcp.go, pkg/probe/grpc/grpc.go (WithBlock dial: a refused
//     connection ends as a connect timeout), pkg/probe/exec/exec.go and
//     k8s.io/cri-client ErrCommandTimedOut; named ports:
//     pkg/probe/util.go (ResolveContainerPort).
//   - started and ready flags: started follows the startup probe (true without
//     one); ready needs started, running and readiness Success (true without a
//     readiness probe); a sync of a started but unready container triggers an
//     immediate readiness probe that re-phases its ticker:
//     pkg/kubelet/prober/prober_manager.go (UpdatePodStatus, isContainerStarted)
//     and worker.go (manualTriggerCh).
//   - Probe result changes sync the pod (readiness and startup always, liveness
//     on Failure): pkg/kubelet/kubelet.go (syncLoopIteration, handleProbeSync);
//     results are published only when they change:
//     pkg/kubelet/prober/results/results_manager.go.
//   - A pod sync waits for a PLEG relist newer than the end of its previous
//     sync; the generic PLEG relists every second; after a sync the pod is
//     requeued after the resync period (1m) or the back-off expiry, with 50%
//     jitter: pkg/kubelet/pod_workers.go (GetNewerThan, completeWork),
//     pkg/kubelet/kubelet.go (genericPlegRelistPeriod),
//     pkg/kubelet/apis/config/v1beta1/defaults.go (SyncFrequency).
//   - Kill on liveness/startup failure inside the same SyncPod that restarts
//     the container, with the message "Container <c> failed liveness probe,
//     will be restarted"; grace period = pod deletionGracePeriodSeconds, else
//     the probe's terminationGracePeriodSeconds, else the pod's; at least 2s:
//     pkg/kubelet/kuberuntime/kuberuntime_manager.go (computePodActions,
//     SyncPod, minimumGracePeriodInSeconds) and kuberuntime_container.go
//     (killContainer, setTerminationGracePeriod).
//   - CrashLoopBackOff: 10s initial, doubling, 300s cap, no jitter, reset when
//     an exit comes more than 600s after the last back-off update; the check
//     uses the finish time of the newest exited container in the pod status the
//     sync started with - after a probe kill that is the exit before the kill,
//     so the first probe-kill restarts are immediate (kubernetes#22240,
//     #99697); waiting reason CrashLoopBackOff with "back-off <d> restarting
//     failed container=<c> pod=<pod>_<ns>(<uid>)", event BackOff "Back-off
//     restarting failed container <c> in pod <pod>_<ns>(<uid>)":
//     kuberuntime_manager.go (doBackOff), pkg/kubelet/kubelet.go
//     (newCrashLoopBackOff, HasExpiredFunc), k8s.io/client-go
//     util/flowcontrol/backoff.go, pkg/kubelet/util/format/pod.go.
//   - Restart decisions: pkg/kubelet/container/helpers.go
//     (ShouldContainerBeRestarted).
//   - Events and reasons (Pulled, Created "Container created", Started
//     "Container started", Killing, BackOff, Unhealthy): pkg/kubelet/events/event.go,
//     kuberuntime_container.go (startContainer), pkg/kubelet/images/image_manager.go
//     ("Container image ... already present on machine and can be accessed by
//     the pod" with KubeletEnsureSecretPulledImages on by default).
//   - Container statuses (state, lastState from the previous container,
//     restartCount, containerID, waiting reason from the reason cache), pod
//     phase and conditions (PodReadyToStartContainers, Initialized, Ready,
//     ContainersReady, PodScheduled, in that order, "containers with unready
//     status: [...]"): pkg/kubelet/kubelet_pods.go (convertToAPIContainerStatuses,
//     getPhase, generateAPIPodStatus), pkg/kubelet/status/generate.go;
//     second-precision times and lastTransitionTime kept while the status does
//     not change: pkg/kubelet/status/status_manager.go (normalizeStatus,
//     updateLastTransitionTime).
//   - Pod deletion: liveness and startup workers stop, readiness keeps probing,
//     every running container is stopped ("Stopping container <c>") with the
//     deletion grace period, then the pod reports a terminal phase:
//     pkg/kubelet/kubelet.go (SyncTerminatingPod),
//     prober_manager.go (StopLivenessAndStartup).
//   - Native sidecars (init containers with restartPolicy Always,
//     pkg/api/v1/pod IsRestartableInitContainer) run like app containers:
//     probes, kills ("Init container <c> failed liveness probe"), back-off and
//     restarts whatever the pod's restartPolicy. Init containers are reached in
//     order; the next once a sidecar has started (startup probe passed, or
//     running without one); the app containers are looked at once one of them
//     runs or the last init container is done: kuberuntime_manager.go
//     (computeInitContainerActions). Plain init containers are not run: each is
//     reported completed when reached. Phase, Initialized ("containers with
//     incomplete status: [...]") and the sidecars' share of Ready:
//     kubelet_pods.go (getPhase), status/generate.go. On deletion a sidecar
//     gets SIGTERM after the app containers and later sidecars exited, with
//     the rest of the grace period: kuberuntime_termination_order.go,
//     kuberuntime_container.go (killContainer).
//
// See docs/simulator.md for the annotations, the modelling choices and what
// is deliberately not modelled.
package sim
