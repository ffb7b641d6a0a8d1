package main

import (
	"encoding/json"
	"io"
	"path/filepath"
	"strings"

	"github.com/probetuner/probe-tuner/internal/audit"
)

// The SARIF 2.1.0 log: only the parts the audit fills in.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	// docsURL is where each check's section lives: docsURL#pt001.
	docsURL = "https://github.com/probetuner/probe-tuner/blob/main/docs/audit.md"
	toolURL = "https://github.com/probetuner/probe-tuner"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	Name                 string             `json:"name"`
	ShortDescription     sarifText          `json:"shortDescription"`
	HelpURI              string             `json:"helpUri"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysicalLocation  `json:"physicalLocation"`
	LogicalLocations []sarifLogicalLocation `json:"logicalLocations"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
}

type sarifArtifactLocation struct {
	URI string `json:"uri"`
}

type sarifLogicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// sarifLevel maps a severity to a SARIF level: info is a note.
func sarifLevel(s audit.Severity) string {
	if s == audit.Info {
		return "note"
	}
	return string(s)
}

// renderSARIF writes one run with every check as a rule and one result per finding, located in its file and,
// logically, in its namespace, workload and container.
func renderSARIF(w io.Writer, findings []audit.Finding, _ int) error {
	run := sarifRun{Tool: sarifTool{Driver: sarifDriver{Name: "kubectl-probetuner", InformationURI: toolURL}}, Results: []sarifResult{}}
	index := map[string]int{}
	for i, c := range audit.Checks {
		index[c.ID] = i
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: c.ID, Name: c.Name, ShortDescription: sarifText{c.Title},
			HelpURI: docsURL + "#" + strings.ToLower(c.ID), DefaultConfiguration: sarifConfiguration{sarifLevel(c.Severity)}})
	}
	for _, f := range findings {
		run.Results = append(run.Results, sarifResult{RuleID: f.ID, RuleIndex: index[f.ID], Level: sarifLevel(f.Severity),
			Message: sarifText{f.Message}, Locations: []sarifLocation{location(f)}})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

// location places a finding: the file (a relative URI; "stdin" for the standard input), and the namespace,
// workload and container as logical locations, each named by its path from the namespace.
func location(f audit.Finding) sarifLocation {
	uri := filepath.ToSlash(f.Source)
	if f.Source == stdinSource {
		uri = "stdin"
	}
	ns := f.Namespace
	if ns == "" {
		ns = "default"
	}
	workload := ns + "/" + f.Kind + "/" + f.Name
	return sarifLocation{
		PhysicalLocation: sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: uri}},
		LogicalLocations: []sarifLogicalLocation{
			{Name: ns, FullyQualifiedName: ns, Kind: "namespace"},
			{Name: f.Name, FullyQualifiedName: workload, Kind: "type"},
			{Name: f.Container, FullyQualifiedName: workload + "/" + f.Container, Kind: "member"},
		},
	}
}
