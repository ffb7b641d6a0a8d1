package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/probetuner/probe-tuner/internal/audit"
)

// A renderer writes a report of the findings of an audit of that many workloads.
type renderer func(w io.Writer, findings []audit.Finding, workloads int) error

// renderers are the -o formats.
var renderers = map[string]renderer{
	"text":  renderText,
	"json":  renderJSON,
	"sarif": renderSARIF,
}

// renderText writes one line per finding, then a count.
func renderText(w io.Writer, findings []audit.Finding, workloads int) error {
	count := map[audit.Severity]int{}
	for _, f := range findings {
		count[f.Severity]++
		where := f.Kind + " " + f.Name
		if f.Namespace != "" {
			where = f.Kind + " " + f.Namespace + "/" + f.Name
		}
		subject := "container " + f.Container
		if f.Probe != "" {
			subject += " " + string(f.Probe) + " probe"
		}
		if _, err := fmt.Fprintf(w, "%s: %s %s: %s %s: %s\n", f.Source, where, subject, f.Severity, f.ID, f.Message); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%d finding(s) in %d workload(s): %d error, %d warning, %d info\n",
		len(findings), workloads, count[audit.Error], count[audit.Warning], count[audit.Info])
	return err
}

// jsonReport is the -o json document: {"findings": [...]}, an empty list when there is none.
type jsonReport struct {
	Findings []jsonFinding `json:"findings"`
}

// jsonFinding is one finding of the -o json document; the fields are a stable interface.
type jsonFinding struct {
	ID        string `json:"id"`
	Severity  string `json:"severity"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Container string `json:"container"`
	Probe     string `json:"probe"`
	Message   string `json:"message"`
}

func renderJSON(w io.Writer, findings []audit.Finding, _ int) error {
	report := jsonReport{Findings: []jsonFinding{}}
	for _, f := range findings {
		report.Findings = append(report.Findings, jsonFinding{ID: f.ID, Severity: string(f.Severity), Kind: f.Kind, Namespace: f.Namespace,
			Name: f.Name, Container: f.Container, Probe: string(f.Probe), Message: f.Message})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(report)
}
