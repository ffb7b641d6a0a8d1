package recommend

import (
	"fmt"
	"sort"
	"strings"

	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// Recommend decides the changes and findings for one workload.
func Recommend(in Input) Plan {
	plan := Plan{Probes: map[string]probes.Set{}}
	cs := make([]Container, len(in.Containers))
	copy(cs, in.Containers)
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	for _, c := range cs {
		if !in.Settings.SelectsContainer(c.Name) {
			continue
		}
		r := containerRun{in: in, c: c, plan: &plan, next: probes.Set{
			Startup: c.Startup.DeepCopy(), Liveness: c.Liveness.DeepCopy(), Readiness: c.Readiness.DeepCopy(),
		}}
		r.run()
	}
	return plan
}

// containerRun applies the rules to one container, accumulating its changes into next.
type containerRun struct {
	in      Input
	c       Container
	plan    *Plan
	next    probes.Set
	changes []probes.Change
	// found holds the reasons of the findings made for the container so far: the rules' gates.
	found map[string]bool
	// tightenBlocked says why an over-generous liveness probe was not tightened, for the finding.
	tightenBlocked string
}

func (r *containerRun) run() {
	for _, rl := range rules {
		r.applyRule(rl)
	}
	r.commit()
	r.crashLoopUnhandled()
}

// crashLoopUnhandled makes a crash loop that this step changes nothing for a warning, so that the workload never
// reads Stable (or Paused with nothing to say) while its pods sit in CrashLoopBackOff: restarts before
// probe-tuner watched are not counted, fields set by hand are left alone, crashes are not the probes' fault, but
// a person must look either way.
func (r *containerRun) crashLoopUnhandled() {
	sig := r.c.Signals
	if sig.CrashLoopBackOff == 0 || len(r.changes) > 0 {
		return
	}
	for _, f := range r.plan.Findings {
		if f.Container == r.c.Name && f.Severity == Warning {
			return // already explained
		}
	}
	why := "probe-tuner changes nothing for it"
	prefix := r.c.Name + ": "
	for _, w := range r.plan.Waiting {
		if strings.HasPrefix(w, prefix) {
			why += " (" + strings.TrimPrefix(w, prefix) + ")"
			break
		}
	}
	t := sig.Restarts
	r.find(Warning, ReasonCrashLoopUnhandled, fmt.Sprintf("%d of %d pod(s) of container %s are in CrashLoopBackOff and %s; restarts seen in this revision: "+
		"%d liveness kills, %d startup kills, %d OOM kills, %d application crashes. Look at the container's logs and its probes",
		sig.CrashLoopBackOff, sig.Replicas, r.c.Name, why, t[observe.CauseLiveness], t[observe.CauseStartup], t[observe.CauseOOM], t[observe.CauseError]))
}

func (r *containerRun) find(sev Severity, reason, message string) {
	if r.found == nil {
		r.found = map[string]bool{}
	}
	r.found[reason] = true
	r.plan.Findings = append(r.plan.Findings, Finding{Container: r.c.Name, Severity: sev, Reason: reason, Message: message})
}

func (r *containerRun) wait(format string, args ...any) {
	r.plan.Waiting = append(r.plan.Waiting, r.c.Name+": "+fmt.Sprintf(format, args...))
}

// change records a field change on the working copy, unless it was reverted before.
func (r *containerRun) change(k probes.Kind, field probes.Field, from, to int32, reason, evidence string) bool {
	ch := probes.Change{Container: r.c.Name, Probe: k, Field: field, From: from, To: to, Reason: reason, Evidence: evidence}
	for _, f := range r.in.Frozen {
		if f == ch.Ref() {
			r.wait("%s %s was set by hand after probe-tuner changed it and is left alone", k, field)
			return false
		}
	}
	for _, b := range r.in.Blocked {
		if b.Same(ch) {
			r.wait("%s %s %d -> %d was reverted before and is not retried", k, field, from, to)
			return false
		}
	}
	r.changes = append(r.changes, ch)
	return true
}

// setField changes one timing field of the working copy of probe k; it reports whether the field changed.
func (r *containerRun) setField(k probes.Kind, field probes.Field, to int32, reason, evidence string) bool {
	p := r.next.Get(k)
	v := probes.Of(p)
	from, _ := v.Field(field)
	if from == to || !r.change(k, field, from, to, reason, evidence) {
		return false
	}
	nv, _ := v.WithField(field, to)
	nv.Apply(p)
	return true
}

// commit validates the working probes and publishes the changes. A change that would produce an invalid probe is
// dropped whole: the operator never writes an invalid probe.
func (r *containerRun) commit() {
	if len(r.changes) == 0 {
		return
	}
	for _, k := range probes.Kinds {
		if err := probes.Validate(r.next.Get(k), k); err != nil {
			r.find(Warning, "InvalidRecommendation", fmt.Sprintf("probe-tuner computed an invalid %s probe for container %s and discarded it: %v", k, r.c.Name, err))
			return
		}
	}
	r.plan.Changes = append(r.plan.Changes, r.changes...)
	r.plan.Probes[r.c.Name] = r.next
}
