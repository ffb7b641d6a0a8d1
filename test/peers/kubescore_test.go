//go:build peers

// Package peers runs the probe checks of other tools on test/audit's corpus beside probe-tuner's audit, and
// keeps the side-by-side table in the README true. KUBE_SCORE names the kube-score binary (make test-peers
// builds it from the Go module proxy).
package peers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/probetuner/probe-tuner/internal/audit"
)

const (
	corpusDir  = "../audit"
	readmePath = "../../README.md"
	tableBegin = "<!-- kube-score side by side: begin (make test-peers checks it) -->"
	tableEnd   = "<!-- kube-score side by side: end -->"
)

// kubeScoreProbeChecks are kube-score's checks about probes; its other checks (resources, images, PDBs...)
// are no part of the comparison.
var kubeScoreProbeChecks = []string{"pod-probes", "pod-probes-identical"}

// kubeScoreMeaning maps each probe comment of kube-score to the probe-tuner checks that report the same
// problem: kube-score looks at the pod as a whole, probe-tuner per container, so "missing a readinessProbe" is
// PT001 when the container has no probe at all and PT003 when it has liveness only. kube-score's identical
// check compares only the handler (path and port), so it also fires where probe-tuner says PT007.
var kubeScoreMeaning = map[string][]string{
	"Container is missing a readinessProbe":               {audit.ProbesMissing, audit.NoReadiness},
	"Container is missing a livenessProbe":                {audit.ProbesMissing, audit.NoLiveness},
	"Container has the same readiness and liveness probe": {audit.IdenticalProbes, audit.SameHandlerOtherTiming},
}

// kubeScoreDisagreements are kube-score findings probe-tuner does not share, each with the reason; the README
// prints them under the table. Key: manifest name, then kube-score's comment.
var kubeScoreDisagreements = map[[2]string]string{
	{"pt013-tcp-liveness-other-host.yaml", "Container has the same readiness and liveness probe"}: "kube-score compares TCP probes by port alone; " +
		"the liveness probe dials another host (10.0.0.12), so the two probes check different endpoints. " +
		"probe-tuner reports that liveness probe as PT013 (an error).",
}

var checkIDInName = regexp.MustCompile(`pt\d{3}`)

// TestKubeScoreSideBySide runs kube-score and probe-tuner's audit on every corpus manifest, each workload
// behind a Service (kube-score skips its probe checks for a pod no Service targets). It fails when kube-score
// finds a probe problem probe-tuner misses, when probe-tuner misses a manifest's anti-pattern or reports
// anything on a clean manifest, and when the README's table is not the one this run computes.
func TestKubeScoreSideBySide(t *testing.T) {
	bin := os.Getenv("KUBE_SCORE")
	if bin == "" {
		t.Fatal("KUBE_SCORE is not set: run make test-peers, which builds kube-score from the Go module proxy")
	}
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.yaml"))
	if err != nil || len(files) < 30 {
		t.Fatalf("corpus: %d manifests (%v), want at least 30", len(files), err)
	}
	var rows []manifestResult
	for _, file := range files {
		r := compareManifest(t, bin, file)
		rows = append(rows, r)
		for _, miss := range r.problems() {
			t.Errorf("%s: %s", r.name, miss)
		}
	}
	for key := range kubeScoreDisagreements {
		if !slices.ContainsFunc(rows, func(r manifestResult) bool { return r.kubeScoreSays(key[1]) && r.name == key[0] }) {
			t.Errorf("kube-score no longer says %q on %s: remove it from kubeScoreDisagreements", key[1], key[0])
		}
	}
	table := renderTable(rows)
	t.Logf("side by side (kube-score %s):\n%s", kubeScoreVersion, table)
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	if got := between(string(readme), tableBegin, tableEnd); got != table {
		t.Errorf("README's kube-score table is not this run's: replace what stands between\n%s\nand %s with\n%s\n(README has:\n%s)",
			tableBegin, tableEnd, table, got)
	}
}

// kubeScoreVersion is the version make test-peers builds; kube-score built with go install prints none.
const kubeScoreVersion = "v1.20.0"

// manifestResult is one corpus manifest seen by both tools.
type manifestResult struct {
	name string
	// want is the anti-patterns the manifest's name says it holds (none for a clean- manifest).
	want []string
	// probeTuner is the check IDs probe-tuner's audit reports, per workload key (kind/namespace/name).
	probeTuner map[string][]string
	// kubeScore is kube-score's failed probe comments, per workload key.
	kubeScore map[string][]string
	// kubeScoreSkipped names workloads for which kube-score skipped its probe checks.
	kubeScoreSkipped []string
}

