package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
)

// The soak's limits: the live heap after a forced collection may grow at most soakHeapGrowth over the judged
// part of the run (its last two thirds: the last 40 minutes of an hour), and the goroutines at most
// soakGoroutineGrowth plus soakGoroutineSlack.
const (
	soakHeapGrowth      = 0.05
	soakGoroutineGrowth = 0.10
	soakGoroutineSlack  = 20
	// soakChurnEvery is the pace of the churn: one workload action per tick, a policy replaced every 6 ticks.
	soakChurnEvery = 20 * time.Second
	// soakPolicySize is how many Deployments a policy selects.
	soakPolicySize = 10
)

type soakSample struct {
	Minute        float64 `json:"minute"`
	LiveHeapBytes float64 `json:"liveHeapBytes"`
	Goroutines    float64 `json:"goroutines"`
	Reconciles    float64 `json:"reconciles"`
	// Events is the number of Events the API server holds in the soak's namespace: the operator's informers
	// mirror the kubelet's, so its heap follows them until their TTL makes them steady.
	Events int64 `json:"events"`
}

// soakEventTTL is how long the soak's API server keeps Events: a fifth of the run (at most its default hour), so
// that the Event population, which the operator's informers mirror, is steady well before the judged part begins
// (a third into the run). With the default hour, an hour's soak on a fresh cluster judges minutes in which the
// kubelet's Events only accumulate, and reads their growth as the operator's (about 90 KB a minute at 1,000
// Deployments).
func soakEventTTL(d time.Duration) time.Duration {
	return min(time.Hour, max(time.Minute, d/5))
}

type soakResult struct {
	Deployments     int     `json:"deployments"`
	Policies        int     `json:"policies"`
	DurationSeconds float64 `json:"durationSeconds"`
	// JudgedFromMinute is where the judged part of the run begins.
	JudgedFromMinute        float64      `json:"judgedFromMinute"`
	Samples                 []soakSample `json:"samples"`
	HeapSlopeBytesPerMinute float64      `json:"heapSlopeBytesPerMinute"`
	HeapGrowthPercent       float64      `json:"heapGrowthPercent"`
	GoroutinesAtJudgeStart  float64      `json:"goroutinesAtJudgeStart"`
	GoroutinesAtEnd         float64      `json:"goroutinesAtEnd"`
	StaleSeries             []string     `json:"staleSeries"`
	// SeriesBeforeDelete counts the series the deleted workloads and policies had right before their deletion:
	// without any, the stale-series check would prove nothing.
	SeriesBeforeDelete int            `json:"seriesBeforeDelete"`
	Churn              map[string]int `json:"churn"`
	Failures           []string       `json:"failures"`
}

// soakWorld is what the soak created and still has: Deployments per policy, and what it deleted.
type soakWorld struct {
	c          client.Client
	ns         string
	rng        *rand.Rand
	policies   []int
	nextPolicy int
	members    map[int][]string
	kind       map[string]string
	deletedWl  []string
	deletedPol []string
	churn      map[string]int
	// metricsAddr is the operator's metrics endpoint; seriesBeforeDelete counts what it showed of the deleted.
	metricsAddr        string
	seriesBeforeDelete int
}

