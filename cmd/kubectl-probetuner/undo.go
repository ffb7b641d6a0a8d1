package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/probetuner/probe-tuner/internal/apply"
)

// exitRefused: undo found nothing it can trust to restore.
const exitRefused = 3

// runUndo reads one Deployment as the API server returns it (kubectl get deploy NAME -o yaml) and prints it with
// the probes before probe-tuner's last change put back, for kubectl replace (which keeps the resourceVersion, so a
// Deployment changed meanwhile is refused). It refuses, with a message and exit code 3, previous probes that do
// not parse, are not valid probes, or are not the probes this Deployment's last change started from.
func runUndo(args []string, stdin io.Reader, stdout, stderr io.Writer, now time.Time) int {
	fs := flag.NewFlagSet("undo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "-", "the Deployment, as YAML or JSON (- for stdin)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: kubectl probetuner undo [-f FILE]

Undoes probe-tuner's last change of a Deployment from its probetuner.io/previous-probes annotation:

  kubectl get deploy NAME -o yaml | kubectl probetuner undo | kubectl replace -f -

probe-tuner then finds the restored fields changed by hand and leaves them alone from then on.
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	in := stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			fmt.Fprintf(stderr, "kubectl-probetuner undo: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		in = f
	}
	raw, err := io.ReadAll(io.LimitReader(in, 8<<20))
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-probetuner undo: reading the Deployment: %v\n", err)
		return exitUsage
	}
	var d appsv1.Deployment
	if err := yaml.Unmarshal(raw, &d); err != nil || d.Kind != "Deployment" {
		fmt.Fprintf(stderr, "kubectl-probetuner undo: the input is not one Deployment (kind %q): %v\n", d.Kind, err)
		return exitUsage
	}
	restored, err := undo(&d, now)
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-probetuner undo: refusing to undo Deployment %s/%s: %v\n", d.Namespace, d.Name, err)
		return exitRefused
	}
	out, err := yaml.Marshal(restored)
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-probetuner undo: %v\n", err)
		return exitUsage
	}
	_, _ = stdout.Write(out)
	return exitOK
}

// undo returns the Deployment with its previous probes restored, after checking the last change and the previous
// probes belong to it.
func undo(d *appsv1.Deployment, now time.Time) (*appsv1.Deployment, error) {
	rawPrev, ok := d.Annotations[apply.AnnotationPrevious]
	if !ok {
		return nil, fmt.Errorf("it has no %s annotation: probe-tuner has not changed it", apply.AnnotationPrevious)
	}
	prev, err := apply.ParsePrevious(rawPrev)
	if err != nil {
		return nil, fmt.Errorf("its %s annotation cannot be used: %w", apply.AnnotationPrevious, err)
	}
	lc, err := apply.ParseLastChange(d.Annotations[apply.AnnotationLastChange])
	if err == nil {
		err = lc.Check(d, now)
	}
	if err != nil {
		return nil, fmt.Errorf("its %s annotation, which says what the previous probes undo, cannot be trusted: %w", apply.AnnotationLastChange, err)
	}
	if err := prev.Check(d, &lc); err != nil {
		return nil, fmt.Errorf("its %s annotation is not what the last change %s started from: %w", apply.AnnotationPrevious, lc.ID, err)
	}
	return prev.Restore(d), nil
}
