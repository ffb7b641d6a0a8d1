// Command benchscale is probe-tuner's scale benchmark (make bench-scale) and, with -soak, its soak (make soak,
// soak.go). It starts a local control plane with
// the simulated kubelet, runs N Deployments of 5 pods across N/10 ProbePolicies (5% crash-looping, created once
// the others run; 5% flapping readiness; the rest healthy), runs the operator and, side by side, a bare
// controller-runtime manager caching the same pods unfiltered (hack/cachefloor, the floor), and measures memory
// per watched pod, CPU per pod status update, time from evidence to decision, reconcile latency and API requests
// per decision. It writes bin/bench-scale.json and prints a table.
package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/scheme"
	"github.com/probetuner/probe-tuner/test/harness/localcluster"
)

const replicas = 5

// scrapeInterval is how often the window samples the heap from the metrics endpoints: the chart's ServiceMonitor
// interval (dist/chart/values.yaml).
const scrapeInterval = 30 * time.Second

type result struct {
	Deployments                    int     `json:"deployments"`
	Pods                           int     `json:"pods"`
	Policies                       int     `json:"policies"`
	BytesPerPod                    float64 `json:"bytesPerPod"`
	FloorBytesPerPod               float64 `json:"floorBytesPerPod"`
	MarginalBytesPerPod            float64 `json:"marginalBytesPerPod"`
	FloorMarginalBytesPerPod       float64 `json:"floorMarginalBytesPerPod"`
	PodsRemoved                    int     `json:"podsRemovedForMarginal"`
	LiveHeapBytes                  float64 `json:"liveHeapBytes"`
	FloorLiveHeapBytes             float64 `json:"floorLiveHeapBytes"`
	HeapInuseBytes                 float64 `json:"heapInuseBytes"`
	FloorHeapInuseBytes            float64 `json:"floorHeapInuseBytes"`
	PeakRSSBytes                   float64 `json:"peakRSSBytes"`
	FloorPeakRSSBytes              float64 `json:"floorPeakRSSBytes"`
	CPUSecondsPer1000Updates       float64 `json:"cpuSecondsPer1000StatusUpdates"`
	FloorCPUSecondsPer1000         float64 `json:"floorCpuSecondsPer1000StatusUpdates"`
	StatusUpdates                  float64 `json:"statusUpdatesInWindow"`
	DecisionLatencySeconds         float64 `json:"decisionLatencySeconds"`
	DecisionLatencyP50Seconds      float64 `json:"decisionLatencyP50Seconds"`
	DecisionLatencyFromFirstKill   float64 `json:"decisionLatencyFromFirstKillSecondsMax"`
	DecisionAfterVisibleP50Seconds float64 `json:"decisionAfterEvidenceVisibleP50Seconds"`
	DecisionAfterVisibleMaxSeconds float64 `json:"decisionAfterEvidenceVisibleMaxSeconds"`
	KillingEventLagP50Seconds      float64 `json:"killingEventLagP50Seconds"`
	KillingEventLagMaxSeconds      float64 `json:"killingEventLagMaxSeconds"`
	CrashLoopsDecided              int     `json:"crashLoopsDecided"`
	CrashLoops                     int     `json:"crashLoops"`
	ReconcileP50Seconds            float64 `json:"reconcileP50Seconds"`
	ReconcileP99Seconds            float64 `json:"reconcileP99Seconds"`
	Reconciles                     float64 `json:"reconciles"`
	APIRequestsPerDecision         float64 `json:"apiRequestsPerDecision"`
	Decisions                      int     `json:"decisions"`
	WindowSeconds                  float64 `json:"windowSeconds"`
	// SettleSeconds is how long the benchmark waited, once the pods ran, for the simulated cluster to keep up
	// (settle); Settled says it did before the timeout.
	SettleSeconds float64 `json:"settleSeconds"`
	Settled       bool    `json:"settled"`
	// The simulated kubelet's status writes and Events in the window: how late they reached the API server.
	SimStatusWriteLagP50Seconds float64 `json:"simStatusWriteLagP50Seconds"`
	SimStatusWriteLagP99Seconds float64 `json:"simStatusWriteLagP99Seconds"`
	SimEventWriteLagP50Seconds  float64 `json:"simEventWriteLagP50Seconds"`
	SimEventWriteLagP99Seconds  float64 `json:"simEventWriteLagP99Seconds"`
}

