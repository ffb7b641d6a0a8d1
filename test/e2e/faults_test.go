//go:build e2e && faults

package e2e

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/failpoint"
	"github.com/probetuner/probe-tuner/test/builders"
)

// The fault tests share TestMain's cluster. Each has its own namespace and ProbePolicy and runs its own operator
// process(es). They run one after the other: the manager watches every namespace (it has no namespace flag), so
// two tests' operators running at once would both act on each test's policies, which is exactly the double
// writing these tests must not see. Each test's operator is stopped at the end of the test.

// faultEnv is one fault test's namespace and client.
type faultEnv struct {
	t  *testing.T
	c  client.Client
	ns string
}

func newFaultEnv(t *testing.T, ns string) *faultEnv {
	t.Helper()
	installCRD(t, ns)
	return &faultEnv{t: t, c: newClient(t), ns: ns}
}

// crashLoopDeployment is a Deployment whose start (38–42 s) outlasts its liveness window (3 x 10 s): every start
// is killed, so probe-tuner adds a startup probe.
func crashLoopDeployment(ns, name, label string, replicas int32) *appsv1.Deployment {
	return tunedDeployment(ns, name, label).Replicas(replicas).Sim("startup", "38s-42s").
		Container(builders.MakeContainer("server", "example.com/loader:1").Port("http", 8080).
			Probe(builders.MakeProbe(builders.Liveness).HTTPGetNamed("/healthz", "http")).
			Probe(builders.MakeProbe(builders.Readiness).HTTPGetNamed("/ready", "http").Period(5)).
			Obj()).
		Obj()
}

// flappingDeployment is a Deployment whose readiness answers in 0.8–1.3 s against a 1 s timeout: it flaps.
func flappingDeployment(ns, name, label string) *appsv1.Deployment {
	return tunedDeployment(ns, name, label).Replicas(2).Sim("startup", "3s").Sim("readiness-latency", "800ms-1300ms").
		Container(builders.MakeContainer("api", "example.com/api:1").Port("http", 8080).
			Probe(builders.MakeProbe(builders.Liveness).HTTPGetNamed("/healthz", "http").Period(10)).
			Probe(builders.MakeProbe(builders.Readiness).HTTPGetNamed("/ready", "http").Period(2).Timeout(1)).
			Obj()).
		Obj()
}

// faultPolicy is an Auto policy with the API's minimum pacing, selecting tune=<label>.
func faultPolicy(ns, name, label string) *tuningv1alpha1.ProbePolicy {
	return builders.MakePolicy(name, ns).Mode(tuningv1alpha1.ModeAuto).Selector("tune", label).
		StartupPercentile("99").SafetyMargin("1.5").StartupPeriod(5).MaxStartupBudget(120).
		FlappingTolerance(12).
		MinSamples(2).Cooldown(time.Minute).VerificationWindow(time.Minute).
		Obj()
}

// create creates the objects in the test's namespace.
func (e *faultEnv) create(objs ...client.Object) { e.t.Helper(); create(e.t, e.c, objs...) }

func (e *faultEnv) deploy(name string) *appsv1.Deployment {
	e.t.Helper()
	return get[appsv1.Deployment](e.t, e.c, e.ns, name)
}

func (e *faultEnv) policy(name string) *tuningv1alpha1.ProbePolicy {
	e.t.Helper()
	return get[tuningv1alpha1.ProbePolicy](e.t, e.c, e.ns, name)
}

// events returns the Events of the namespace with this reason about objects of this kind.
func (e *faultEnv) events(kind, reason string) []corev1.Event {
	e.t.Helper()
	return eventsAbout(e.t, e.c, e.ns, kind, "", reason)
}

