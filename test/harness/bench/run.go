package bench

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/podstore"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
	"github.com/probetuner/probe-tuner/internal/tuner"
	"github.com/probetuner/probe-tuner/test/harness/sim"
)

// Epoch is virtual time zero of every run.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	// coalesce is the least time between two watch-driven looks: changes within it are handled together, as a
	// workqueue merges the events of one key.
	coalesce = time.Second
	// busyStep is the controllers' reaction time while a rollout runs or pods terminate.
	busyStep = time.Second
)

// runOptions choose the variant of a run.
type runOptions struct {
	// tune puts probe-tuner in the loop; otherwise the probes stay as they are.
	tune bool
	// probes replaces the probes of the named containers before the run (the oracle's candidates).
	probes map[string]probes.Set
	// seed replaces the scenario's seed when not zero (the oracle's training runs).
	seed uint64
	// trace, when set, receives the tuner's decisions.
	trace io.Writer
	// look, when set, is given every look probe-tuner takes (tests replay them through the operator).
	look func(Look)
}

// Change is one probe field probe-tuner wrote.
type Change struct {
	AtSeconds float64 `json:"atSeconds"`
	// Action is Apply or Revert.
	Action    string `json:"action"`
	Container string `json:"container"`
	Probe     string `json:"probe"`
	Field     string `json:"field"`
	From      int32  `json:"from"`
	To        int32  `json:"to"`
	Reason    string `json:"reason"`
	// Evidence is the tuner's evidence for the change (for a revert: why the change did not help).
	Evidence string `json:"evidence"`
}

func (c Change) String() string {
	what := fmt.Sprintf("%s %s %d->%d", c.Probe, c.Field, c.From, c.To)
	if c.Field == string(probes.WholeProbe) {
		what = c.Probe + " probe added"
		if c.To == 0 {
			what = c.Probe + " probe removed"
		}
	}
	return fmt.Sprintf("%s@%s %s", strings.ToLower(c.Action), clock(c.AtSeconds), what)
}

// runResult is the outcome of one run.
type runResult struct {
	Metrics  Metrics
	Changes  []Change
	Findings []recommend.Finding
	// Probes are the probes at the end of the run.
	Probes map[string]probes.Set
	// record is what the per-scenario checks need (checks_run.go).
	record runRecord
}

// hangRec is a hang injected by a scenario event.
type hangRec struct {
	pod       *podRec
	container string
	onset     time.Time
	before    int // the pod's hang count before the injection
	checked   bool
	happened  bool
	closed    bool
	detected  bool
	end       time.Time
}

// runner drives one run: the simulated kubelets, the Deployment controllers and, when tuning, probe-tuner's
// observation and decision code, all in virtual time.
type runner struct {
	sc   *Scenario
	opt  runOptions
	w    *sim.World
	f    *fleet
	end  time.Time
	ocfg observe.Config

	// Tuning.
	ws            tuner.WorkloadState
	pending       []observe.KubeletEvent
	eventSeq      int
	dirty         bool
	lastReconcile time.Time
	// nextLook is when the last look asked to be looked at again if nothing changes (tuner.NextLook).
	nextLook     time.Time
	lastAct      tuner.Action
	lastTrace    string
	changes      []Change
	rollouts     int
	lastChange   time.Time
	rolloutTimes []time.Time

	// Accounting.
	ready       int
	lastAcct    time.Time
	unavailable time.Duration
	hangs       []*hangRec
	deploys     int
}