// probeTunerCaught says whether the audit reports every anti-pattern the manifest's name gives, and nothing
// on a clean manifest.
func (r manifestResult) probeTunerCaught() bool {
	found := r.probeTunerIDs()
	if len(r.want) == 0 {
		return len(found) == 0
	}
	for _, id := range r.want {
		if !found[id] {
			return false
		}
	}
	return true
}

func (r manifestResult) probeTunerIDs() map[string]bool {
	found := map[string]bool{}
	for _, ids := range r.probeTuner {
		for _, id := range ids {
			found[id] = true
		}
	}
	return found
}

// problems lists what makes the comparison fail for this manifest.
func (r manifestResult) problems() []string {
	var out []string
	found := r.probeTunerIDs()
	for _, id := range r.want {
		if !found[id] {
			out = append(out, fmt.Sprintf("probe-tuner misses %s", id))
		}
	}
	if len(r.want) == 0 && len(found) > 0 {
		out = append(out, fmt.Sprintf("probe-tuner reports %v on a clean manifest", sortedKeys(found)))
	}
	for _, w := range r.kubeScoreSkipped {
		out = append(out, fmt.Sprintf("kube-score skipped its probe checks on %s: the generated Service does not select it", w))
	}
	for workload, comments := range r.kubeScore {
		for _, c := range comments {
			meaning, known := kubeScoreMeaning[c]
			if !known {
				out = append(out, fmt.Sprintf("kube-score says %q on %s, a comment this test does not know", c, workload))
				continue
			}
			if _, explained := kubeScoreDisagreements[[2]string{r.name, c}]; explained {
				continue
			}
			if !slices.ContainsFunc(r.probeTuner[workload], func(id string) bool { return slices.Contains(meaning, id) }) {
				out = append(out, fmt.Sprintf("kube-score says %q on %s; probe-tuner reports none of %v there", c, workload, meaning))
			}
		}
	}
	return out
}

// kubeScoreSays says whether kube-score made that comment on one of the manifest's workloads.
func (r manifestResult) kubeScoreSays(comment string) bool {
	for _, comments := range r.kubeScore {
		if slices.Contains(comments, comment) {
			return true
		}
	}
	return false
}

// kubeScoreCaught says whether one of kube-score's comments means one of the manifest's anti-patterns.
func (r manifestResult) kubeScoreCaught() bool {
	for _, comments := range r.kubeScore {
		for _, c := range comments {
			if slices.ContainsFunc(kubeScoreMeaning[c], func(id string) bool { return slices.Contains(r.want, id) }) {
				return true
			}
		}
	}
	return false
}

func compareManifest(t *testing.T, bin, file string) manifestResult {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r := manifestResult{
		name:       filepath.Base(file),
		probeTuner: map[string][]string{},
		kubeScore:  map[string][]string{},
	}
	for _, id := range checkIDInName.FindAllString(r.name, -1) {
		r.want = append(r.want, strings.ToUpper(id))
	}
	workloads, err := audit.Decode(file, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range workloads {
		key := w.Kind + "/" + w.Namespace + "/" + w.Name
		r.probeTuner[key] = nil
		for _, f := range audit.Audit(w, audit.Options{MaxTimeToDetectSeconds: 120}) {
			if !slices.Contains(r.probeTuner[key], f.ID) {
				r.probeTuner[key] = append(r.probeTuner[key], f.ID)
			}
		}
	}
	services := servicesFor(t, file, data)
	if len(services) == 0 {
		return r
	}
	svcFile := filepath.Join(t.TempDir(), "services.yaml")
	if err := os.WriteFile(svcFile, bytes.Join(services, []byte("---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	scored := runKubeScore(t, bin, file, svcFile)
	for _, obj := range scored {
		key, ok := workloadKey(obj.ObjectName)
		if !ok {
			continue
		}
		for _, c := range obj.Checks {
			if !slices.Contains(kubeScoreProbeChecks, c.Check.ID) {
				continue
			}
			if c.Skipped {
				r.kubeScoreSkipped = append(r.kubeScoreSkipped, key)
				continue
			}
			if c.Grade >= gradeAllOK {
				continue
			}
			for _, comment := range c.Comments {
				r.kubeScore[key] = append(r.kubeScore[key], comment.Summary)
			}
		}
	}
	return r
}

// gradeAllOK is kube-score's grade for a passed check (1 critical, 5 warning, 7 almost OK, 10 all OK).
const gradeAllOK = 10

type kubeScoreObject struct {
	ObjectName string `json:"object_name"`
	Checks     []struct {
		Check struct {
			ID string `json:"id"`
		} `json:"check"`
		Grade    int  `json:"grade"`
		Skipped  bool `json:"skipped"`
		Comments []struct {
			Summary string `json:"summary"`
		} `json:"comments"`
	} `json:"checks"`
}

func runKubeScore(t *testing.T, bin string, files ...string) []kubeScoreObject {
	t.Helper()
	args := append([]string{"score", "-o", "json"}, files...)
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	// kube-score exits 1 when a check is critical; anything else, or no JSON, is a failure of the run.
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("kube-score %v: %v: %s", args, err, stderr.String())
	}
	var objs []kubeScoreObject
	if err := json.Unmarshal(out, &objs); err != nil {
		t.Fatalf("kube-score %v: output is not its JSON (%v): %s %s", args, err, out, stderr.String())
	}
	return objs
}

// workloadKey turns kube-score's object name (Kind/group/version/namespace/name) into kind/namespace/name,
// false for the Services this test adds.
func workloadKey(objectName string) (string, bool) {
	parts := strings.Split(objectName, "/")
	if len(parts) < 4 || parts[0] == "Service" {
		return "", false
	}
	return parts[0] + "/" + parts[len(parts)-2] + "/" + parts[len(parts)-1], true
}

// object is what the test reads of a manifest object to put a Service in front of it.
type object struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
		} `json:"template"`
	} `json:"spec"`
	Items []json.RawMessage `json:"items"`
}

