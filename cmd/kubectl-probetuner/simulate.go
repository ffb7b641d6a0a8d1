package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/test/harness/bench"
	"github.com/probetuner/probe-tuner/test/harness/sim/report"
)

// simulation is the outcome of simulate: the Deployment as written, and with the probes probe-tuner ends with
// when it tunes the Deployment over the same time, both from the start.
type simulation struct {
	Duration    time.Duration
	Written     *report.Result
	Recommended *report.Result
	// Before and After are each container's probes as written and as recommended.
	Before, After map[string]probes.Set
	Containers    []string
	Tuned         *bench.Tuned
}

func simulateDeployment(d *appsv1.Deployment, spec tuningv1alpha1.ProbePolicySpec, duration time.Duration, seed uint64) (*simulation, error) {
	tuned, err := bench.TuneDeployment(d, spec, duration, seed)
	if err != nil {
		return nil, err
	}
	s := &simulation{Duration: duration, Tuned: tuned, Before: map[string]probes.Set{}, After: map[string]probes.Set{}}
	rec := d.DeepCopy()
	for _, c := range probes.Tunable(&rec.Spec.Template.Spec) {
		s.Containers = append(s.Containers, c.Name)
		s.Before[c.Name] = probes.Set{Startup: c.StartupProbe.DeepCopy(), Liveness: c.LivenessProbe.DeepCopy(), Readiness: c.ReadinessProbe.DeepCopy()}
		if set, ok := tuned.Probes[c.Name]; ok {
			c.StartupProbe, c.LivenessProbe, c.ReadinessProbe = set.Startup.DeepCopy(), set.Liveness.DeepCopy(), set.Readiness.DeepCopy()
		}
		s.After[c.Name] = probes.Set{Startup: c.StartupProbe, Liveness: c.LivenessProbe, Readiness: c.ReadinessProbe}
	}
	if s.Written, err = report.Run(report.Config{Deployments: []*appsv1.Deployment{d.DeepCopy()}, Duration: duration, Seed: seed}); err != nil {
		return nil, fmt.Errorf("simulating the Deployment as written: %w", err)
	}
	if s.Recommended, err = report.Run(report.Config{Deployments: []*appsv1.Deployment{rec}, Duration: duration, Seed: seed}); err != nil {
		return nil, fmt.Errorf("simulating the Deployment with the recommended probes: %w", err)
	}
	return s, nil
}

// renderSimulation writes the two runs side by side, then what probe-tuner changed and found.
func renderSimulation(w io.Writer, s *simulation) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s of virtual time\tAS WRITTEN\tRECOMMENDED\n", s.Duration)
	a, b := s.Written.Totals, s.Recommended.Totals
	row := func(name string, x, y any) { fmt.Fprintf(tw, "%s\t%v\t%v\n", name, x, y) }
	row("restarts: liveness", a.Restarts.Liveness, b.Restarts.Liveness)
	row("restarts: startup", a.Restarts.Startup, b.Restarts.Startup)
	row("restarts: oom", a.Restarts.OOM, b.Restarts.OOM)
	row("restarts: error", a.Restarts.Error, b.Restarts.Error)
	row("restarts: completed", a.Restarts.Completed, b.Restarts.Completed)
	row("unavailable (replica time)", (time.Duration(a.UnavailableSeconds) * time.Second).String(), (time.Duration(b.UnavailableSeconds) * time.Second).String())
	row("replicas never ready", fmt.Sprintf("%d of %d", a.NeverReady, a.Replicas), fmt.Sprintf("%d of %d", b.NeverReady, b.Replicas))
	row("ready transitions", a.ReadyTransitions, b.ReadyTransitions)
	row("hangs detected (mean time)", detection(a), detection(b))
	for _, c := range s.Containers {
		row(c+": time to detect a hang", ttd(s.Before[c]), ttd(s.After[c]))
		for _, k := range probes.Kinds {
			row(fmt.Sprintf("%s: %s probe", c, k), probeLine(s.Before[c].Get(k)), probeLine(s.After[c].Get(k)))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.Tuned.Changes) == 0 {
		fmt.Fprintf(w, "\nprobe-tuner changes nothing in %s with this policy.\n", s.Duration)
	} else {
		fmt.Fprintf(w, "\nWhat probe-tuner changes in %s (Auto mode, one verified change at a time):\n", s.Duration)
		for _, c := range s.Tuned.Changes {
			fmt.Fprintf(w, "  %s %s: %s\n", c.Container, c, c.Reason)
		}
	}
	for _, f := range s.Tuned.Findings {
		fmt.Fprintf(w, "finding %s %s (%s): %s\n", f.Severity, f.Reason, f.Container, f.Message)
	}
	return nil
}