// runScenario runs a scenario once.
func runScenario(sc *Scenario, opt runOptions) (*runResult, error) {
	d := sc.Deployment.DeepCopy()
	for _, c := range probes.Tunable(&d.Spec.Template.Spec) {
		if set, ok := opt.probes[c.Name]; ok {
			c.StartupProbe, c.LivenessProbe, c.ReadinessProbe = set.Startup.DeepCopy(), set.Liveness.DeepCopy(), set.Readiness.DeepCopy()
		}
	}
	sim.ApplyDefaults(&d.Spec.Template.Spec)
	seed := sc.Seed
	if opt.seed != 0 {
		seed = opt.seed
	}
	r := &runner{sc: sc, opt: opt, end: Epoch.Add(sc.Duration.Duration), ocfg: observe.DefaultConfig(), lastAcct: Epoch}
	r.w = sim.NewWorld(sim.Options{Seed: seed, Epoch: Epoch, OnEvent: r.onEvent, OnStatusChange: r.onStatus})
	r.f = newFleet(r.w, sc, d, seed)
	r.f.hung = r.hung
	r.f.onDelete = r.onDelete

	var timed []Event
	for _, e := range sc.Events {
		if e.Outage != nil {
			if err := r.w.InjectOutage(e.Outage.Dependency, Epoch.Add(e.At.Duration), e.Outage.For.Duration); err != nil {
				return nil, err
			}
			continue
		}
		timed = append(timed, e)
	}
	if err := r.f.sync(Epoch); err != nil {
		return nil, err
	}
	r.lastReconcile, r.nextLook = Epoch.Add(-coalesce), Epoch
	for now := Epoch; now.Before(r.end); {
		next := r.end
		if len(timed) > 0 {
			next = minTime(next, Epoch.Add(timed[0].At.Duration))
		}
		if r.opt.tune || r.f.busy() || r.hangCheckPending() {
			next = minTime(next, now.Add(busyStep))
		}
		r.w.RunUntil(next)
		now = next
		r.checkHangs()
		for len(timed) > 0 && !Epoch.Add(timed[0].At.Duration).After(now) {
			if err := r.fire(timed[0], now); err != nil {
				return nil, err
			}
			timed = timed[1:]
		}
		if err := r.f.sync(now); err != nil {
			return nil, err
		}
		if r.opt.tune {
			since := now.Sub(r.lastReconcile)
			// A change brings a look (as the operator's watches do), and so does the moment the last look said
			// it must be looked at again if nothing changes (the operator's requeue: tuner.NextLook).
			if (r.dirty && since >= coalesce) || !now.Before(r.nextLook) {
				if err := r.reconcile(now); err != nil {
					return nil, err
				}
			}
		}
		r.account()
	}
	return r.result(), nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// onStatus is the simulator's status-change hook: a pod's status changed at w.Now().
func (r *runner) onStatus(*sim.PodSim) {
	r.dirty = true
	r.account()
}

// account integrates unavailability up to now and recounts the serving pods.
func (r *runner) account() {
	now := r.w.Now()
	if dt := now.Sub(r.lastAcct); dt > 0 {
		if missing := int(r.f.replicas) - r.ready; missing > 0 {
			r.unavailable += time.Duration(missing) * dt
		}
		r.lastAcct = now
	}
	r.ready = r.f.servingPods()
}

// onEvent is the simulator's event hook.
func (r *runner) onEvent(e sim.Event) {
	if e.Reason == sim.ReasonKilling || e.Reason == sim.ReasonStarted {
		r.hangEvent(e)
	}
	if !r.opt.tune || (e.Reason != sim.ReasonKilling && e.Reason != sim.ReasonUnhealthy) {
		return
	}
	r.eventSeq++
	r.pending = append(r.pending, observe.KubeletEvent{
		ID: "ev-" + strconv.Itoa(r.eventSeq), Count: 1, Pod: e.Pod, Container: podstore.ContainerFromFieldPath(e.FieldPath),
		Reason: e.Reason, Message: e.Message, Time: e.Time,
	})
}

// onDelete is called when the fleet deletes a pod.
func (r *runner) onDelete(p *podRec, now time.Time) {
	r.account()
	for _, h := range r.hangs {
		if h.pod == p && !h.closed {
			h.closed, h.end = true, now
		}
	}
}

// hangEvent closes injected hangs: a probe kill detects them, a new container instance ends them.
func (r *runner) hangEvent(e sim.Event) {
	for _, h := range r.hangs {
		if h.closed || h.pod.obj.Name != e.Pod || h.container != e.Container || e.Time.Before(h.onset) {
			continue
		}
		switch {
		case e.Reason == sim.ReasonKilling && (strings.Contains(e.Message, "failed liveness probe") || strings.Contains(e.Message, "failed startup probe")):
			r.account()
			h.closed, h.detected, h.end = true, true, e.Time
			r.account()
		case e.Reason == sim.ReasonStarted && e.Time.After(h.onset):
			r.account()
			h.closed, h.end = true, e.Time
			r.account()
		}
	}
}

// hung reports whether a pod has an injected hang in progress: it may still be Ready, but it serves nothing.
func (r *runner) hung(p *podRec) bool {
	for _, h := range r.hangs {
		if h.pod == p && !h.closed {
			return true
		}
	}
	return false
}

func (r *runner) hangCheckPending() bool {
	for _, h := range r.hangs {
		if !h.checked {
			return true
		}
	}
	return false
}

// checkHangs confirms that injected hangs took effect: a container that was not running (or already hung)
// cannot hang.
func (r *runner) checkHangs() {
	for _, h := range r.hangs {
		if h.checked || r.w.Now().Equal(h.onset) {
			continue
		}
		h.checked = true
		h.happened = h.pod.ps.Stats().Hangs > h.before
		if !h.happened {
			h.closed, h.end = true, h.onset
		}
	}
}

// fire carries out a timed scenario event.
func (r *runner) fire(e Event, now time.Time) error {
	switch {
	case e.Deploy != nil:
		t := *r.f.d.Spec.Template.DeepCopy()
		for _, c := range probes.Tunable(&t.Spec) {
			if img, ok := e.Deploy.Images[c.Name]; ok {
				c.Image = img
			}
		}
		if len(e.Deploy.Annotations) > 0 && t.Annotations == nil {
			t.Annotations = map[string]string{}
		}
		for k, v := range e.Deploy.Annotations {
			if v == "" {
				delete(t.Annotations, k)
			} else {
				t.Annotations[k] = v
			}
		}
		r.f.setTemplate(t)
		r.deploys++
		return r.f.sync(now)
	case e.Hang != nil:
		pods := r.f.active(nil)
		i := e.Hang.Pod
		if i < 0 {
			i += len(pods)
		}
		if i < 0 || i >= len(pods) {
			return nil // fewer pods than the index: nothing hangs
		}
		p := pods[i]
		container := e.Hang.Container
		if container == "" {
			container = p.obj.Spec.Containers[0].Name
		}
		h := &hangRec{pod: p, container: container, onset: now, before: p.ps.Stats().Hangs}
		if err := r.w.InjectHang(p.obj.Namespace, p.obj.Name, container, now); err != nil {
			return err
		}
		r.account()
		r.hangs = append(r.hangs, h)
		r.account()
	}
	return nil
}

// reconcile is one look of the operator at the workload, as controllers/workload.go takes it: the same
// tuner.StepWorkload on the pods, the kubelet's Events and the Deployment (with the annotations probe-tuner wrote
// on it), then a write as the operator makes it (see write).
func (r *runner) reconcile(now time.Time) error {
	pods := r.f.present()
	names := make(map[string]bool, len(pods))
	for _, p := range pods {
		names[p.Name] = true
	}
	events := r.pending[:0:0]
	for _, e := range r.pending {
		if names[e.Pod] { // the operator lists the Events of the pods that exist
			events = append(events, e)
		}
	}
	r.pending = r.pending[:0]
	r.dirty = false
	r.lastReconcile = now

	// The benchmark looks at every change of the pods from the start: all the time between two looks counts.
	look := tuner.WorkloadLook{Observe: observe.Input{Pods: observe.FromAPIPods(pods), Events: events, Revision: r.f.hash, Now: now, WatchedSince: Epoch},
		Deployment: r.f.d, RolloutInProgress: r.f.rollingOut()}
	var recorded Look
	if r.opt.look != nil {
		recorded = copyLook(look, pods) // before the step and the write change anything
	}
	step, err := tuner.StepWorkload(&r.ws, look, r.sc.settings, r.ocfg)
	if err != nil {
		return err
	}
	r.lastAct = step.Action
	r.traceAction(step.Action, now)
	wrote, err := r.write(&step)
	r.nextLook = step.NextLook
	if r.opt.look != nil {
		recorded.Outcome = step
		r.opt.look(recorded)
	}
	if err != nil || !wrote {
		return err
	}
	act := step.Action
	r.rollouts++
	r.lastChange = now
	r.rolloutTimes = append(r.rolloutTimes, now)
	for _, ch := range act.Changes {
		r.changes = append(r.changes, Change{AtSeconds: now.Sub(Epoch).Seconds(), Action: string(act.Kind), Container: ch.Container,
			Probe: string(ch.Probe), Field: string(ch.Field), From: ch.From, To: ch.To, Reason: ch.Reason, Evidence: ch.Evidence})
	}
	return r.f.sync(now)
}

// write carries out a write the step decided, as the operator does: tuner.PrepareWrite on a fresh read of the
// Deployment (the fleet's Deployment is the API server's copy, so the fresh read is that), the server-side apply
// apply.Build makes of it, handled as the API server does (serverSideApply), and tuner.Written. The new pod
// template rolls out like any other.
func (r *runner) write(step *tuner.Outcome) (bool, error) {
	if !step.Write {
		return false, nil
	}
	req, err := tuner.PrepareWrite(&r.ws, step, r.f.d, benchPolicy)
	if err != nil || req == nil {
		return false, err
	}
	obj, owned, err := apply.Build(*req)
	if err != nil {
		return false, err
	}
	t, err := serverSideApply(r.f.d, obj, req.Owned, owned)
	if err != nil {
		return false, err
	}
	r.f.setTemplate(t)
	tuner.Written(&r.ws, step)
	return true, nil
}

// traceAction writes the decisions worth reading: writes, recorded recommendations and new findings.
func (r *runner) traceAction(act tuner.Action, now time.Time) {
	if r.opt.trace == nil || (act.Kind == tuner.Wait && !act.NewFindings && act.Reason == r.lastTrace) || (act.Kind == tuner.Recommend && !act.Record) {
		return
	}
	r.lastTrace = act.Reason
	at := clock(now.Sub(Epoch).Seconds())
	fmt.Fprintf(r.opt.trace, "%s %s %s: %s", r.sc.Name, at, act.Kind, act.Reason)
	for _, c := range act.Changes {
		fmt.Fprintf(r.opt.trace, "\n    %s %s %s %d->%d %s: %s", c.Container, c.Probe, c.Field, c.From, c.To, c.Reason, c.Evidence)
	}
	for _, f := range act.Plan.Findings {
		if act.NewFindings {
			fmt.Fprintf(r.opt.trace, "\n    finding %s %s: %s", f.Severity, f.Reason, f.Message)
		}
	}
	fmt.Fprintln(r.opt.trace)
}

// result computes the run's metrics.
func (r *runner) result() *runResult {
	m := Metrics{Rollouts: r.rollouts, Deploys: r.deploys, UnavailableSeconds: r.unavailable.Seconds()}
	var detection time.Duration
	for _, p := range r.f.pods {
		st := p.ps.Stats()
		kills := st.Restarts.Liveness + st.Restarts.Startup
		detected := len(st.HangDetections)
		m.ProbeKills += kills
		m.HangKills += detected
		m.ProbeRestarts += max(0, kills-detected)
		m.OtherRestarts += st.Restarts.OOM + st.Restarts.Error + st.Restarts.Completed
		m.Hangs += st.Hangs
		m.UndetectedHangs += max(0, st.Hangs-detected)
		for _, d := range st.HangDetections {
			detection += d
		}
	}
	for _, h := range r.hangs {
		if !h.happened || h.detected {
			continue // detected hangs are in the simulator's detection latencies
		}
		end := h.end
		if !h.closed {
			end = r.end
		}
		detection += end.Sub(h.onset)
	}
	m.DetectionSeconds = detection.Seconds()
	m.Reversals = reversals(r.changes)
	if r.rollouts > 0 {
		s := r.lastChange.Sub(Epoch).Seconds()
		m.LastChangeSeconds = &s
	}
	m.Cost = cost(m)
	m.round()
	return &runResult{Metrics: m, Changes: r.changes, Findings: r.lastAct.Plan.Findings, Probes: r.f.probes(),
		record: runRecord{exits: exitRecords(r.f.pods), rollouts: r.rolloutTimes}}
}

// reversals counts the changes that moved a field back in the direction it came from: for each container,
// probe and field, a change whose direction differs from the previous change of the same field.
func reversals(changes []Change) int {
	last := map[string]int{}
	n := 0
	for _, c := range changes {
		dir := 0
		switch {
		case c.To > c.From:
			dir = 1
		case c.To < c.From:
			dir = -1
		}
		if dir == 0 {
			continue
		}
		key := c.Container + "/" + c.Probe + "/" + c.Field
		if prev := last[key]; prev != 0 && prev != dir {
			n++
		}
		last[key] = dir
	}
	return n
}

// clock renders seconds since the start as 1h02m.
func clock(s float64) string {
	d := time.Duration(math.Round(s)) * time.Second
	h := int(d.Hours())
	m := int(d.Minutes()) % 60
	if h == 0 {
		return fmt.Sprintf("%dm%02ds", m, int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}

// probeSummary renders a container's probes compactly: "startup 5sx12 t1 | liveness 10sx3 t1 | readiness ...".
func probeSummary(set probes.Set) string {
	var parts []string
	for _, k := range []struct {
		name string
		p    *corev1.Probe
	}{{"startup", set.Startup}, {"liveness", set.Liveness}, {"readiness", set.Readiness}} {
		if k.p == nil {
			continue
		}
		p := k.p
		s := fmt.Sprintf("%s %dsx%d t%d", k.name, p.PeriodSeconds, p.FailureThreshold, p.TimeoutSeconds)
		if p.InitialDelaySeconds > 0 {
			s += fmt.Sprintf(" d%d", p.InitialDelaySeconds)
		}
		if p.SuccessThreshold > 1 {
			s += fmt.Sprintf(" s%d", p.SuccessThreshold)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "no probes"
	}
	return strings.Join(parts, " | ")
}
