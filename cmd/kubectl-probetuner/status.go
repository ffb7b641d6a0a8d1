package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/apply"
)

// statusRow is one container of one workload of one policy: a line of `status`, an element of its -o json.
type statusRow struct {
	Namespace   string                        `json:"namespace"`
	Policy      string                        `json:"policy"`
	Mode        tuningv1alpha1.Mode           `json:"mode"`
	Workload    string                        `json:"workload"`
	Container   string                        `json:"container"`
	State       string                        `json:"state"`
	Message     string                        `json:"message"`
	Restarts    *tuningv1alpha1.RestartCounts `json:"restartsLastHour"`
	Flapping    string                        `json:"readyTransitionsPerHour"`
	Current     *tuningv1alpha1.ProbeSet      `json:"current"`
	Recommended *tuningv1alpha1.ProbeSet      `json:"recommended"`
	// LastDecision is the newest decision about the container (else the workload) in the policy's status,
	// else the Deployment's probetuner.io/last-change record.
	LastDecision     string     `json:"lastDecision"`
	LastDecisionTime *time.Time `json:"lastDecisionTime"`
}

// statusRows builds the rows of the policies; lastChange holds the Deployments' last-change records by
// namespace/name, for workloads whose decisions are no longer in the status.
func statusRows(policies []tuningv1alpha1.ProbePolicy, lastChange map[string]*apply.LastChange) []statusRow {
	var rows []statusRow
	sort.Slice(policies, func(i, j int) bool {
		if policies[i].Namespace != policies[j].Namespace {
			return policies[i].Namespace < policies[j].Namespace
		}
		return policies[i].Name < policies[j].Name
	})
	for _, p := range policies {
		for _, w := range p.Status.Workloads {
			containers := w.Containers
			if len(containers) == 0 {
				containers = []tuningv1alpha1.ContainerSummary{{}}
			}
			for _, c := range containers {
				r := statusRow{Namespace: p.Namespace, Policy: p.Name, Mode: p.Spec.Mode, Workload: w.Name, Container: c.Name,
					State: string(w.State), Message: w.Message, Restarts: c.Observed.RestartsLastHour, Flapping: c.Observed.ReadyTransitionsPerHour}
				if c.Name != "" {
					cur := c.Current
					r.Current, r.Recommended = &cur, c.Recommended
				}
				if d := lastDecision(p.Status.Decisions, w.Name, c.Name); d != nil {
					t := d.Time.Time
					r.LastDecision, r.LastDecisionTime = decisionText(*d), &t
				} else if lc := lastChange[p.Namespace+"/"+w.Name]; lc != nil {
					t := lc.Time
					r.LastDecision, r.LastDecisionTime = lc.Action+" "+strings.Join(lc.Summary, "; "), &t
				}
				rows = append(rows, r)
			}
		}
	}
	return rows
}

// lastDecision is the newest decision about the container, else about the workload.
func lastDecision(ds []tuningv1alpha1.Decision, workload, container string) *tuningv1alpha1.Decision {
	var any *tuningv1alpha1.Decision
	for i := range ds {
		d := &ds[i]
		if d.Workload != workload {
			continue
		}
		if d.Container == container {
			return d
		}
		if any == nil {
			any = d
		}
	}
	return any
}

// renderStatusText writes the rows as aligned columns, times relative to now.
func renderStatusText(w io.Writer, rows []statusRow, allNamespaces bool, now time.Time) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "No workload is selected by a ProbePolicy here.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "POLICY\tWORKLOAD\tCONTAINER\tSTATE\tRESTARTS (1H)\tFLAPS/H\tPROBES (CURRENT -> RECOMMENDED)\tLAST DECISION\tWHEN"
	if allNamespaces {
		head = "NAMESPACE\t" + head
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", r.Policy, r.Workload, orDash(r.Container), orDash(r.State),
			restartsText(r.Restarts), orDash(r.Flapping), currentText(r), orDash(r.LastDecision), ago(r.LastDecisionTime, now))
		if allNamespaces {
			line = r.Namespace + "\t" + line
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

func currentText(r statusRow) string {
	if r.Current == nil {
		return "-"
	}
	return probesText(*r.Current, r.Recommended)
}

func renderStatusJSON(w io.Writer, rows []statusRow) error {
	if rows == nil {
		rows = []statusRow{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Workloads []statusRow `json:"workloads"`
	}{rows})
}

// runStatus is `kubectl probetuner status [-n NS] [-A] [-o text|json]`.
func runStatus(args []string, stdout, stderr io.Writer) int {
	var cf clusterFlags
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf.register(fs)
	all := fs.Bool("A", false, "every namespace")
	fs.BoolVar(all, "all-namespaces", false, "the same as -A")
	out := fs.String("o", "text", "output `format`: text or json")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: kubectl probetuner status [-n NS | -A] [-o text|json]\n\n"+
			"One line per container of every workload a ProbePolicy selects: its state, restarts by cause in the last hour,\n"+
			"readiness flapping, current -> recommended probes, and the last decision. Read from the policies' status.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kubectl-probetuner status: unexpected arguments %s\n", strings.Join(fs.Args(), " "))
		return exitUsage
	}
	if *out != "text" && *out != "json" {
		fmt.Fprintf(stderr, "kubectl-probetuner status: unknown output format %q: want text or json\n", *out)
		return exitUsage
	}
	cl, ns, err := cf.connect()
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-probetuner status: %v\n", err)
		return exitUsage
	}
	ctx := context.Background()
	var opts []client.ListOption
	if !*all {
		opts = append(opts, client.InNamespace(ns))
	}
	var list tuningv1alpha1.ProbePolicyList
	if err := cl.List(ctx, &list, opts...); err != nil {
		fmt.Fprintf(stderr, "kubectl-probetuner status: listing ProbePolicies: %v\n", listHint(err))
		return exitFailed
	}
	lastChange := map[string]*apply.LastChange{}
	for _, p := range list.Items {
		for _, w := range p.Status.Workloads {
			if lastDecision(p.Status.Decisions, w.Name, "") != nil {
				continue
			}
			var d appsv1.Deployment
			if err := cl.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: w.Name}, &d); err == nil {
				if lc, err := readLastChange(&d); err == nil && lc != nil {
					lastChange[p.Namespace+"/"+w.Name] = lc
				}
			}
		}
	}
	rows := statusRows(list.Items, lastChange)
	if *out == "json" {
		err = renderStatusJSON(stdout, rows)
	} else {
		err = renderStatusText(stdout, rows, *all, time.Now())
	}
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-probetuner status: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// listHint says what a failed list of ProbePolicies most likely means.
func listHint(err error) error {
	if apierrors.IsNotFound(err) || strings.Contains(err.Error(), "no matches for kind") {
		return fmt.Errorf("%w (is probe-tuner's CRD installed? kubectl get crd probepolicies.tuning.probetuner.io)", err)
	}
	return err
}

// readLastChange reads a Deployment's probetuner.io/last-change record; nil without one.
func readLastChange(d *appsv1.Deployment) (*apply.LastChange, error) {
	raw := d.Annotations[apply.AnnotationLastChange]
	if raw == "" {
		return nil, nil
	}
	if len(raw) > 64<<10 {
		return nil, fmt.Errorf("%s is %d bytes, too large to be probe-tuner's", apply.AnnotationLastChange, len(raw))
	}
	var lc apply.LastChange
	if err := json.Unmarshal([]byte(raw), &lc); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %w", apply.AnnotationLastChange, err)
	}
	return &lc, nil
}