// runSoak runs n Deployments (5 pods each) under n/10 policies for d with churn: scale-ups and -downs, releases,
// crash loops that start and end, and every two minutes a policy changed and one replaced (deleted with its
// Deployments, a new one created with new ones). It samples the operator's live heap and goroutines every
// minute and fails when either grows over the judged part of the run, or when a metric series of a deleted
// workload or policy remains.
func runSoak(n int, d time.Duration, outPath string) error {
	logf("soak: %d Deployments / %d pods, %v of churn", n, n*replicas, d)
	cl, c, err := startCluster(n, soakEventTTL(d))
	if err != nil {
		return err
	}
	defer stopCluster(cl)
	bin := filepath.Join(cl.Dir, "bin", "manager")
	if err := goBuild(cl, bin, "./cmd/manager"); err != nil {
		return err
	}
	opMetrics, opPprof := freeAddr(), freeAddr()
	op, err := startProcess(cl, bin, "manager", "--metrics-bind-address", opMetrics, "--metrics-secure=false",
		"--health-probe-bind-address", freeAddr(), "--pprof-bind-address", opPprof)
	if err != nil {
		return err
	}
	defer stopProcess(op)

	ctx := context.Background()
	w := &soakWorld{c: c, ns: "soak", rng: rand.New(rand.NewPCG(1, 1)), members: map[int][]string{}, kind: map[string]string{}, churn: map[string]int{},
		metricsAddr: opMetrics}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: w.ns}}); err != nil {
		return err
	}
	for range max(1, n/soakPolicySize) {
		if err := w.addPolicy(ctx); err != nil {
			return err
		}
	}
	logf("soak: created %d Deployments under %d policies", len(w.kind), len(w.policies))
	if err := waitRunning(ctx, c, w.ns, len(w.kind)*replicas*9/10, 10*time.Minute); err != nil {
		return err
	}

	r := soakResult{Deployments: len(w.kind), Policies: len(w.policies), DurationSeconds: d.Seconds(), Churn: w.churn,
		JudgedFromMinute: d.Minutes() / 3}
	start := time.Now()
	sample := func() {
		lines := scrape(opMetrics)
		s := soakSample{Minute: time.Since(start).Minutes(), LiveHeapBytes: liveHeap(opPprof), Goroutines: sumMetric(lines, "go_goroutines"),
			Reconciles: sumMetric(lines, "controller_runtime_reconcile_total"), Events: w.events(ctx)}
		r.Samples = append(r.Samples, s)
		logf("soak: minute %.0f: live heap %.1f MiB, %0.f goroutines, %.0f reconciles, %d Events, churn %v", s.Minute, s.LiveHeapBytes/(1<<20), s.Goroutines,
			s.Reconciles, s.Events, w.churn)
	}
	sample()
	nextSample := start.Add(time.Minute)
	for tick := 1; time.Since(start) < d; tick++ {
		time.Sleep(soakChurnEvery)
		if err := w.churnOnce(ctx, tick); err != nil {
			logf("soak: churn: %v", err)
			w.churn["errors"]++
		}
		if time.Now().After(nextSample) {
			sample()
			nextSample = nextSample.Add(time.Minute)
		}
	}
	if last := r.Samples[len(r.Samples)-1]; time.Since(start).Minutes()-last.Minute > 0.5 {
		sample()
	}
	// The deleted workloads' and policies' series go when the operator sees them go; give it a moment.
	time.Sleep(30 * time.Second)
	r.StaleSeries = staleSeries(scrape(opMetrics), w.ns, w.deletedWl, w.deletedPol)
	r.SeriesBeforeDelete = w.seriesBeforeDelete
	r.judge()
	printSoak(r)
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(outPath, raw, 0o644); err != nil {
		return err
	}
	fmt.Printf("\nwritten to %s\n", outPath)
	if len(r.Failures) > 0 {
		return fmt.Errorf("soak failed: %s", strings.Join(r.Failures, "; "))
	}
	return nil
}

// addPolicy creates a policy and the Deployments it selects: one in ten crash-looping, one in ten flapping.
func (w *soakWorld) addPolicy(ctx context.Context) error {
	i := w.nextPolicy
	w.nextPolicy++
	if err := w.c.Create(ctx, benchPolicy(w.ns, i)); err != nil {
		return err
	}
	for j := range soakPolicySize {
		name := fmt.Sprintf("d%03d-%d", i, j)
		kind := "healthy"
		switch j {
		case 0:
			kind = "crash"
		case 1:
			kind = "flap"
		}
		if err := w.c.Create(ctx, benchDeployment(w.ns, name, i, kind)); err != nil {
			return err
		}
		w.members[i] = append(w.members[i], name)
		w.kind[name] = kind
	}
	w.policies = append(w.policies, i)
	return nil
}

