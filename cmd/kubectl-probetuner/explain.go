package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/apply"
)

// explanation is what explain shows of one Deployment.
type explanation struct {
	Deployment *appsv1.Deployment
	// Acting is the policy that tunes the Deployment; Others select it too and give way (Conflict).
	Acting *tuningv1alpha1.ProbePolicy
	Others []tuningv1alpha1.ProbePolicy
	Events []corev1.Event
}

// selectingPolicies returns the policies whose selector matches the Deployment, the one that acts first: the
// oldest, as the operator decides (creation time, then name).
func selectingPolicies(d *appsv1.Deployment, policies []tuningv1alpha1.ProbePolicy) []tuningv1alpha1.ProbePolicy {
	var out []tuningv1alpha1.ProbePolicy
	for _, p := range policies {
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(d.Labels)) {
			continue
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].CreationTimestamp, out[j].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func workloadOf(p *tuningv1alpha1.ProbePolicy, name string) *tuningv1alpha1.WorkloadSummary {
	for i := range p.Status.Workloads {
		if p.Status.Workloads[i].Name == name {
			return &p.Status.Workloads[i]
		}
	}
	return nil
}

// renderExplain writes the explanation, newest first, with times relative to now.
func renderExplain(w io.Writer, e explanation, now time.Time) error {
	d, p := e.Deployment, e.Acting
	var b strings.Builder
	fmt.Fprintf(&b, "Deployment %s/%s\n", d.Namespace, d.Name)
	fmt.Fprintf(&b, "Policy:     %s (mode %s)\n", p.Name, orDash(string(p.Spec.Mode)))
	for _, o := range e.Others {
		fmt.Fprintf(&b, "Also:       %s selects it too and gives way (the older policy, %s, alone tunes it)\n", o.Name, p.Name)
	}
	ws := workloadOf(p, d.Name)
	if ws == nil {
		fmt.Fprintf(&b, "State:      - (not in the policy's status yet: the operator has not looked at it, or is not running)\n")
	} else {
		fmt.Fprintf(&b, "State:      %s: %s\n", orDash(string(ws.State)), orDash(ws.Message))
		if ws.LastChangeTime != nil {
			t := ws.LastChangeTime.Time
			fmt.Fprintf(&b, "Changed:    %s (%s)\n", ago(&t, now), t.UTC().Format(time.RFC3339))
		}
		var next []string
		for _, c := range ws.Containers {
			if c.Recommended != nil {
				next = append(next, c.Name+": "+probesText(c.Current, c.Recommended))
			}
		}
		if len(next) > 0 {
			fmt.Fprintf(&b, "Next:       recommended, %s\n", strings.Join(next, " | "))
		}
		if len(ws.Containers) > 0 {
			b.WriteString("\nContainers:\n")
		}
		for _, c := range ws.Containers {
			o := c.Observed
			fmt.Fprintf(&b, "  %s: restarts in the last hour %s; in all %d liveness, %d startup, %d oom, %d error; flapping %s/h; starts %d",
				c.Name, restartsText(o.RestartsLastHour), o.LivenessKills, o.StartupKills, o.OOMKills, o.Crashes, orDash(o.ReadyTransitionsPerHour), o.StartupSamples)
			if o.StartupP50 != nil && o.StartupP99 != nil {
				fmt.Fprintf(&b, " (p50 %s, p99 %s)", o.StartupP50.Duration, o.StartupP99.Duration)
			}
			if o.StartupLowerBound != nil {
				fmt.Fprintf(&b, ", killed starts ran up to %s", o.StartupLowerBound.Duration)
			}
			if o.StuckPods > 0 {
				fmt.Fprintf(&b, ", %d pod(s) never ready", o.StuckPods)
			}
			fmt.Fprintf(&b, "\n    probes: %s\n", probesText(c.Current, c.Recommended))
		}
	}

	b.WriteString("\nAnnotations:\n")
	if v, ok := d.Annotations[apply.AnnotationPaused]; ok {
		fmt.Fprintf(&b, "  %s: %q\n", apply.AnnotationPaused, v)
	}
	lc, err := readLastChange(d)
	switch {
	case err != nil:
		fmt.Fprintf(&b, "  %s: unreadable: %v\n", apply.AnnotationLastChange, err)
	case lc != nil:
		t := lc.Time
		fmt.Fprintf(&b, "  %s: %s %s by %s, decision %s: %s\n", apply.AnnotationLastChange, lc.Action, ago(&t, now), orDash(lc.Policy), orDash(lc.ID), strings.Join(lc.Summary, "; "))
	default:
		fmt.Fprintf(&b, "  %s: - (probe-tuner has not written this Deployment)\n", apply.AnnotationLastChange)
	}
	if v, ok := d.Annotations[apply.AnnotationPrevious]; ok {
		fmt.Fprintf(&b, "  %s: %d bytes (the probes before the last change)\n", apply.AnnotationPrevious, len(v))
	}

	b.WriteString("\nDecisions (newest first):\n")
	n := 0
	for _, dec := range p.Status.Decisions {
		if dec.Workload != d.Name {
			continue
		}
		n++
		t := dec.Time.Time
		fmt.Fprintf(&b, "  %-8s %s %s\n", ago(&t, now), dec.Container, decisionText(dec))
		if dec.Evidence != "" {
			fmt.Fprintf(&b, "           evidence: %s\n", dec.Evidence)
		}
	}
	if n == 0 {
		b.WriteString("  - (none in the policy's status, which keeps the last 20 of all its workloads)\n")
	}

	b.WriteString("\nEvents (newest first):\n")
	if len(e.Events) == 0 {
		b.WriteString("  - (no probe-tuner Event on this Deployment; Events expire after an hour by default)\n")
	}
	for _, ev := range e.Events {
		t := eventTime(ev)
		fmt.Fprintf(&b, "  %-8s %s %s: %s\n", ago(&t, now), ev.Type, ev.Reason, ev.Message)
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// eventTime is when an Event last happened.
func eventTime(ev corev1.Event) time.Time {
	switch {
	case ev.Series != nil && !ev.Series.LastObservedTime.IsZero():
		return ev.Series.LastObservedTime.Time
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	}
	return ev.CreationTimestamp.Time
}

// probeTunerEvents keeps the Events probe-tuner recorded, newest first.
func probeTunerEvents(evs []corev1.Event) []corev1.Event {
	var out []corev1.Event
	for _, ev := range evs {
		if ev.ReportingController == "probe-tuner" || ev.Source.Component == "probe-tuner" {
			out = append(out, ev)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return eventTime(out[j]).Before(eventTime(out[i])) })
	return out
}

// parseWorkload reads deploy/NAME (deployment/, deployments/, deployment.apps/ or a bare NAME).
func parseWorkload(arg string) (string, error) {
	kind, name, found := strings.Cut(arg, "/")
	if !found {
		kind, name = "deploy", arg
	}
	switch strings.ToLower(kind) {
	case "deploy", "deployment", "deployments", "deployment.apps", "deployments.apps":
	default:
		return "", fmt.Errorf("%q: probe-tuner tunes Deployments only; want deploy/NAME", arg)
	}
	if name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("%q: want deploy/NAME", arg)
	}
	return name, nil
}

// runExplain is `kubectl probetuner explain deploy/NAME [-n NS]`.
func runExplain(args []string, stdout, stderr io.Writer) int {
	var cf clusterFlags
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf.register(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: kubectl probetuner explain deploy/NAME [-n NS]\n\n"+
			"Which policy tunes the Deployment, its state and why, what is recommended next, and its decisions with their\n"+
			"evidence, newest first, from the policy's status, the Deployment's probetuner.io annotations and Events.\n\n")
		fs.PrintDefaults()
	}
	// Flags may come after the workload, as with kubectl.
	var positional []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitOK
			}
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) != 1 {
		fmt.Fprintln(stderr, "kubectl-probetuner explain: want exactly one workload, deploy/NAME")
		return exitUsage
	}
	name, err := parseWorkload(positional[0])
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-probetuner explain: %v\n", err)
		return exitUsage
	}
	cl, ns, err := cf.connect()
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-probetuner explain: %v\n", err)
		return exitUsage
	}
	e, err := gatherExplanation(context.Background(), cl, ns, name)
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-probetuner explain: %v\n", err)
		return exitFailed
	}
	if err := renderExplain(stdout, e, time.Now()); err != nil {
		fmt.Fprintf(stderr, "kubectl-probetuner explain: %v\n", err)
		return exitFailed
	}
	return exitOK
}