// appliedIDs returns the ids of the Applied and Reverted decisions (writes) recorded in the policy's status
// for a workload.
func appliedIDs(p *tuningv1alpha1.ProbePolicy, workload string) []string {
	seen := map[string]bool{}
	var ids []string
	for _, d := range p.Status.Decisions {
		if d.Workload == workload && (d.Action == "Applied" || d.Action == "Reverted") && !seen[d.ID] {
			seen[d.ID] = true
			ids = append(ids, d.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

// checkNoDuplicateDecisions fails when one change of one decision appears twice in status, or a write decision
// has no id.
func checkNoDuplicateDecisions(t *testing.T, p *tuningv1alpha1.ProbePolicy) {
	t.Helper()
	seen := map[string]int{}
	for _, d := range p.Status.Decisions {
		if d.Action != "Applied" && d.Action != "Reverted" {
			continue
		}
		if d.ID == "" {
			t.Errorf("policy %s: %s decision without an id: %+v", p.Name, d.Action, d)
		}
		seen[strings.Join([]string{d.ID, string(d.Action), d.Workload, d.Container, string(d.Probe), d.Field}, "|")]++
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("policy %s: decision %s recorded %d times in status", p.Name, k, n)
		}
	}
}

// checkOneRolloutPerDecision fails unless the Deployment's generation advanced exactly once per write
// decision from base, its generation before probe-tuner's first write (nobody else edits it meanwhile in these
// tests; note that an annotation edit also advances a Deployment's generation), and the last-change annotation
// names the newest of them.
func (e *faultEnv) checkOneRolloutPerDecision(p *tuningv1alpha1.ProbePolicy, name string, base int64) {
	e.t.Helper()
	d := e.deploy(name)
	ids := appliedIDs(p, name)
	if want := base + int64(len(ids)); d.Generation != want {
		e.t.Errorf("Deployment %s: generation %d after %d write decision(s) %v: want %d", name, d.Generation, len(ids), ids, want)
	}
	if id, _ := lastChangeID(d); len(ids) > 0 && !slices.Contains(ids, id) {
		e.t.Errorf("Deployment %s: last-change id %q is none of the recorded decisions %v", name, id, ids)
	}
}

// checkpoint returns the policy's checkpoint ConfigMap data (empty when there is none).
func (e *faultEnv) checkpoint(policy string) string {
	e.t.Helper()
	var cm corev1.ConfigMap
	if err := e.c.Get(background, client.ObjectKey{Namespace: e.ns, Name: "probe-tuner-" + policy}, &cm); err != nil {
		return ""
	}
	return cm.Data["state.json"]
}

// checkOperatorHealthy fails when the operator died or panicked.
func checkOperatorHealthy(t *testing.T, op *operator) {
	t.Helper()
	if !op.alive() {
		t.Errorf("the operator process (%s) is not running", op.logPath)
	}
	if l := op.log(); strings.Contains(l, "panic") || strings.Contains(l, "goroutine ") {
		t.Errorf("the operator's log (%s) shows a panic", op.logPath)
	}
}

// workloadSummary returns the policy's status entry for a workload.
func workloadSummary(p *tuningv1alpha1.ProbePolicy, name string) *tuningv1alpha1.WorkloadSummary {
	for i := range p.Status.Workloads {
		if p.Status.Workloads[i].Name == name {
			return &p.Status.Workloads[i]
		}
	}
	return nil
}

// a. The operator is SIGKILLed twice: from outside while it observes a crash loop, and by itself at an exact
// point, right after writing the Deployment for a decision and before recording that decision anywhere. Each
// time it is restarted: observations survive in the checkpoint, the change is made once and recorded once.
func TestFaultOperatorKilled(t *testing.T) {
	e := newFaultEnv(t, "fault-kill")
	e.create(crashLoopDeployment(e.ns, "loader", "kill", 2))
	// Paused first, so that the operator only observes until the test is ready for its first write.
	kubectl(t, "annotate", "deployment", "loader", "-n", e.ns, "probetuner.io/paused=true")
	genPaused := e.deploy("loader").Generation // annotations count: a Deployment's generation follows them too
	e.create(faultPolicy(e.ns, "kill", "kill"))
	op := startOperator(t, "manager-fault-kill-1")

	// First kill: while it observes, once the checkpoint holds probe kills of the workload.
	eventually(t, 3*time.Minute, func() error {
		if n := livenessKills(e.policy("kill"), "loader"); n < 2 {
			return fmt.Errorf("status reports %d probe kills of loader", n)
		}
		if cp := e.checkpoint("kill"); !strings.Contains(cp, "loader") {
			return fmt.Errorf("no checkpoint of loader yet")
		}
		return nil
	})
	time.Sleep(35 * time.Second) // the checkpoint is written at most 30 s apart: let it catch up with the status
	before := e.checkpoint("kill")
	killsBefore := livenessKills(e.policy("kill"), "loader")
	op.kill(t)
	t.Logf("killed the operator while observing (%d probe kills seen, checkpoint %d bytes)", killsBefore, len(before))
	if after := e.checkpoint("kill"); after != before {
		t.Errorf("the checkpoint changed although the operator was dead")
	}
	op = startOperator(t, "manager-fault-kill-2")
	// What was observed before the kill is still known after it.
	eventually(t, time.Minute, func() error {
		if n := livenessKills(e.policy("kill"), "loader"); n < killsBefore {
			return fmt.Errorf("status reports %d probe kills after the restart, %d before", n, killsBefore)
		}
		return nil
	})
	if g := e.deploy("loader").Generation; g != genPaused {
		t.Fatalf("the paused Deployment was written (generation %d, %d when paused)", g, genPaused)
	}
	op.stop()

	// Second kill: the operator kills itself right after its first Deployment write (failpoint).
	op = startOperatorProcess(t, "manager-fault-kill-3", []string{failpoint.EnvVar + "=" + failpoint.AfterDeploymentWrite})
	kubectl(t, "annotate", "deployment", "loader", "-n", e.ns, "probetuner.io/paused-")
	op.waitExit(t, 3*time.Minute)
	written := e.deploy("loader")
	writtenID, _ := lastChangeID(written)
	// Unpausing is one generation, the write another.
	if written.Generation != genPaused+2 || writtenID == "" {
		t.Fatalf("after the failpoint: generation %d (%d when paused), last-change %q; want the Deployment written once with its decision id",
			written.Generation, genPaused, written.Annotations["probetuner.io/last-change"])
	}
	if ids := appliedIDs(e.policy("kill"), "loader"); len(ids) != 0 {
		t.Errorf("decisions %v in status, although the operator died before recording anything", ids)
	}
	t.Logf("the operator killed itself after writing decision %s", writtenID)

	// The restarted operator completes the record from the Deployment, without writing it again.
	op = startOperator(t, "manager-fault-kill-4")
	eventually(t, 2*time.Minute, func() error {
		p := e.policy("kill")
		ids := appliedIDs(p, "loader")
		if !slices.Contains(ids, writtenID) {
			return fmt.Errorf("decisions in status %v, want %s recorded", ids, writtenID)
		}
		if p.Status.ChangesApplied < 1 {
			return fmt.Errorf("changesApplied %d", p.Status.ChangesApplied)
		}
		return nil
	})
	if g := e.deploy("loader").Generation; g != genPaused+2 {
		t.Errorf("generation %d right after the restart: decision %s was applied again", g, writtenID)
	}
	// Let it run on a while (more reconciles, possibly a second step) and check again.
	time.Sleep(30 * time.Second)
	p := e.policy("kill")
	checkNoDuplicateDecisions(t, p)
	e.checkOneRolloutPerDecision(p, "loader", genPaused+1)
	if !strings.Contains(e.checkpoint("kill"), "loader") {
		t.Errorf("the checkpoint lost the workload after two kills")
	}
	checkOperatorHealthy(t, op)
	t.Logf("decisions %v, generation %d, changesApplied %d", appliedIDs(p, "loader"), e.deploy("loader").Generation, p.Status.ChangesApplied)
}

// livenessKills returns the liveness kills the policy's status reports for a workload.
func livenessKills(p *tuningv1alpha1.ProbePolicy, name string) int32 {
	var n int32
	if w := workloadSummary(p, name); w != nil {
		for _, c := range w.Containers {
			n += c.Observed.LivenessKills + c.Observed.StartupKills
		}
	}
	return n
}

// apiReachable reports whether the API server accepts connections.
func apiReachable() bool {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", cluster.APIPort), time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// leaseHolder returns the holder of the manager's leader-election Lease in ns ("" when there is none).
func (e *faultEnv) leaseHolder() string {
	var l coordinationv1.Lease
	if err := e.c.Get(background, client.ObjectKey{Namespace: e.ns, Name: "probe-tuner.tuning.probetuner.io"}, &l); err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// b. Two operators with leader election: only the Lease holder works; when it is SIGKILLed, the other takes
// over within the lease duration plus the renew deadline and carries on, and no decision is written twice.
func TestFaultLeaderElection(t *testing.T) {
	e := newFaultEnv(t, "fault-leader")
	e.create(crashLoopDeployment(e.ns, "loader-a", "leader", 2))
	e.create(faultPolicy(e.ns, "leader", "leader"))
	flags := []string{"--leader-elect", "--leader-election-namespace", e.ns}
	ops := []*operator{startOperator(t, "manager-fault-leader-a", flags...), startOperator(t, "manager-fault-leader-b", flags...)}

	var leader, follower *operator
	eventually(t, time.Minute, func() error {
		var working []*operator
		for _, op := range ops {
			if strings.Contains(op.log(), "Starting workers") {
				working = append(working, op)
			}
		}
		if len(working) != 1 || e.leaseHolder() == "" {
			return fmt.Errorf("%d operators started workers, lease holder %q", len(working), e.leaseHolder())
		}
		leader = working[0]
		return nil
	})
	follower = ops[0]
	if follower == leader {
		follower = ops[1]
	}
	holder := e.leaseHolder()
	t.Logf("leader %s holds the lease as %s", leader.logPath, holder)

	eventually(t, 3*time.Minute, func() error {
		if len(appliedIDs(e.policy("leader"), "loader-a")) == 0 {
			return fmt.Errorf("no Applied decision for loader-a yet")
		}
		return nil
	})
	if strings.Contains(follower.log(), "Starting workers") {
		t.Fatalf("the follower started workers while the leader held the lease")
	}
	leader.kill(t)
	killed := time.Now()
	// controller-runtime's defaults: lease duration 15 s, renew deadline 10 s, retry period 2 s.
	eventually(t, 40*time.Second, func() error {
		if !strings.Contains(follower.log(), "Starting workers") {
			return fmt.Errorf("the follower has not started workers")
		}
		if h := e.leaseHolder(); h == holder || h == "" {
			return fmt.Errorf("lease still held by %q", h)
		}
		return nil
	})
	took := time.Since(killed)
	t.Logf("the follower took over %s after the leader was killed", took.Round(100*time.Millisecond))
	if took > 25*time.Second+3*time.Second {
		t.Errorf("take-over took %s, more than the lease duration plus the renew deadline (25s) and 3s of polling", took)
	}

	// The new leader carries on: a workload created now is tuned.
	e.create(crashLoopDeployment(e.ns, "loader-b", "leader", 2))
	eventually(t, 3*time.Minute, func() error {
		if len(appliedIDs(e.policy("leader"), "loader-b")) == 0 {
			return fmt.Errorf("no Applied decision for loader-b yet")
		}
		return nil
	})
	time.Sleep(10 * time.Second)
	p := e.policy("leader")
	checkNoDuplicateDecisions(t, p)
	e.checkOneRolloutPerDecision(p, "loader-a", 1)
	e.checkOneRolloutPerDecision(p, "loader-b", 1)
	checkOperatorHealthy(t, follower)
	t.Logf("decisions loader-a %v, loader-b %v", appliedIDs(p, "loader-a"), appliedIDs(p, "loader-b"))
}

// c. The API server is stopped for 30 s and started again: the operator keeps running, /healthz stays 200
// while /readyz fails, and afterwards it reconnects and catches up. Not parallel: the other tests wait.
func TestFaultAPIServerDown(t *testing.T) {
	e := newFaultEnv(t, "fault-apiserver")
	e.create(flappingDeployment(e.ns, "api", "apiserver"))
	e.create(faultPolicy(e.ns, "apiserver", "apiserver"))
	op := startOperator(t, "manager-fault-apiserver")
	eventually(t, time.Minute, func() error {
		if workloadSummary(e.policy("apiserver"), "api") == nil {
			return fmt.Errorf("api not in status yet")
		}
		return nil
	})

	if err := cluster.Kill("kube-apiserver", syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !apiReachable() {
			_ = cluster.Up()
		}
	})
	eventually(t, 30*time.Second, func() error {
		if apiReachable() {
			return fmt.Errorf("the API server still answers")
		}
		return nil
	})
	// A real stop: kube-apiserver drains for a while after SIGTERM; if it has not exited after 20 s, kill it.
	stopping := time.Now()
	for cluster.Running("kube-apiserver") && time.Since(stopping) < 20*time.Second {
		time.Sleep(500 * time.Millisecond)
	}
	if cluster.Running("kube-apiserver") {
		t.Logf("kube-apiserver still draining 20 s after SIGTERM: SIGKILL")
		_ = cluster.Kill("kube-apiserver", syscall.SIGKILL)
		eventually(t, 10*time.Second, func() error {
			if cluster.Running("kube-apiserver") {
				return fmt.Errorf("kube-apiserver still running after SIGKILL")
			}
			return nil
		})
	}
	down := time.Now()
	readyFailed := false
	for time.Since(stopping) < 30*time.Second {
		if !op.alive() {
			t.Fatalf("the operator exited %s after the API server stopped", time.Since(down).Round(time.Second))
		}
		if code := op.httpStatus("/healthz"); code != 200 {
			t.Errorf("/healthz = %d %s after the API server stopped, want 200", code, time.Since(down).Round(time.Second))
		}
		if code := op.httpStatus("/readyz"); code != 200 {
			readyFailed = true
		}
		time.Sleep(time.Second)
	}
	if !readyFailed {
		t.Errorf("/readyz stayed 200 for 30 s without an API server")
	}
	if err := cluster.Up(); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	eventually(t, time.Minute, func() error {
		if code := op.httpStatus("/readyz"); code != 200 {
			return fmt.Errorf("/readyz = %d", code)
		}
		return nil
	})
	t.Logf("/readyz 200 again %s after the API server was started", time.Since(up).Round(100*time.Millisecond))

	// It catches up: a Deployment created now is seen and tuned, and the flapping one is tuned.
	e.create(crashLoopDeployment(e.ns, "loader", "apiserver", 2))
	eventually(t, time.Minute, func() error {
		if workloadSummary(e.policy("apiserver"), "loader") == nil {
			return fmt.Errorf("loader not in status yet")
		}
		return nil
	})
	eventually(t, 3*time.Minute, func() error {
		if len(appliedIDs(e.policy("apiserver"), "loader")) == 0 {
			return fmt.Errorf("no decision on loader, created after the API server came back")
		}
		return nil
	})
	p := e.policy("apiserver")
	checkNoDuplicateDecisions(t, p)
	checkOperatorHealthy(t, op)
	t.Logf("decisions api %v, loader %v", appliedIDs(p, "api"), appliedIDs(p, "loader"))
}

// probeField returns a probe field of a container of the Deployment (-1 when the probe is absent).
func probeField(d *appsv1.Deployment, container, probe, field string) int32 {
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name != container {
			continue
		}
		var p *corev1.Probe
		switch probe {
		case "startup":
			p = c.StartupProbe
		case "liveness":
			p = c.LivenessProbe
		case "readiness":
			p = c.ReadinessProbe
		}
		if p == nil {
			return -1
		}
		switch field {
		case "initialDelaySeconds":
			return p.InitialDelaySeconds
		case "timeoutSeconds":
			return p.TimeoutSeconds
		case "periodSeconds":
			return p.PeriodSeconds
		case "successThreshold":
			return p.SuccessThreshold
		case "failureThreshold":
			return p.FailureThreshold
		}
	}
	return -1
}

// d. A person edits the image, the replicas and another probe field while probe-tuner has a change pending
// (observed, not yet applied), then changes a field probe-tuner set: probe-tuner's later writes revert none of
// it, keep its own fields, record ManualOverrideRespected and never touch that field again.
func TestFaultConflictingEdits(t *testing.T) {
	e := newFaultEnv(t, "fault-conflict")
	e.create(flappingDeployment(e.ns, "api", "conflict"))
	// Paused: probe-tuner observes and decides, but holds its write until the person has edited.
	kubectl(t, "annotate", "deployment", "api", "-n", e.ns, "probetuner.io/paused=true")
	e.create(faultPolicy(e.ns, "conflict", "conflict"))
	op := startOperator(t, "manager-fault-conflict")
	eventually(t, 4*time.Minute, func() error {
		w := workloadSummary(e.policy("conflict"), "api")
		if w == nil || w.State != "Paused" || len(w.Containers) == 0 || w.Containers[0].Recommended == nil {
			return fmt.Errorf("no change pending yet: %+v", w)
		}
		return nil
	})
	kubectl(t, "patch", "deployment", "api", "-n", e.ns, "--field-manager", "person", "-p",
		`{"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"api","image":"example.com/api:2","livenessProbe":{"periodSeconds":15}}]}}}}`)
	checkPerson := func() {
		t.Helper()
		d := e.deploy("api")
		c := d.Spec.Template.Spec.Containers[0]
		if *d.Spec.Replicas != 3 || c.Image != "example.com/api:2" || c.LivenessProbe == nil || c.LivenessProbe.PeriodSeconds != 15 {
			t.Errorf("the person's edits were reverted: replicas %d, image %s, liveness %+v", *d.Spec.Replicas, c.Image, c.LivenessProbe)
		}
	}
	kubectl(t, "annotate", "deployment", "api", "-n", e.ns, "probetuner.io/paused-")
	// The image change rolls out first; the change is applied once the new revision shows the flapping again.
	eventually(t, 5*time.Minute, func() error {
		if len(appliedIDs(e.policy("conflict"), "api")) == 0 {
			return fmt.Errorf("no Applied decision yet")
		}
		return nil
	})
	// The write came after the person's edit, so it is the test: nothing of theirs was reverted.
	checkPerson()
	// The fields probe-tuner set, with the value of its latest decision on each.
	mine := map[string]string{}
	for _, d := range e.policy("conflict").Status.Decisions {
		if d.Workload == "api" && d.Action == "Applied" && d.Field != "probe" {
			if _, newer := mine[d.Container+"|"+string(d.Probe)+"|"+d.Field]; !newer {
				mine[d.Container+"|"+string(d.Probe)+"|"+d.Field] = d.To
			}
		}
	}
	t.Logf("probe-tuner set %v", mine)
	if len(mine) == 0 {
		t.Fatalf("no field-level decision to conflict with: %+v", e.policy("conflict").Status.Decisions)
	}
	checkMine := func(skip string) {
		t.Helper()
		d := e.deploy("api")
		for k, want := range mine {
			if k == skip {
				continue
			}
			f := strings.Split(k, "|")
			if got := fmt.Sprint(probeField(d, f[0], f[1], f[2])); got != want {
				t.Errorf("probe-tuner's %s is %s, it set %s: its field was lost", k, got, want)
			}
		}
	}
	checkMine("")

	// The person now takes over one field probe-tuner set.
	var taken string
	for k := range mine {
		taken = k
		break
	}
	f := strings.Split(taken, "|")
	newValue := probeField(e.deploy("api"), f[0], f[1], f[2]) + 1
	kubectl(t, "patch", "deployment", "api", "-n", e.ns, "--field-manager", "person", "-p",
		fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":%q,"%sProbe":{%q:%d}}]}}}}`, f[0], f[1], f[2], newValue))
	t.Logf("the person set %s to %d", taken, newValue)
	eventually(t, 2*time.Minute, func() error {
		if len(e.events("ProbePolicy", "ManualOverrideRespected")) == 0 {
			return fmt.Errorf("no ManualOverrideRespected event yet")
		}
		return nil
	})
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if got := probeField(e.deploy("api"), f[0], f[1], f[2]); got != newValue {
			t.Fatalf("probe-tuner changed %s back to %d after the person set it to %d", taken, got, newValue)
		}
		time.Sleep(2 * time.Second)
	}
	checkPerson()
	checkMine(taken)
	for _, d := range e.policy("conflict").Status.Decisions {
		if d.Action == "Applied" && d.Container+"|"+string(d.Probe)+"|"+d.Field == taken && d.To != mine[taken] {
			t.Errorf("probe-tuner decided on %s again after the override: %+v", taken, d)
		}
	}
	checkNoDuplicateDecisions(t, e.policy("conflict"))
	checkOperatorHealthy(t, op)
}

// e. A policy's selector stops selecting a tuned Deployment: it is left as it is and leaves the status. Two
// policies select one Deployment: both report the conflict and only the older acts.
func TestFaultSelection(t *testing.T) {
	e := newFaultEnv(t, "fault-select")
	e.create(crashLoopDeployment(e.ns, "loader", "sel", 2))
	e.create(crashLoopDeployment(e.ns, "shared", "shared", 2))
	e.create(faultPolicy(e.ns, "select", "sel"))
	e.create(faultPolicy(e.ns, "older", "shared"))
	time.Sleep(2 * time.Second) // creation timestamps have a resolution of one second
	// "newer" sorts before "older": a tie broken by name would wrongly let it act.
	e.create(faultPolicy(e.ns, "newer", "shared"))
	op := startOperator(t, "manager-fault-select")

	eventually(t, 4*time.Minute, func() error {
		if len(appliedIDs(e.policy("select"), "loader")) == 0 {
			return fmt.Errorf("no Applied decision for loader yet")
		}
		if len(appliedIDs(e.policy("older"), "shared")) == 0 {
			return fmt.Errorf("no Applied decision for shared by the older policy yet")
		}
		return nil
	})
	newer, older := e.policy("newer"), e.policy("older")
	if w := workloadSummary(newer, "shared"); w == nil || w.State != "Conflict" || !strings.Contains(w.Message, "older") {
		t.Errorf("the newer policy's status for shared: %+v", w)
	}
	if c := meta.FindStatusCondition(newer.Status.Conditions, tuningv1alpha1.ConditionConflict); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("the newer policy's Conflict condition: %+v", c)
	}
	if c := meta.FindStatusCondition(older.Status.Conditions, tuningv1alpha1.ConditionConflict); c != nil && c.Status == metav1.ConditionTrue {
		t.Logf("the older policy's Conflict condition is also True: %+v", c)
	}
	if ids := appliedIDs(newer, "shared"); len(ids) != 0 || newer.Status.ChangesApplied != 0 {
		t.Errorf("the newer policy acted on shared: %v, changesApplied %d", ids, newer.Status.ChangesApplied)
	}
	checkNoDuplicateDecisions(t, older)
	e.checkOneRolloutPerDecision(older, "shared", 1)

	// Deselect loader.
	kubectl(t, "patch", "probepolicy", "select", "-n", e.ns, "--type", "merge", "-p", `{"spec":{"selector":{"matchLabels":{"tune":"nothing"}}}}`)
	eventually(t, time.Minute, func() error {
		if w := workloadSummary(e.policy("select"), "loader"); w != nil {
			return fmt.Errorf("loader still in the status: %+v", w)
		}
		return nil
	})
	d := e.deploy("loader")
	gen, probes := d.Generation, fmt.Sprintf("%+v", d.Spec.Template.Spec.Containers[0])
	time.Sleep(75 * time.Second)
	d = e.deploy("loader")
	if d.Generation != gen || fmt.Sprintf("%+v", d.Spec.Template.Spec.Containers[0]) != probes {
		t.Errorf("the deselected Deployment was changed: generation %d -> %d", gen, d.Generation)
	}
	if p := e.policy("select"); p.Status.WorkloadCount != 0 {
		t.Errorf("workloadCount %d after deselection", p.Status.WorkloadCount)
	}
	checkOperatorHealthy(t, op)
}

// f. Odd Deployments: no probes, exec, gRPC and TCP probes, several containers, init containers, absurd values.
// The operator neither crashes nor writes anything the API server rejects, and reports each readably.
func TestFaultOddWorkloads(t *testing.T) {
	e := newFaultEnv(t, "fault-odd")
	odd := func(name string) *builders.DeploymentWrapper { return tunedDeployment(e.ns, name, "odd").Replicas(1) }
	crash := func(name string) *builders.DeploymentWrapper { return odd(name).Sim("startup", "38s-42s") }
	app := func() *builders.ContainerWrapper { return builders.MakeContainer("app", "example.com/app:1") }
	liveness := func() *builders.ProbeWrapper { return builders.MakeProbe(builders.Liveness) }
	readiness := func() *builders.ProbeWrapper { return builders.MakeProbe(builders.Readiness) }
	e.create(
		odd("noprobes").Sim("startup", "2s").Container(app().Obj()).Obj(),
		crash("exec").Container(app().Probe(liveness().Exec("cat", "/tmp/healthy")).Obj()).Obj(),
		crash("grpc").Container(app().Probe(liveness().GRPC(9090)).Obj()).Obj(),
		crash("tcp").Container(app().
			Probe(liveness().TCPSocket(8080)).
			Probe(readiness().TCPSocket(8080).Period(5)).Obj()).Obj(),
		odd("multi").SimFor("app", "startup", "38s-42s").SimFor("sidecar", "startup", "1s").
			Container(app().Probe(liveness().HTTPGet("/healthz", 8080)).Obj()).
			Container(builders.MakeContainer("sidecar", "example.com/sidecar:1").Probe(readiness().HTTPGet("/ready", 9000)).Obj()).
			Obj(),
		crash("withinit").InitContainer(builders.MakeContainer("init", "example.com/init:1").Obj()).
			Container(app().Probe(liveness().HTTPGet("/healthz", 8080)).Obj()).Obj(),
		odd("absurd").Sim("startup", "5s").Container(app().
			Probe(liveness().HTTPGet("/healthz", 8080).Period(3600).FailureThreshold(1000).Timeout(3600).InitialDelay(86400)).
			Probe(readiness().HTTPGet("/ready", 8080).Period(3600).FailureThreshold(1000).SuccessThreshold(1000)).
			Obj()).Obj(),
	)
	e.create(faultPolicy(e.ns, "odd", "odd"))
	op := startOperator(t, "manager-fault-odd")
	names := []string{"noprobes", "exec", "grpc", "tcp", "multi", "withinit", "absurd"}
	eventually(t, time.Minute, func() error {
		if n := len(e.policy("odd").Status.Workloads); n != len(names) {
			return fmt.Errorf("%d of %d workloads in status", n, len(names))
		}
		return nil
	})
	time.Sleep(150 * time.Second) // crash loops long enough for decisions on the odd ones
	p := e.policy("odd")
	for _, name := range names {
		w := workloadSummary(p, name)
		if w == nil || w.State == "" || w.Message == "" {
			t.Errorf("%s: unreadable status %+v", name, w)
			continue
		}
		d := e.deploy(name)
		t.Logf("%-9s generation %d, state %s: %s", name, d.Generation, w.State, w.Message)
		for _, c := range d.Spec.Template.Spec.Containers {
			for kind, pr := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
				if pr == nil {
					continue
				}
				handlers := 0
				for _, set := range []bool{pr.Exec != nil, pr.HTTPGet != nil, pr.TCPSocket != nil, pr.GRPC != nil} {
					if set {
						handlers++
					}
				}
				if handlers != 1 || (kind != "readiness" && pr.SuccessThreshold != 1) || pr.PeriodSeconds < 1 || pr.FailureThreshold < 1 {
					t.Errorf("%s/%s: invalid %s probe %+v", name, c.Name, kind, pr)
				}
			}
		}
		if name == "noprobes" && d.Generation != 1 {
			t.Errorf("noprobes was written (generation %d)", d.Generation)
		}
	}
	// Every Deployment as it is now passes the API server's validation again (a server-side dry-run update).
	for _, name := range names {
		kubectlIn(t, kubectl(t, "get", "deployment", name, "-n", e.ns, "-o", "json"), "replace", "--dry-run=server", "-f", "-")
	}
	log := op.log()
	for _, bad := range []string{"is invalid", "Invalid value"} {
		if strings.Contains(log, bad) {
			t.Errorf("the operator's log shows a write the API server rejected (%q)", bad)
		}
	}
	checkNoDuplicateDecisions(t, p)
	checkOperatorHealthy(t, op)
	t.Logf("decisions: %d, changesApplied %d, %d reconciler errors logged", len(p.Status.Decisions), p.Status.ChangesApplied, strings.Count(log, "Reconciler error"))
}