// churnOnce does one workload action; every sixth tick it also changes one policy and replaces another.
func (w *soakWorld) churnOnce(ctx context.Context, tick int) error {
	names := make([]string, 0, len(w.kind))
	for name := range w.kind {
		names = append(names, name)
	}
	sort.Strings(names)
	name := names[w.rng.IntN(len(names))]
	var err error
	switch action := []string{"scale", "release", "crash-start", "crash-end"}[tick%4]; action {
	case "scale":
		err = w.patchDeployment(ctx, name, func(d *appsv1.Deployment) {
			r := int32(replicas)
			if *d.Spec.Replicas == replicas {
				r = 3
			}
			d.Spec.Replicas = &r
		})
		w.churn["scaled"]++
	case "release":
		err = w.patchDeployment(ctx, name, func(d *appsv1.Deployment) {
			d.Spec.Template.Annotations["soak/release"] = fmt.Sprint(tick)
		})
		w.churn["released"]++
	case "crash-start":
		err = w.patchDeployment(ctx, name, func(d *appsv1.Deployment) {
			d.Spec.Template.Annotations["sim.probetuner.io/startup"] = "38s-42s"
		})
		w.churn["crashLoopsStarted"]++
	case "crash-end":
		err = w.patchDeployment(ctx, name, func(d *appsv1.Deployment) {
			d.Spec.Template.Annotations["sim.probetuner.io/startup"] = "3s-6s"
		})
		w.churn["crashLoopsEnded"]++
	}
	if err != nil || tick%6 != 0 {
		return err
	}
	if err := w.changePolicy(ctx, w.policies[w.rng.IntN(len(w.policies))], tick); err != nil {
		return err
	}
	return w.replacePolicy(ctx)
}

func (w *soakWorld) patchDeployment(ctx context.Context, name string, change func(*appsv1.Deployment)) error {
	var d appsv1.Deployment
	if err := w.c.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: name}, &d); err != nil {
		return err
	}
	before := d.DeepCopy()
	change(&d)
	return w.c.Patch(ctx, &d, client.MergeFrom(before))
}

// changePolicy moves a policy's flapping tolerance between 12 and 24 per hour.
func (w *soakWorld) changePolicy(ctx context.Context, i, tick int) error {
	var p tuningv1alpha1.ProbePolicy
	if err := w.c.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: fmt.Sprintf("p%03d", i)}, &p); err != nil {
		return err
	}
	before := p.DeepCopy()
	p.Spec.Readiness.FlappingTolerancePerHour = int32(12 + 12*(tick/6%2))
	w.churn["policiesChanged"]++
	return w.c.Patch(ctx, &p, client.MergeFrom(before))
}

// replacePolicy deletes the oldest policy with its Deployments and creates a new one with new Deployments.
func (w *soakWorld) replacePolicy(ctx context.Context) error {
	old := w.policies[0]
	w.policies = w.policies[1:]
	name := fmt.Sprintf("p%03d", old)
	w.seriesBeforeDelete += len(staleSeries(scrape(w.metricsAddr), w.ns, w.members[old], []string{name}))
	if err := w.c.Delete(ctx, &tuningv1alpha1.ProbePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name}}); err != nil {
		return err
	}
	w.deletedPol = append(w.deletedPol, name)
	for _, d := range w.members[old] {
		if err := w.c.Delete(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: d}},
			client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
			return err
		}
		delete(w.kind, d)
		w.deletedWl = append(w.deletedWl, d)
	}
	delete(w.members, old)
	w.churn["policiesReplaced"]++
	return w.addPolicy(ctx)
}

// staleSeries lists the metric series that name one of the workloads or policies.
func staleSeries(lines []string, ns string, workloads, policies []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "probetuner_") || !strings.Contains(l, `namespace="`+ns+`"`) {
			continue
		}
		if slices.ContainsFunc(workloads, func(w string) bool { return strings.Contains(l, `workload="`+w+`"`) }) ||
			slices.ContainsFunc(policies, func(p string) bool { return strings.Contains(l, `policy="`+p+`"`) }) {
			out = append(out, l)
		}
	}
	return out
}