// servicesFor writes one Service per workload of the manifest, in its namespace, selecting its pods.
func servicesFor(t *testing.T, file string, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	var add func(raw []byte)
	add = func(raw []byte) {
		var o object
		if err := yaml.Unmarshal(raw, &o); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		labels := o.Spec.Template.Metadata.Labels
		switch o.Kind {
		case "List":
			for _, item := range o.Items {
				add(item)
			}
			return
		case "Pod":
			labels = o.Metadata.Labels
		case "Deployment", "StatefulSet", "DaemonSet":
		default:
			return
		}
		if len(labels) == 0 {
			t.Fatalf("%s: %s %s has no pod labels for a Service to select", file, o.Kind, o.Metadata.Name)
		}
		svc, err := yaml.Marshal(map[string]any{
			"apiVersion": "v1",
			"kind":       "Service",
			"metadata":   map[string]any{"name": o.Metadata.Name + "-svc", "namespace": o.Metadata.Namespace},
			"spec":       map[string]any{"selector": labels, "ports": []map[string]any{{"port": 80}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, svc)
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(bytes.TrimSpace(doc)) > 0 {
			add(doc)
		}
	}
}

// renderTable sums the manifests per anti-pattern (by the first check their name gives) and the clean ones.
func renderTable(rows []manifestResult) string {
	type sums struct{ manifests, probeTuner, kubeScore int }
	byCheck := map[string]*sums{}
	var clean sums
	for _, r := range rows {
		if len(r.want) == 0 {
			clean.manifests++
			if r.probeTunerCaught() {
				clean.probeTuner++
			}
			if len(r.kubeScore) == 0 {
				clean.kubeScore++
			}
			continue
		}
		for _, id := range r.want {
			s := byCheck[id]
			if s == nil {
				s = &sums{}
				byCheck[id] = s
			}
			s.manifests++
			if r.probeTunerCaught() {
				s.probeTuner++
			}
			if r.kubeScoreCaught() {
				s.kubeScore++
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| anti-pattern (probe-tuner check) | manifests | caught by probe-tuner | caught by kube-score %s |\n", kubeScoreVersion)
	b.WriteString("|---|---|---|---|\n")
	ids := make([]string, 0, len(byCheck))
	for id := range byCheck {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s := byCheck[id]
		fmt.Fprintf(&b, "| %s %s | %d | %d | %d |\n", id, checkName(id), s.manifests, s.probeTuner, s.kubeScore)
	}
	fmt.Fprintf(&b, "| clean (no finding expected) | %d | %d without a finding | %d without a finding |\n",
		clean.manifests, clean.probeTuner, clean.kubeScore)
	var disagreements []string
	for key, reason := range kubeScoreDisagreements {
		disagreements = append(disagreements, fmt.Sprintf("- kube-score on `%s`: %q. %s\n", key[0], key[1], reason))
	}
	sort.Strings(disagreements)
	if len(disagreements) > 0 {
		b.WriteString("\nWhere kube-score reports what the audit does not:\n\n")
		for _, d := range disagreements {
			b.WriteString(d)
		}
	}
	return b.String()
}

// checkName is the CamelCase name of a probe-tuner check.
func checkName(id string) string {
	for _, c := range audit.Checks {
		if c.ID == id {
			return c.Name
		}
	}
	return ""
}

func between(s, begin, end string) string {
	_, after, ok := strings.Cut(s, begin+"\n")
	if !ok {
		return ""
	}
	inside, _, _ := strings.Cut(after, end)
	return inside
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