func main() {
	n := flag.Int("n", envInt("SCALE", 1000), "Deployments (5 pods each); default $SCALE or 1000.")
	window := flag.Duration("window", 3*time.Minute, "Measurement window once the pods run.")
	out := flag.String("o", "", "Result file (default bin/bench-scale.json, or bin/soak.json with -soak).")
	soak := flag.Duration("soak", 0, "Run the soak for this long instead of the benchmark (make soak).")
	flag.Parse()
	var err error
	if *soak > 0 {
		err = runSoak(*n, *soak, cmp.Or(*out, "bin/soak.json"))
	} else {
		err = run(*n, *window, cmp.Or(*out, "bin/bench-scale.json"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchscale:", err)
		os.Exit(1)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func run(n int, window time.Duration, outPath string) error {
	pods := n * replicas
	simMetrics := freeAddr()
	logf("the benchmark: %d Deployments / %d pods", n, pods)
	cl, c, err := startCluster(n, 0, "--metrics-bind-address="+simMetrics)
	if err != nil {
		return err
	}
	defer stopCluster(cl)
	bin := filepath.Join(cl.Dir, "bin")
	for name, pkg := range map[string]string{"manager": "./cmd/manager", "cachefloor": "./hack/cachefloor"} {
		if err := goBuild(cl, filepath.Join(bin, name), pkg); err != nil {
			return err
		}
	}
	opMetrics, floorMetrics, opPprof, floorPprof := freeAddr(), freeAddr(), freeAddr(), freeAddr()
	op, err := startProcess(cl, filepath.Join(bin, "manager"), "manager", "--metrics-bind-address", opMetrics, "--metrics-secure=false",
		"--health-probe-bind-address", freeAddr(), "--pprof-bind-address", opPprof)
	if err != nil {
		return err
	}
	defer stopProcess(op)
	floor, err := startProcess(cl, filepath.Join(bin, "cachefloor"), "cachefloor", "--metrics-bind-address", floorMetrics, "--pprof-bind-address", floorPprof)
	if err != nil {
		return err
	}
	defer stopProcess(floor)
	time.Sleep(10 * time.Second)
	opBase, floorBase := liveHeap(opPprof), liveHeap(floorPprof)
	logf("baseline live heap: operator %.1f MiB, floor %.1f MiB", opBase/(1<<20), floorBase/(1<<20))
	logPeakRSS(op.Process.Pid, floor.Process.Pid)

	ctx := context.Background()
	const ns = "bench"
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return err
	}
	policies := max(1, n/10)
	for i := range policies {
		if err := c.Create(ctx, benchPolicy(ns, i)); err != nil {
			return err
		}
	}
	// The evidence of a crash loop: each pod's first probe kill, as its container status reports it (Events are
	// rate-limited and aggregated by the kubelet's recorder, so they are not a reliable clock at scale). A watch
	// sees each status write as it lands; listing 5,000 pods every few seconds would lag behind.
	firstKills := map[string][]podKill{}
	seenPod := map[string]bool{}
	var killsMu sync.Mutex
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	cs, err := kubernetes.NewForConfig(cl.Config)
	if err != nil {
		return err
	}
	go func() {
		for watchCtx.Err() == nil {
			w, err := cs.CoreV1().Pods(ns).Watch(watchCtx, metav1.ListOptions{})
			if err != nil {
				time.Sleep(time.Second)
				continue
			}
			for ev := range w.ResultChan() {
				p, ok := ev.Object.(*corev1.Pod)
				if !ok || !strings.Contains(p.Name, "-crash-") {
					continue
				}
				killsMu.Lock()
				for _, st := range p.Status.ContainerStatuses {
					if t := st.LastTerminationState.Terminated; t != nil && !seenPod[p.Name] {
						seenPod[p.Name] = true
						dep := deploymentOfPodName(p.Name)
						firstKills[dep] = append(firstKills[dep], podKill{pod: p.Name, at: t.FinishedAt.Time, seen: time.Now()})
					}
				}
				killsMu.Unlock()
			}
		}
	}()
	// The crash-looping Deployments come last, once the others run: their kills then land on a cluster that
	// is loaded but keeping up, not in the backlog of 5,000 pods starting at once on two cores (where the
	// simulated kubelet's status writes reported kills 15-20 s late, before the operator could see them).
	var crashers []string
	var crashing []*appsv1.Deployment
	created := time.Now()
	for i := range n {
		kind := "healthy"
		switch i % 20 {
		case 7:
			kind = "crash"
		case 13:
			kind = "flap"
		}
		d := benchDeployment(ns, fmt.Sprintf("w%04d-%s", i, kind), i%policies, kind)
		if kind == "crash" {
			crashers = append(crashers, d.Name)
			crashing = append(crashing, d)
			continue
		}
		if err := c.Create(ctx, d); err != nil {
			return fmt.Errorf("creating %s: %w", d.Name, err)
		}
	}
	logf("created %d Deployments and %d ProbePolicies in %s", n-len(crashing), policies, time.Since(created).Round(time.Second))
	logPeakRSS(op.Process.Pid, floor.Process.Pid)

	// Wait for most pods to run.
	steady := (n - len(crashing)) * replicas
	if err := waitRunning(ctx, c, ns, steady*95/100, 10*time.Minute); err != nil {
		return err
	}
	logf("%d pods should run: most do, %s after their Deployments were created", steady, time.Since(created).Round(time.Second))
	settleTook, settled := settle(simMetrics, settleTimeout)
	if settled {
		logf("the simulated cluster keeps up, %s later", settleTook.Round(time.Second))
	} else {
		logf("the simulated cluster still lags after %s: the window starts anyway, and its latencies include the backlog", settleTook.Round(time.Second))
	}
	logPeakRSS(op.Process.Pid, floor.Process.Pid)
	for _, d := range crashing {
		if err := c.Create(ctx, d); err != nil {
			return fmt.Errorf("creating %s: %w", d.Name, err)
		}
	}
	logf("created the %d crash-looping Deployments", len(crashing))

	// Measurement window.
	opCPU0, floorCPU0 := cpuSeconds(op.Process.Pid), cpuSeconds(floor.Process.Pid)
	sim0 := scrape(simMetrics)
	writes0 := sumMetric(sim0, "simkubelet_status_writes_total")
	begin := time.Now()
	var opHeap, floorHeap []float64
	// A CPU profile of the operator over the middle two thirds of the window, for whoever wants to know where its
	// time goes: at a few percent of a core, a shorter one holds too few samples to tell the parts apart.
	profiled := make(chan struct{})
	go func() {
		defer close(profiled)
		time.Sleep(window / 6)
		saveProfile(opPprof, fmt.Sprintf("profile?seconds=%d", int((window*2/3).Seconds())), filepath.Join(cl.Root, "bin", "bench-scale-cpu.pprof"))
	}()
	for time.Since(begin) < window {
		// Both processes' metrics are scraped as often as a Prometheus would (the chart's ServiceMonitor
		// interval): each scrape of the operator encodes its per-container series, ~28,000 at 1,000 Deployments,
		// and a benchmark scraping more often than Prometheus measured its own scrapes (13% of the operator's
		// CPU at 10 s).
		time.Sleep(scrapeInterval)
		opHeap = append(opHeap, scrapeValue(opMetrics, "go_memstats_heap_inuse_bytes"))
		floorHeap = append(floorHeap, scrapeValue(floorMetrics, "go_memstats_heap_inuse_bytes"))
	}
	<-profiled
	el := time.Since(begin).Seconds()
	logPeakRSS(op.Process.Pid, floor.Process.Pid)
	// Live heap: what stays reachable after a forced collection (the lowest of three looks), so that garbage
	// not yet collected does not count.
	opLive, floorLive := math.Inf(1), math.Inf(1)
	for range 3 {
		opLive, floorLive = min(opLive, liveHeap(opPprof)), min(floorLive, liveHeap(floorPprof))
	}
	saveProfile(opPprof, "heap", filepath.Join(cl.Root, "bin", "bench-scale-heap.pprof"))
	sim1 := scrape(simMetrics)
	writes := sumMetric(sim1, "simkubelet_status_writes_total") - writes0
	opCPU, floorCPU := cpuSeconds(op.Process.Pid)-opCPU0, cpuSeconds(floor.Process.Pid)-floorCPU0

	r := result{Deployments: n, Pods: pods, Policies: policies, StatusUpdates: writes, WindowSeconds: math.Round(el),
		SettleSeconds: math.Round(settleTook.Seconds()), Settled: settled}
	r.SimStatusWriteLagP50Seconds, _ = deltaQuantile(sim0, sim1, simStatusLag, 0.5)
	r.SimStatusWriteLagP99Seconds, _ = deltaQuantile(sim0, sim1, simStatusLag, 0.99)
	r.SimEventWriteLagP50Seconds, _ = deltaQuantile(sim0, sim1, simEventLag, 0.5)
	r.SimEventWriteLagP99Seconds, _ = deltaQuantile(sim0, sim1, simEventLag, 0.99)
	r.HeapInuseBytes, r.FloorHeapInuseBytes = median(opHeap), median(floorHeap)
	r.LiveHeapBytes, r.FloorLiveHeapBytes = opLive, floorLive
	r.BytesPerPod = (opLive - opBase) / float64(pods)
	r.FloorBytesPerPod = (floorLive - floorBase) / float64(pods)
	r.PeakRSSBytes, r.FloorPeakRSSBytes = vmHWM(op.Process.Pid), vmHWM(floor.Process.Pid)
	if writes > 0 {
		r.CPUSecondsPer1000Updates = opCPU / writes * 1000
		r.FloorCPUSecondsPer1000 = floorCPU / writes * 1000
	}

	m := scrape(opMetrics)
	r.ReconcileP50Seconds, r.ReconcileP99Seconds, r.Reconciles = histogramQuantiles(m, "controller_runtime_reconcile_time_seconds", `controller="probepolicy"`, 0.5, 0.99)
	requests := sumMetric(m, "rest_client_requests_total")

	// Decisions and their latency: from the kills that made the evidence (minSamples of them) to the Event.
	var events corev1.EventList
	if err := c.List(ctx, &events, client.InNamespace(ns)); err != nil {
		return err
	}
	decided := map[string]time.Time{}
	killingArrived := map[string]time.Time{} // pod -> when its first probe Killing Event reached the API server
	for _, e := range events.Items {
		if e.Reason == "Killing" && e.InvolvedObject.Kind == "Pod" {
			if prev, ok := killingArrived[e.InvolvedObject.Name]; !ok || e.CreationTimestamp.Before(&metav1.Time{Time: prev}) {
				killingArrived[e.InvolvedObject.Name] = e.CreationTimestamp.Time
			}
		}
		t := eventTime(e)
		if (e.Reason == "ProbeAdjusted" || e.Reason == "ProbeRecommended") && e.InvolvedObject.Kind == "ProbePolicy" {
			r.Decisions++
			dep := strings.TrimPrefix(strings.SplitN(e.Message, ":", 2)[0], "Deployment ")
			if prev, ok := decided[dep]; !ok || t.Before(prev) {
				decided[dep] = t
			}
		}
	}
	stopWatch()
	killsMu.Lock()
	// latVisible is from when the evidence could be read from the API server (the kill in the pod's status and
	// its Killing Event) to the decision: the operator's own share of the latency.
	var lat, latFirst, latVisible, eventLag []float64
	for _, name := range crashers {
		k := firstKills[name]
		sort.Slice(k, func(i, j int) bool { return k[i].at.Before(k[j].at) })
		d, ok := decided[name]
		if !ok || len(k) < 2 {
			continue
		}
		lat = append(lat, d.Sub(k[1].at).Seconds()) // minSamples is 2: the second kill completes the evidence
		latFirst = append(latFirst, d.Sub(k[0].at).Seconds())
		visible := k[1].seen
		if arrived, ok := killingArrived[k[1].pod]; ok {
			// Server timestamps have whole seconds: the lag reads up to 1 s short.
			eventLag = append(eventLag, arrived.Sub(k[1].at).Seconds())
			visible = laterOf(visible, arrived)
		}
		latVisible = append(latVisible, d.Sub(visible).Seconds())
	}
	r.DecisionAfterVisibleP50Seconds, r.DecisionAfterVisibleMaxSeconds = median(latVisible), maxOf(latVisible)
	r.KillingEventLagP50Seconds, r.KillingEventLagMaxSeconds = median(eventLag), maxOf(eventLag)
	killsMu.Unlock()
	r.CrashLoops, r.CrashLoopsDecided = len(crashers), len(lat)
	r.DecisionLatencyP50Seconds, r.DecisionLatencySeconds = median(lat), maxOf(lat)
	r.DecisionLatencyFromFirstKill = maxOf(latFirst)
	if r.Decisions > 0 {
		r.APIRequestsPerDecision = requests / float64(r.Decisions)
	}

	logf("simulated kubelet at the end of the window: %s", lastStats(cl.LogPath("simkubelet")))
	if err := measureMarginal(ctx, c, ns, &r, opPprof, floorPprof, opLive, floorLive); err != nil {
		return err
	}

	b, _ := json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(filepath.Join(cl.Root, outPath), append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("\nprobe-tuner scale benchmark: %d Deployments, %d pods, %d ProbePolicies, %.0f s window\n\n", n, pods, policies, el)
	fmt.Printf("%-44s %14s %14s %s\n", "measure", "probe-tuner", "floor", "target")
	row := func(name, a, b, target string) { fmt.Printf("%-44s %14s %14s %s\n", name, a, b, target) }
	row("live heap per watched pod (bytes)", f0(r.BytesPerPod), f0(r.FloorBytesPerPod), "< 2048")
	row("live heap per pod removed, marginal (bytes)", f0(r.MarginalBytesPerPod), f0(r.FloorMarginalBytesPerPod), "")
	row("live heap after GC (MiB)", f1(r.LiveHeapBytes/(1<<20)), f1(r.FloorLiveHeapBytes/(1<<20)), "")
	row("heap in use, median (MiB)", f1(r.HeapInuseBytes/(1<<20)), f1(r.FloorHeapInuseBytes/(1<<20)), "")
	row("peak RSS, VmHWM (MiB)", f1(r.PeakRSSBytes/(1<<20)), f1(r.FloorPeakRSSBytes/(1<<20)), "")
	row("CPU s per 1000 pod status updates", f3(r.CPUSecondsPer1000Updates), f3(r.FloorCPUSecondsPer1000), "")
	row("decision after evidence, max (s)", f1(r.DecisionLatencySeconds), "-", "< 10")
	row("decision after evidence, p50 (s)", f1(r.DecisionLatencyP50Seconds), "-", "")
	row("decision after first kill, max (s)", f1(r.DecisionLatencyFromFirstKill), "-", "")
	row("decision after evidence visible, p50 (s)", f1(r.DecisionAfterVisibleP50Seconds), "-", "")
	row("decision after evidence visible, max (s)", f1(r.DecisionAfterVisibleMaxSeconds), "-", "")
	row("Killing Event reaches API, p50 (s)", f1(r.KillingEventLagP50Seconds), "-", "")
	row("Killing Event reaches API, max (s)", f1(r.KillingEventLagMaxSeconds), "-", "")
	row("crash loops decided", fmt.Sprintf("%d/%d", r.CrashLoopsDecided, r.CrashLoops), "-", "")
	row("simulated kubelet: status writes late, p50 (s)", f1(r.SimStatusWriteLagP50Seconds), "-", "")
	row("simulated kubelet: status writes late, p99 (s)", f1(r.SimStatusWriteLagP99Seconds), "-", "")
	row("simulated kubelet: Events late, p50 (s)", f1(r.SimEventWriteLagP50Seconds), "-", "")
	row("simulated kubelet: Events late, p99 (s)", f1(r.SimEventWriteLagP99Seconds), "-", "")
	row("reconcile p50 (s)", f3(r.ReconcileP50Seconds), "-", "")
	row("reconcile p99 (s)", f3(r.ReconcileP99Seconds), "-", "< 1")
	row("API requests per decision", f1(r.APIRequestsPerDecision), "-", "")
	fmt.Printf("\nwritten to %s\n", outPath)
	return nil
}

// startCluster starts the local control plane with the simulated kubelet's nodes for n Deployments (a node per
// 100 pods), with the simulated kubelet's limits raised for the load and the extra flags, installs the
// ProbePolicy CRD and returns a client with raised limits too. eventTTL is how long kube-apiserver keeps Events
// (zero: its default, 1 h).
func startCluster(n int, eventTTL time.Duration, simKubeletFlags ...string) (*localcluster.Cluster, client.Client, error) {
	nodes := max(2, n*replicas/100)
	logf("starting the local cluster: %d nodes", nodes)
	cl, err := localcluster.New(localcluster.Options{SimKubelet: localcluster.SimKubeletProcess, Nodes: nodes,
		SimKubeletFlags: append([]string{"--kube-api-qps=300", "--kube-api-burst=400"}, simKubeletFlags...), Logf: logf, EventTTL: eventTTL})
	if err != nil {
		return nil, nil, err
	}
	cl.Config.QPS, cl.Config.Burst = 200, 400
	c, err := client.New(cl.Config, client.Options{Scheme: scheme.New()})
	if err == nil {
		err = installCRD(cl)
	}
	if err != nil {
		stopCluster(cl)
		return nil, nil, err
	}
	return cl, c, nil
}

func stopCluster(cl *localcluster.Cluster) {
	if err := cl.Stop(); err != nil {
		logf("stopping the cluster: %v", err)
	}
}

// installCRD applies the ProbePolicy CRD and waits until it is served.
func installCRD(cl *localcluster.Cluster) error {
	kubectl := func(args ...string) error {
		cmd := exec.Command(filepath.Join(cl.Root, "bin", "k8s", "kubectl"), append([]string{"--kubeconfig", cl.Kubeconfig}, args...)...)
		cmd.Dir = cl.Root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("kubectl %v: %w\n%s", args, err, out)
		}
		return nil
	}
	if err := kubectl("apply", "-k", "config/crd"); err != nil {
		return err
	}
	return kubectl("wait", "--for", "condition=Established", "--timeout", "60s", "crd/probepolicies.tuning.probetuner.io")
}

// goBuild builds the package of the operator's module into out.
func goBuild(cl *localcluster.Cluster, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = cl.Root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %w\n%s", pkg, err, b)
	}
	return nil
}

func f0(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
func f3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

func benchPolicy(ns string, i int) *tuningv1alpha1.ProbePolicy {
	p := &tuningv1alpha1.ProbePolicy{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%03d", i), Namespace: ns}}
	p.Spec.Mode = tuningv1alpha1.ModeAuto
	p.Spec.Selector = metav1.LabelSelector{MatchLabels: map[string]string{"bench-policy": fmt.Sprintf("p%03d", i)}}
	raw := fmt.Sprintf(`{"startup":{"maxBudgetSeconds":120,"periodSeconds":5},"readiness":{"flappingTolerancePerHour":12},"pacing":{"minSamples":2,"cooldown":"1m","verificationWindow":"1m"}}`)
	_ = json.Unmarshal([]byte(raw), &p.Spec)
	return p
}

func benchDeployment(ns, name string, policy int, kind string) *appsv1.Deployment {
	annotations := map[string]string{"sim.probetuner.io/startup": "3s-6s"}
	readiness := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromInt32(8080)}}, PeriodSeconds: 10}
	switch kind {
	case "crash":
		annotations["sim.probetuner.io/startup"] = "38s-42s"
	case "flap":
		annotations["sim.probetuner.io/readiness-latency"] = "800ms-1300ms"
		readiness.PeriodSeconds, readiness.TimeoutSeconds = 2, 1
	}
	labels := map[string]string{"app": name}
	r := int32(replicas)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name, "bench-policy": fmt.Sprintf("p%03d", policy)}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &r,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "example.com/app:1",
					LivenessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}}},
					ReadinessProbe: readiness,
				}}},
			},
		},
	}
}