func gatherExplanation(ctx context.Context, cl client.Client, ns, name string) (explanation, error) {
	var e explanation
	d := &appsv1.Deployment{}
	if err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
		if apierrors.IsNotFound(err) {
			return e, fmt.Errorf("Deployment %s not found in namespace %s (kubectl get deploy -n %s)", name, ns, ns)
		}
		return e, fmt.Errorf("reading Deployment %s/%s: %w", ns, name, err)
	}
	var list tuningv1alpha1.ProbePolicyList
	if err := cl.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return e, fmt.Errorf("listing ProbePolicies in %s: %w", ns, listHint(err))
	}
	sel := selectingPolicies(d, list.Items)
	if len(sel) == 0 {
		return e, fmt.Errorf("no ProbePolicy in namespace %s selects Deployment %s (its labels: %s); probe-tuner does not tune it",
			ns, name, labels.Set(d.Labels).String())
	}
	e.Deployment, e.Acting, e.Others = d, &sel[0], sel[1:]
	var evs corev1.EventList
	fsel := fields.AndSelectors(fields.OneTermEqualSelector("involvedObject.kind", "Deployment"), fields.OneTermEqualSelector("involvedObject.name", name))
	if err := cl.List(ctx, &evs, client.InNamespace(ns), client.MatchingFieldsSelector{Selector: fsel}); err != nil {
		return e, fmt.Errorf("listing the Events of Deployment %s/%s: %w", ns, name, err)
	}
	e.Events = probeTunerEvents(evs.Items)
	return e, nil
}
