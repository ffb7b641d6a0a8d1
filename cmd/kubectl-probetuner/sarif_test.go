package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/probetuner/probe-tuner/internal/audit"
)

// sarifSchemaFile is a hand-written subset of the SARIF 2.1.0 schema (see its description).
const sarifSchemaFile = "testdata/sarif-2.1.0-subset.schema.json"

func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(sarifSchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func sarifOfCorpus(t *testing.T) string {
	t.Helper()
	code, out, errOut := runCmd(t, "", "audit", "-f", corpus, "-o", "sarif")
	if code != exitFindings {
		t.Fatalf("exit code %d, want %d; stderr %s", code, exitFindings, errOut)
	}
	return out
}

func validate(sch *jsonschema.Schema, doc string) error {
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

func TestSARIFValidatesAgainstTheSchema(t *testing.T) {
	if err := validate(compileSARIFSchema(t), sarifOfCorpus(t)); err != nil {
		t.Errorf("the SARIF output is not valid: %v", err)
	}
}

// TestSARIFSchemaRejectsBrokenLogs shows the schema test can fail: each edit breaks a rule of SARIF 2.1.0.
func TestSARIFSchemaRejectsBrokenLogs(t *testing.T) {
	sch := compileSARIFSchema(t)
	good := sarifOfCorpus(t)
	broken := map[string]string{
		"a level SARIF does not have": strings.Replace(good, `"level": "note"`, `"level": "info"`, 1),
		"another version":             strings.Replace(good, `"version": "2.1.0"`, `"version": "2.0.0"`, 1),
		"a message without text":      strings.Replace(good, `"message": {`+"\n            \"text\"", `"message": {`+"\n            \"txt\"", 1),
		"a relative helpUri":          strings.Replace(good, `"helpUri": "https://github.com/probetuner/probe-tuner/blob/main/docs/audit.md#pt001"`, `"helpUri": "docs/audit.md#pt001"`, 1),
	}
	for name, doc := range broken {
		if doc == good {
			t.Errorf("%s: the edit did not apply", name)
			continue
		}
		if validate(sch, doc) == nil {
			t.Errorf("%s: the schema accepted it", name)
		}
	}
}

func TestSARIFRulesAndResults(t *testing.T) {
	var log sarifLog
	if err := json.Unmarshal([]byte(sarifOfCorpus(t)), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != len(audit.Checks) {
		t.Fatalf("%d rules, want one per check (%d)", len(run.Tool.Driver.Rules), len(audit.Checks))
	}
	for i, r := range run.Tool.Driver.Rules {
		c := audit.Checks[i]
		if r.ID != c.ID || r.HelpURI != docsURL+"#"+strings.ToLower(c.ID) || r.DefaultConfiguration.Level != sarifLevel(c.Severity) {
			t.Errorf("rule %d = %+v, want %s with its help URI and level %s", i, r, c.ID, sarifLevel(c.Severity))
		}
	}
	seen := map[string]bool{}
	for _, res := range run.Results {
		seen[res.RuleID] = true
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s points at rule %d", res.RuleID, res.RuleIndex)
		}
		loc := res.Locations[0]
		uri := loc.PhysicalLocation.ArtifactLocation.URI
		if !strings.HasPrefix(uri, "../../test/audit/pt0") {
			t.Errorf("result %s in %q, want a corpus anti-pattern file", res.RuleID, uri)
		}
		if _, err := os.Stat(uri); err != nil {
			t.Errorf("result %s: artifact %s: %v", res.RuleID, uri, err)
		}
		if len(loc.LogicalLocations) != 3 || loc.LogicalLocations[2].Kind != "member" {
			t.Errorf("result %s: logical locations %+v, want namespace, workload and container", res.RuleID, loc.LogicalLocations)
		}
	}
	for _, c := range audit.Checks {
		if !seen[c.ID] {
			t.Errorf("no result for %s over the whole corpus", c.ID)
		}
	}
}