// lastStats returns the simulated kubelet's last periodic "Stats" log line (status write lag, queue, rates).
func lastStats(logPath string) string {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return err.Error()
	}
	last := "no Stats line"
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.Index(line, `"Stats"`); i >= 0 {
			last = line[i:]
		}
	}
	return last
}

// laterOf returns the later of two times.
func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// podKill is a pod's first probe kill as its container status reports it.
type podKill struct {
	pod string
	at  time.Time
	// seen is when the bench's watch delivered the status write that reported the kill.
	seen time.Time
}

// deploymentOfPodName strips a Deployment pod's "-<template hash>-<suffix>".
func deploymentOfPodName(pod string) string {
	parts := strings.Split(pod, "-")
	if len(parts) < 3 {
		return pod
	}
	return strings.Join(parts[:len(parts)-2], "-")
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	}
	return e.LastTimestamp.Time
}

func startProcess(cl *localcluster.Cluster, bin, name string, args ...string) (*exec.Cmd, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cl.Kubeconfig)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	f, err := os.Create(cl.LogPath(name))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	return cmd, cmd.Start()
}

func stopProcess(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// cpuSeconds returns a process's user+system CPU time from /proc/<pid>/stat.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// vmHWM returns a process's peak resident set size in bytes.
// logPeakRSS logs both processes' peak RSS so far: logged at each phase, it tells which phase set the peak.
func logPeakRSS(op, floor int) {
	logf("peak RSS so far: operator %.1f MiB, floor %.1f MiB", vmHWM(op)/(1<<20), vmHWM(floor)/(1<<20))
}

func vmHWM(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[1], 64)
			return v * 1024
		}
	}
	return 0
}