// judge computes the heap slope and growth and the goroutine growth over the judged part of the run (means of
// three samples at each end, against the noise of one collection), and lists what fails.
func (r *soakResult) judge() {
	var judged []soakSample
	for _, s := range r.Samples {
		if s.Minute >= r.JudgedFromMinute {
			judged = append(judged, s)
		}
	}
	if len(judged) < 4 {
		r.Failures = append(r.Failures, fmt.Sprintf("only %d samples in the judged part of the run: soak longer", len(judged)))
		return
	}
	var xs, ys []float64
	for _, s := range judged {
		xs, ys = append(xs, s.Minute), append(ys, s.LiveHeapBytes)
	}
	r.HeapSlopeBytesPerMinute = slope(xs, ys)
	k := min(3, len(judged)/2)
	first, last := meanHeap(judged[:k]), meanHeap(judged[len(judged)-k:])
	r.HeapGrowthPercent = 100 * (last - first) / first
	if last > first*(1+soakHeapGrowth) {
		r.Failures = append(r.Failures, fmt.Sprintf("live heap grew %.1f%% (%.1f -> %.1f MiB) over the judged part, more than %.0f%%",
			r.HeapGrowthPercent, first/(1<<20), last/(1<<20), 100*soakHeapGrowth))
	}
	r.GoroutinesAtJudgeStart, r.GoroutinesAtEnd = judged[0].Goroutines, judged[len(judged)-1].Goroutines
	if r.GoroutinesAtEnd > r.GoroutinesAtJudgeStart*(1+soakGoroutineGrowth)+soakGoroutineSlack {
		r.Failures = append(r.Failures, fmt.Sprintf("goroutines grew from %.0f to %.0f", r.GoroutinesAtJudgeStart, r.GoroutinesAtEnd))
	}
	if r.SeriesBeforeDelete == 0 {
		r.Failures = append(r.Failures, "the deleted workloads and policies had no metric series before their deletion: the stale-series check proves nothing")
	}
	if len(r.StaleSeries) > 0 {
		r.Failures = append(r.Failures, fmt.Sprintf("%d metric series of deleted workloads or policies remain, e.g. %s", len(r.StaleSeries), r.StaleSeries[0]))
	}
}

func meanHeap(s []soakSample) float64 {
	var sum float64
	for _, x := range s {
		sum += x.LiveHeapBytes
	}
	return sum / float64(len(s))
}

// slope is the least-squares slope of ys over xs.
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx, sy, sxx, sxy = sx+xs[i], sy+ys[i], sxx+xs[i]*xs[i], sxy+xs[i]*ys[i]
	}
	if d := n*sxx - sx*sx; d != 0 {
		return (n*sxy - sx*sy) / d
	}
	return math.NaN()
}

func printSoak(r soakResult) {
	fmt.Printf("\nprobe-tuner soak: %d Deployments, %d policies, %.0f min of churn %v\n\n", r.Deployments, r.Policies, r.DurationSeconds/60, r.Churn)
	fmt.Printf("%-8s %16s %12s %12s\n", "minute", "live heap (MiB)", "goroutines", "reconciles")
	for _, s := range r.Samples {
		fmt.Printf("%-8.1f %16.1f %12.0f %12.0f\n", s.Minute, s.LiveHeapBytes/(1<<20), s.Goroutines, s.Reconciles)
	}
	fmt.Printf("\njudged from minute %.1f: heap slope %.0f B/min, growth %.1f%% (limit %.0f%%); goroutines %.0f -> %.0f; "+
		"series of the deleted: %d before deletion, %d after\n",
		r.JudgedFromMinute, r.HeapSlopeBytesPerMinute, r.HeapGrowthPercent, 100*soakHeapGrowth, r.GoroutinesAtJudgeStart, r.GoroutinesAtEnd,
		r.SeriesBeforeDelete, len(r.StaleSeries))
	if len(r.Failures) == 0 {
		fmt.Println("soak: passed")
	}
	for _, f := range r.Failures {
		fmt.Println("soak: FAILED:", f)
	}
}

// events counts the Events in the soak's namespace from one list of one item (its remaining count); -1 when the
// list fails.
func (w *soakWorld) events(ctx context.Context) int64 {
	var list corev1.EventList
	if err := w.c.List(ctx, &list, client.InNamespace(w.ns), client.Limit(1)); err != nil {
		return -1
	}
	n := int64(len(list.Items))
	if list.RemainingItemCount != nil {
		n += *list.RemainingItemCount
	}
	return n
}
