package audit

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// corpus is the expected check IDs of each manifest in test/audit: an anti-pattern file yields exactly its
// IDs (in order), a clean one none.
var corpus = map[string][]string{
	"pt001-no-probes.yaml":                          {ProbesMissing},
	"pt001-statefulset-no-probes.yaml":              {ProbesMissing},
	"pt001-pt006-multi-document.yaml":               {IdenticalProbes, ProbesMissing},
	"pt002-readiness-only.yaml":                     {NoLiveness},
	"pt002-sidecar-readiness-only.yaml":             {NoLiveness},
	"pt003-liveness-only.yaml":                      {NoReadiness},
	"pt004-named-port-missing.yaml":                 {NamedPortMissing},
	"pt004-named-port-missing-startup.yaml":         {NamedPortMissing},
	"pt005-port-not-declared.yaml":                  {PortNotDeclared},
	"pt006-identical-liveness-readiness.yaml":       {IdenticalProbes},
	"pt006-identical-with-defaults.yaml":            {IdenticalProbes},
	"pt007-same-endpoint-different-timings.yaml":    {SameHandlerOtherTiming},
	"pt008-exec-shell-1s-timeout.yaml":              {ShellExecShortTimeout},
	"pt008-exec-bash-default-timeout.yaml":          {ShellExecShortTimeout},
	"pt009-liveness-period-1s.yaml":                 {LivenessEverySecond},
	"pt010-readiness-timeout-at-period.yaml":        {ReadinessTimeoutPeriod},
	"pt011-liveness-delay-past-startup.yaml":        {LivenessDelayPastStart},
	"pt012-tcp-liveness-http-readiness.yaml":        {TCPLivenessOnHTTP},
	"pt012-tcp-liveness-named-http-port.yaml":       {TCPLivenessOnHTTP},
	"pt013-liveness-other-host.yaml":                {LivenessOtherHost},
	"pt013-tcp-liveness-other-host.yaml":            {LivenessOtherHost},
	"pt014-slow-hang-detection.yaml":                {SlowHangDetection},
	"pt014-daemonset-slow-hang-detection.yaml":      {SlowHangDetection},
	"pt015-invalid-liveness-success-threshold.yaml": {InvalidProbe},
	"pt015-readiness-two-handlers.yaml":             {InvalidProbe},
	"pt015-init-container-with-probe.yaml":          {InvalidProbe},
	"clean-deployment.yaml":                         nil,
	"clean-statefulset.yaml":                        nil,
	"clean-daemonset.yaml":                          nil,
	"clean-native-sidecar-pod.yaml":                 nil,
	"clean-multi-document.yaml":                     nil,
	"clean-startup-gated-liveness.yaml":             nil,
	"clean-grpc-probes.yaml":                        nil,
	"clean-exec-probes.yaml":                        nil,
	"clean-hostnetwork-loopback.yaml":               nil,
	"clean-list.yaml":                               nil,
	"clean-unknown-kinds.yaml":                      nil,
}

const corpusDir = "../../test/audit"

// defaultOptions are the command's defaults: the ProbePolicy's maxTimeToDetectSeconds default of 120 s.
var defaultOptions = Options{MaxTimeToDetectSeconds: 120}

func TestCorpusYieldsExactlyTheExpectedChecks(t *testing.T) {
	for file, want := range corpus {
		t.Run(file, func(t *testing.T) {
			var got []string
			for _, f := range auditFile(t, filepath.Join(corpusDir, file)) {
				got = append(got, f.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("check IDs = %v, want %v", got, want)
			}
		})
	}
}

// TestCorpusIsComplete keeps the table and the directory in step, names each anti-pattern file after the
// checks it expects, and asks for a file per check.
func TestCorpusIsComplete(t *testing.T) {
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 30 {
		t.Errorf("the corpus has %d manifests, want at least 30", len(entries))
	}
	for _, e := range entries {
		if _, ok := corpus[e.Name()]; !ok {
			t.Errorf("%s is in %s but not in the corpus table", e.Name(), corpusDir)
		}
	}
	covered := map[string]bool{}
	for file, ids := range corpus {
		if strings.HasPrefix(file, "clean-") != (len(ids) == 0) {
			t.Errorf("%s: a clean file must expect no check and an anti-pattern file at least one", file)
		}
		for _, id := range ids {
			covered[id] = true
			if !strings.Contains(file, strings.ToLower(id)) {
				t.Errorf("%s expects %s but does not say so in its name", file, id)
			}
		}
	}
	for _, c := range Checks {
		if !covered[c.ID] {
			t.Errorf("no corpus file exercises %s (%s)", c.ID, c.Title)
		}
	}
}

func auditFile(t *testing.T, path string) []Finding {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ws, err := Decode(path, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) == 0 && !strings.Contains(path, "unknown-kinds") {
		t.Fatalf("%s holds no workload", path)
	}
	var out []Finding
	for _, w := range ws {
		out = append(out, Audit(w, defaultOptions)...)
	}
	return out
}