// measureMarginal scales the healthy Deployments from 5 to 3 replicas and sets the live heap the pods that went
// away held, per pod, in the operator and in the floor. bytesPerPod divides all the operator's heap by the pods,
// so it also carries what each Deployment and policy costs; this is the cost of one more pod alone.
func measureMarginal(ctx context.Context, c client.Client, ns string, r *result, opPprof, floorPprof string, opLive, floorLive float64) error {
	var deps appsv1.DeploymentList
	if err := c.List(ctx, &deps, client.InNamespace(ns)); err != nil {
		return err
	}
	countPods := func() (int, error) {
		var list corev1.PodList
		err := c.List(ctx, &list, client.InNamespace(ns))
		return len(list.Items), err
	}
	before, err := countPods()
	if err != nil {
		return err
	}
	scaled := 0
	for i := range deps.Items {
		d := &deps.Items[i]
		if !strings.HasSuffix(d.Name, "-healthy") {
			continue
		}
		patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":3}}`))
		if err := c.Patch(ctx, d, patch); err != nil {
			return fmt.Errorf("scaling %s down: %w", d.Name, err)
		}
		scaled++
	}
	// Rollouts of tuned Deployments come and go meanwhile (a surge pod or two), so wait for most of the
	// removals and count the pods that really went.
	logf("scaled %d healthy Deployments from 5 to 3 replicas (%d pods before)", scaled, before)
	deadline := time.Now().Add(5 * time.Minute)
	after := before
	for after > before-2*scaled*98/100 {
		if time.Now().After(deadline) {
			return fmt.Errorf("still %d pods 5 minutes after scaling down from %d", after, before)
		}
		time.Sleep(5 * time.Second)
		if after, err = countPods(); err != nil {
			return err
		}
	}
	time.Sleep(45 * time.Second) // each removed pod's delete event brought its policy's look; let them all land
	op2, floor2 := math.Inf(1), math.Inf(1)
	for range 3 {
		op2, floor2 = min(op2, liveHeap(opPprof)), min(floor2, liveHeap(floorPprof))
	}
	if after, err = countPods(); err != nil {
		return err
	}
	r.PodsRemoved = before - after
	logf("%d pods removed", r.PodsRemoved)
	r.MarginalBytesPerPod = (opLive - op2) / float64(r.PodsRemoved)
	r.FloorMarginalBytesPerPod = (floorLive - floor2) / float64(r.PodsRemoved)
	return nil
}