func detection(t report.Totals) string {
	if len(t.HangDetectionSeconds) == 0 {
		return fmt.Sprintf("0 of %d", t.Hangs)
	}
	sum := 0.0
	for _, s := range t.HangDetectionSeconds {
		sum += s
	}
	return fmt.Sprintf("%d of %d (%.0fs)", len(t.HangDetectionSeconds), t.Hangs, sum/float64(len(t.HangDetectionSeconds)))
}

// ttd is the liveness probe's longest time to detect a hang, failureThreshold x period + timeout.
func ttd(set probes.Set) string {
	if set.Liveness == nil {
		return "never (no liveness probe)"
	}
	return fmt.Sprintf("%ds", probes.Of(set.Liveness).TimeToDetect())
}

func probeLine(p *corev1.Probe) string {
	if p == nil {
		return "none"
	}
	v := probes.Of(p)
	return probeValues(v.ToAPI())
}

// readPolicy reads a ProbePolicy manifest; none given: an empty spec (every default).
func readPolicy(path string) (*tuningv1alpha1.ProbePolicy, error) {
	pol := &tuningv1alpha1.ProbePolicy{}
	if path == "" {
		return pol, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalStrict(data, pol); err != nil {
		return nil, fmt.Errorf("%s is not a ProbePolicy: %w", path, err)
	}
	if pol.Kind != "ProbePolicy" || pol.APIVersion != tuningv1alpha1.GroupVersion.String() {
		return nil, fmt.Errorf("%s holds %s %q, want a ProbePolicy of %s", path, orDash(pol.APIVersion), pol.Kind, tuningv1alpha1.GroupVersion)
	}
	return pol, nil
}

// runSimulate is `kubectl probetuner simulate -f deployment.yaml [--duration 6h] [--policy policy.yaml]`.
func runSimulate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "the Deployment manifest `FILE` (one apps/v1 Deployment; other kinds are skipped)")
	dur := fs.Duration("duration", 6*time.Hour, "virtual `time` to simulate")
	pol := fs.String("policy", "", "a ProbePolicy manifest `FILE` whose bounds and pacing to use (default: every default)")
	seed := fs.Uint64("seed", 1, "the simulator's random seed")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: kubectl probetuner simulate -f deployment.yaml [--duration 6h] [--policy policy.yaml]\n\n"+
			"Runs the Deployment in the kubelet probe simulator (probesim's engine; application behaviour from the\n"+
			"sim.probetuner.io annotations, docs/simulator.md) with probe-tuner in the loop, then as written and with the\n"+
			"probes probe-tuner ends with, both from the start, and prints them side by side. No cluster is used.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "kubectl-probetuner simulate: %v\n", err)
		return exitUsage
	}
	switch {
	case fs.NArg() > 0:
		return fail(fmt.Errorf("unexpected arguments %s (the Deployment is given with -f)", strings.Join(fs.Args(), " ")))
	case *file == "":
		return fail(errors.New("no Deployment: give -f deployment.yaml"))
	case *dur <= 0 || *dur > bench.MaxDuration:
		return fail(fmt.Errorf("--duration %s must be positive and at most %s", *dur, bench.MaxDuration))
	}
	f, err := os.Open(*file)
	if err != nil {
		return fail(err)
	}
	deps, err := report.LoadDeployments(f)
	f.Close()
	if err != nil {
		return fail(fmt.Errorf("%s: %w", *file, err))
	}
	if len(deps) != 1 {
		return fail(fmt.Errorf("%s holds %d Deployments; simulate takes one", *file, len(deps)))
	}
	d := deps[0]
	p, err := readPolicy(*pol)
	if err != nil {
		return fail(err)
	}
	if *pol != "" {
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.Selector)
		if err != nil {
			return fail(fmt.Errorf("%s: selector: %w", *pol, err))
		}
		if sel.Empty() || !sel.Matches(labels.Set(d.Labels)) {
			return fail(fmt.Errorf("ProbePolicy %s does not select Deployment %s (selector %s, labels %s)", p.Name, d.Name, sel, labels.Set(d.Labels)))
		}
	}
	s, err := simulateDeployment(d, p.Spec, *dur, *seed)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", *file, err))
	}
	if err := renderSimulation(stdout, s); err != nil {
		return fail(err)
	}
	return exitOK
}