// liveHeap forces a garbage collection in the process serving pprof on addr and returns the heap still
// allocated right after it (runtime.MemStats.HeapAlloc, printed at the end of the debug heap profile).
func liveHeap(addr string) float64 {
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?gc=1&debug=1")
	if err != nil {
		return math.NaN()
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# HeapAlloc = "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return math.NaN()
}

// saveProfile fetches /debug/pprof/<what> from addr into path; a failure is only logged.
func saveProfile(addr, what, path string) {
	resp, err := http.Get("http://" + addr + "/debug/pprof/" + what)
	if err == nil {
		defer resp.Body.Close()
		var f *os.File
		if f, err = os.Create(path); err == nil {
			_, err = io.Copy(f, resp.Body)
			f.Close()
		}
	}
	if err != nil {
		logf("saving the %s profile: %v", what, err)
	}
}

func scrape(addr string) []string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines
}

func sampleValue(line string) float64 {
	v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
	return v
}

func scrapeValue(addr, metric string) float64 { return sumMetric(scrape(addr), metric) }

// sumMetric sums every sample of a metric.
func sumMetric(lines []string, metric string) float64 {
	var sum float64
	for _, l := range lines {
		if strings.HasPrefix(l, metric+" ") || strings.HasPrefix(l, metric+"{") {
			sum += sampleValue(l)
		}
	}
	return sum
}

// histogramQuantiles estimates quantiles of a Prometheus histogram (linear within a bucket) and its count.
func histogramQuantiles(lines []string, metric, label string, qs ...float64) (float64, float64, float64) {
	bs := histogramBuckets(lines, metric, label)
	if len(bs) == 0 || bs[len(bs)-1].n == 0 {
		return 0, 0, 0
	}
	return bucketQuantile(bs, qs[0]), bucketQuantile(bs, qs[1]), bs[len(bs)-1].n
}

// bucket is one cumulative bucket of a histogram: n observations at most le.
type bucket struct{ le, n float64 }

// histogramBuckets returns the buckets of a Prometheus histogram's samples carrying label, by upper bound.
func histogramBuckets(lines []string, metric, label string) []bucket {
	var bs []bucket
	for _, l := range lines {
		if !strings.HasPrefix(l, metric+"_bucket{") || !strings.Contains(l, label) {
			continue
		}
		i := strings.Index(l, `le="`)
		le := l[i+4:]
		le = le[:strings.IndexByte(le, '"')]
		v := math.Inf(1)
		if le != "+Inf" {
			v, _ = strconv.ParseFloat(le, 64)
		}
		bs = append(bs, bucket{v, sampleValue(l)})
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	return bs
}

// bucketQuantile estimates the q-quantile of cumulative buckets, linear within a bucket.
func bucketQuantile(bs []bucket, q float64) float64 {
	rank := q * bs[len(bs)-1].n
	prevLe, prevN := 0.0, 0.0
	for _, b := range bs {
		if b.n >= rank {
			if math.IsInf(b.le, 1) {
				return prevLe
			}
			if b.n == prevN {
				return b.le
			}
			return prevLe + (b.le-prevLe)*(rank-prevN)/(b.n-prevN)
		}
		prevLe, prevN = b.le, b.n
	}
	return prevLe
}

// maxOf is the largest value, 0 for none.
func maxOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return slices.Max(v)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// waitRunning waits until at least want pods of the namespace run.
func waitRunning(ctx context.Context, c client.Client, ns string, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.InNamespace(ns)); err != nil {
			return err
		}
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		if running >= want {
			logf("%d pods running", running)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d pods running after %v", running, want, timeout)
		}
		time.Sleep(5 * time.Second)
	}
}
