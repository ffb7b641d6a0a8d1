package recommend

import (
	"reflect"
	"strings"
	"testing"
	"time"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/policy"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// change is the expected part of a Change: which field goes from what to what, and why.
type change struct {
	probe    probes.Kind
	field    probes.Field
	from, to int32
	reason   string
}

func TestRecommend(t *testing.T) {
	defaultLiveness := makeProbe("/healthz").obj() // 10 s x 3, timeout 1: a 30 s window
	readiness := makeProbe("/ready").obj()
	noAdd := func(s *tuningv1alpha1.ProbePolicySpec) { s.Startup.AddWhenMissing = new(bool) }

	cases := []struct {
		name         string
		settings     policy.Settings
		container    Container
		blocked      []probes.Change
		frozen       []probes.FieldRef
		want         []change
		findings     []string   // finding reasons, in order
		severities   []Severity // when set, the findings' severities, in order
		messageLike  []string   // texts the findings' messages must contain
		messageNot   []string   // texts no finding's message may contain
		waitingLike  string
		evidenceLike string
	}{
		{
			// treeverse/charts#143: a 30 s+ start against the default 3 x 10 s liveness window crash-loops.
			name:         "30s start against a 3x10s liveness window gets a startup probe",
			settings:     settings(),
			container:    makeContainer("app").liveness(defaultLiveness).readiness(readiness).startsKilled(3, secs(30)).obj(),
			want:         []change{{probes.Startup, probes.WholeProbe, 0, 1, ReasonStartupKilled}},
			evidenceLike: "3 of 3 recent starts were killed before they completed, too many for the p99 to be among the 0 that completed; the longest killed start ran 30s against a startup budget of 30s",
		},
		{
			name:      "adding a startup probe drops the liveness initial delay it gates",
			settings:  settings(),
			container: makeContainer("app").liveness(makeProbe("/healthz").delay(10).obj()).startsKilled(4, secs(40)).obj(),
			want: []change{
				{probes.Startup, probes.WholeProbe, 0, 1, ReasonStartupKilled},
				{probes.Liveness, "initialDelaySeconds", 10, 0, ReasonLivenessGated},
			},
		},
		{
			// apache/camel-k#2173: without startup probes, the initial delay is the lever.
			name:      "when adding startup probes is disabled the liveness initial delay grows to the budget bound",
			settings:  settings(noAdd),
			container: makeContainer("app").liveness(defaultLiveness).startsKilled(3, secs(30)).obj(),
			want:      []change{{probes.Liveness, "initialDelaySeconds", 0, 570, ReasonStartupKilled}},
		},
		{
			name:      "an existing startup probe that kills every start grows to the budget bound in one change",
			settings:  settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(6).obj()).liveness(defaultLiveness).startsKilled(3, secs(30)).obj(),
			want:      []change{{probes.Startup, "failureThreshold", 6, 120, ReasonStartupKilled}},
		},
		{
			// A restarted container keeps its pod's probe ticker: 2 x 10s after 8s kills anywhere from 18 to 28s.
			name:     "starts killed a period before the budget were killed by it",
			settings: settings(),
			container: makeContainer("app").liveness(makeProbe("/healthz").delay(8).failure(2).obj()).readiness(readiness).
				startsCompleted(secs(9), secs(11)).startsKilled(3, secs(19)).obj(),
			want: []change{
				{probes.Startup, probes.WholeProbe, 0, 1, ReasonStartupKilled},
				{probes.Liveness, "initialDelaySeconds", 8, 0, ReasonLivenessGated},
			},
		},
		{
			name:     "starts killed under an older, shorter budget do not grow the current one",
			settings: settings(),
			container: makeContainer("app").liveness(makeProbe("/healthz").delay(8).failure(2).obj()).readiness(readiness).
				startsCompleted(secs(9), secs(11)).startsKilled(3, secs(12)).obj(),
			waitingLike: "0 starts killed at about the current budget of 28s (after 17s or more), 3 needed",
		},
		{
			name:        "two killed starts are not enough evidence with minSamples 3",
			settings:    settings(),
			container:   makeContainer("app").liveness(defaultLiveness).startsKilled(2, secs(30)).obj(),
			waitingLike: "0 completed and 2 killed starts observed recently, 3 needed",
		},
		{
			name:     "minSamples 1 acts on the first killed start",
			settings: settings(func(s *tuningv1alpha1.ProbePolicySpec) { s.Pacing.MinSamples = 1 }),
			container: makeContainer("app").startup(makeProbe("/healthz").period(10).failure(3).obj()).liveness(defaultLiveness).
				startsKilled(1, secs(30)).obj(),
			want: []change{{probes.Startup, "failureThreshold", 3, 60, ReasonStartupKilled}},
		},
		{
			name:     "growth stops at the policy's budget bound and says so",
			settings: settings(func(s *tuningv1alpha1.ProbePolicySpec) { s.Startup.MaxBudgetSeconds = 40 }),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(6).obj()).liveness(defaultLiveness).
				startsKilled(3, secs(30)).obj(),
			want:     []change{{probes.Startup, "failureThreshold", 6, 8, ReasonStartupKilled}},
			findings: []string{ReasonNeedsMoreThanBound},
		},
		{
			// FairwindsOps/charts#1519: slow starts with thousands of objects; a startup probe sized from data.
			name:     "completed starts above the budget raise it to p99 x margin, with room for twice the longest start",
			settings: settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(12).obj()).liveness(defaultLiveness).
				startsCompleted(repeat(secs(50), 200)...).startsKilled(1, secs(60)).obj(),
			want: []change{{probes.Startup, "failureThreshold", 12, 20, ReasonStartupBelowTarget}},
		},
		{
			name:     "a percentile above the budget without a start killed there is not worth a rollout yet",
			settings: settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(12).obj()).liveness(defaultLiveness).
				startsCompleted(repeat(secs(50), 10)...).obj(),
		},
		{
			// gardener/gardener#3721, devantler-tech/platform#1850: CPU throttling gives a heavy tail.
			name:     "a heavy tail of starts is covered in one change",
			settings: settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(10).failure(6).obj()).liveness(defaultLiveness).
				startsCompleted(append(repeat(secs(20), 20), secs(80), secs(85))...).startsKilled(1, secs(60)).obj(),
			want: []change{{probes.Startup, "failureThreshold", 6, 17, ReasonStartupBelowTarget}},
		},
		{
			name:     "a 300s startup budget for a 5s start is tightened in one change to twice the longest start",
			settings: settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(60).obj()).liveness(defaultLiveness).
				startsCompleted(repeat(secs(5), 10)...).obj(),
			want: []change{{probes.Startup, "failureThreshold", 60, 2, ReasonStartupTooLoose}},
		},
		{
			name:     "a policy's maxStepPercent of 50 halves a loose startup budget at most",
			settings: settings(func(s *tuningv1alpha1.ProbePolicySpec) { s.Pacing.MaxStepPercent = 50 }),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(60).obj()).liveness(defaultLiveness).
				startsCompleted(repeat(secs(5), 10)...).obj(),
			want: []change{{probes.Startup, "failureThreshold", 60, 30, ReasonStartupTooLoose}},
		},
		{
			name:     "a loose startup budget is not tightened while a start is still in progress",
			settings: settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(60).obj()).liveness(defaultLiveness).
				startsCompleted(repeat(secs(5), 10)...).notReady("p-1", secs(40), false).obj(),
		},
		{
			name:     "a budget within twice the need is left alone (hysteresis)",
			settings: settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(12).obj()).liveness(defaultLiveness).
				startsCompleted(repeat(secs(20), 10)...).obj(),
		},
		{
			// Four starts of a 32-53 s start seen at 35-46 s: a p99 of 46 s puts the 145 s budget above twice
			// the need (138 s), but the slowest starts are rarely among so few.
			name:     "a budget looser than twice the need of a handful of starts is left alone: they do not show the slowest",
			settings: settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(29).obj()).liveness(defaultLiveness).
				startsCompleted(secs(35), secs(38), secs(44), secs(46)).obj(),
		},
		{
			name:     "the same budget is tightened once thirty starts of the same range show their end",
			settings: settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(29).obj()).liveness(defaultLiveness).
				startsCompleted(spread(35, 46, 30)...).obj(),
			want: []change{{probes.Startup, "failureThreshold", 29, 19, ReasonStartupTooLoose}},
		},
		{
			name:     "no tightening while starts are still being killed",
			settings: settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(60).obj()).liveness(defaultLiveness).
				startsCompleted(repeat(secs(5), 100)...).startsKilled(1, secs(300)).obj(),
		},
		{
			// modelplaneai/modelplane#206: a 1 s readiness timeout against ~1 s answers flaps.
			name:         "readiness flapping on timeouts raises timeout and failureThreshold",
			settings:     settings(),
			container:    makeContainer("app").liveness(defaultLiveness).readiness(readiness).flapping(30, 1, 0.95, 40).obj(),
			want:         []change{{probes.Readiness, "timeoutSeconds", 1, 2, ReasonReadinessFlapping}, {probes.Readiness, "failureThreshold", 3, 6, ReasonReadinessFlapping}},
			evidenceLike: "30 Ready/NotReady transitions in 1.00 in-service hours (30.0 per hour, tolerance 6)",
		},
		{
			name:      "readiness flapping on error answers raises only failureThreshold",
			settings:  settings(),
			container: makeContainer("app").readiness(readiness).flapping(20, 1, 0.1, 25).obj(),
			want:      []change{{probes.Readiness, "failureThreshold", 3, 6, ReasonReadinessFlapping}},
		},
		{
			name:      "readiness at its failureThreshold bound gains a successThreshold for hysteresis",
			settings:  settings(),
			container: makeContainer("app").readiness(makeProbe("/ready").failure(6).obj()).flapping(20, 1, 0, 25).obj(),
			want:      []change{{probes.Readiness, "successThreshold", 1, 2, ReasonReadinessFlapping}},
		},
		{
			name:      "readiness at every bound is reported, not changed",
			settings:  settings(),
			container: makeContainer("app").readiness(makeProbe("/ready").failure(6).success(3).timeout(5).obj()).flapping(20, 1, 0.9, 25).obj(),
			findings:  []string{"ReadinessAtBounds"},
		},
		{
			name:      "transitions below the tolerance are normal",
			settings:  settings(),
			container: makeContainer("app").readiness(readiness).flapping(5, 1, 1, 5).obj(),
		},
		{
			name:        "flapping with too few transitions waits",
			settings:    settings(func(s *tuningv1alpha1.ProbePolicySpec) { s.Pacing.MinSamples = 10 }),
			container:   makeContainer("app").readiness(readiness).flapping(8, 0.5, 1, 8).obj(),
			waitingLike: "8 Ready/NotReady transitions observed, 10 needed",
		},
		{
			// gardener/gardener#15636: failureThreshold 1 with the implicit 1 s timeout restarts healthy pods.
			name:      "failureThreshold 1 with a 1s timeout is raised on transient liveness kills",
			settings:  settings(),
			container: makeContainer("app").liveness(makeProbe("/healthz").failure(1).obj()).livenessKills(12, 12, 1).obj(),
			want:      []change{{probes.Liveness, "timeoutSeconds", 1, 2, ReasonLivenessTransient}, {probes.Liveness, "failureThreshold", 1, 2, ReasonLivenessTransient}},
		},
		{
			name:      "rare transient blips that recovered raise failureThreshold",
			settings:  settings(),
			container: makeContainer("app").liveness(defaultLiveness).livenessKills(3, 220, 0).nearMisses(150, 200, 1000).obj(),
			want:      []change{{probes.Liveness, "failureThreshold", 3, 6, ReasonLivenessTransient}},
		},
		{
			name:     "liveness failureThreshold is capped by the maximum time to detect a hang",
			settings: settings(func(s *tuningv1alpha1.ProbePolicySpec) { s.Liveness.MaxTimeToDetectSeconds = 41 }),
			container: makeContainer("app").liveness(makeProbe("/healthz").failure(2).obj()).
				livenessKills(3, 106, 0).nearMisses(100, 100, 500).obj(),
			want: []change{{probes.Liveness, "failureThreshold", 2, 4, ReasonLivenessTransient}},
		},
		{
			// A hang after hours (plus a few isolated slow answers): a run of 3 failures by chance is about
			// impossible, so the kills are hangs. Leave it.
			name:      "kills that look like hangs are not tuned away",
			settings:  settings(),
			container: makeContainer("app").liveness(defaultLiveness).livenessKills(4, 22, 1).nearMisses(10, 10, 8000).obj(),
			findings:  []string{"LivenessKillsLookLikeHangs"},
		},
		{
			// 360000 x 10 s: a hung container goes unnoticed for about 1000 hours. Advice only: nothing is changed.
			name:        "a liveness probe that needs 1000 hours to detect a hang is reported, not changed",
			settings:    settings(),
			container:   makeContainer("app").liveness(makeProbe("/healthz").failure(360000).obj()).readiness(readiness).obj(),
			findings:    []string{ReasonSlowHangDetection},
			severities:  []Severity{Info},
			messageLike: []string{"container app: its liveness probe takes up to 1000h0m1s to detect a hang (failureThreshold 360000 x periodSeconds 10s + timeoutSeconds 1s), above the policy's maxTimeToDetectSeconds of 120s. probe-tuner does not tighten liveness without evidence"},
		},
		{
			name:     "transient liveness kills on a probe already beyond the time-to-detect bound raise nothing, and the bound is reported",
			settings: settings(func(s *tuningv1alpha1.ProbePolicySpec) { s.Liveness.MaxTimeToDetectSeconds = 40 }),
			container: makeContainer("app").liveness(makeProbe("/healthz").failure(4).obj()).
				livenessKills(3, 220, 0).nearMisses(150, 200, 1000).obj(),
			findings:    []string{"LivenessAtBounds", ReasonSlowHangDetection},
			severities:  []Severity{Info, Info},
			messageLike: []string{"takes up to 41s to detect a hang", "maxTimeToDetectSeconds of 40s"},
		},
		{
			// An over-generous copy-paste: 30 x 10 s lets a deadlocked container serve errors for five minutes.
			name:     "an over-generous liveness probe watched long is tightened to the tightest window its failure runs show safe",
			settings: settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(6).obj()).liveness(makeProbe("/healthz").failure(30).obj()).
				readiness(readiness).startsCompleted(repeat(secs(5), 6)...).nearMisses(4, 5, 20000).obj(),
			want: []change{{probes.Liveness, "failureThreshold", 30, 4, ReasonLivenessTightened}},
		},
		{
			// 300 probes without a failure: a run is assumed to go on with even odds, so only 11 failures are safe.
			name:     "an over-generous liveness probe watched briefly is tightened only as far as the short watch shows safe",
			settings: settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(6).obj()).liveness(makeProbe("/healthz").failure(30).obj()).
				readiness(readiness).startsCompleted(repeat(secs(5), 6)...).nearMisses(0, 0, 300).obj(),
			want: []change{{probes.Liveness, "failureThreshold", 30, 11, ReasonLivenessTightened}},
		},
		{
			// 30 x 60 s: half an hour to notice a deadlock. The policy's bound of 180 s leaves room for 2 failures
			// at this period; no failure was seen in three hours, so the bound is honoured with 3 failures 59 s
			// apart rather than 2 failures 60 s apart.
			name:     "a probe far beyond the time-to-detect bound is brought within it when no failure run was seen",
			settings: settings(func(s *tuningv1alpha1.ProbePolicySpec) { s.Liveness.MaxTimeToDetectSeconds = 180 }),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(6).obj()).liveness(makeProbe("/healthz").period(60).failure(30).obj()).
				readiness(readiness).startsCompleted(repeat(secs(8), 3)...).nearMisses(0, 0, 180).obj(),
			want: []change{{probes.Liveness, "periodSeconds", 60, 59, ReasonLivenessTightened}, {probes.Liveness, "failureThreshold", 30, 3, ReasonLivenessTightened}},
		},
		{
			// 20 x 30 s against a bound of 60 s: failureThreshold alone would reach it only at 1, a restart on a
			// single slow answer; 3 failures 19 s apart detect a hang within 58 s.
			name:     "a bound that leaves room for fewer than 3 failures at the probe's period shortens the period",
			settings: settings(func(s *tuningv1alpha1.ProbePolicySpec) { s.Liveness.MaxTimeToDetectSeconds = 60 }),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(6).obj()).liveness(makeProbe("/healthz").period(30).failure(20).obj()).
				readiness(readiness).startsCompleted(repeat(secs(8), 3)...).nearMisses(0, 0, 1000).obj(),
			want:         []change{{probes.Liveness, "periodSeconds", 30, 19, ReasonLivenessTightened}, {probes.Liveness, "failureThreshold", 20, 3, ReasonLivenessTightened}},
			evidenceLike: "periodSeconds 30 -> 19 and failureThreshold 20 -> 3 detect a hang within 58s",
		},
		{
			// Even a window at the bound must not restart healthy containers more often than accepted: the runs
			// seen at 30 s (one in 10 probes, each going on with odds of about 1 in 2) would kill far too often.
			name:     "a shorter period is not taken when the failures seen say its window is unsafe",
			settings: settings(func(s *tuningv1alpha1.ProbePolicySpec) { s.Liveness.MaxTimeToDetectSeconds = 60 }),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(6).obj()).liveness(makeProbe("/healthz").period(30).failure(20).obj()).
				readiness(readiness).startsCompleted(repeat(secs(8), 3)...).nearMisses(100, 200, 1000).obj(),
			findings: []string{ReasonSlowHangDetection},
		},
		{
			// maxStepPercent 40 lets the period fall from 60 s to 36 s at most, not to the 30 s that 2 failures
			// need within 61 s: failureThreshold alone is tightened, as far as the bound asks.
			name: "a period the pacing does not let fall far enough in one step is left, and failureThreshold alone is tightened",
			settings: settings(func(s *tuningv1alpha1.ProbePolicySpec) {
				s.Liveness.MaxTimeToDetectSeconds = 61
				s.Pacing.MaxStepPercent = 40
			}),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(6).obj()).liveness(makeProbe("/healthz").period(60).failure(2).obj()).
				readiness(readiness).startsCompleted(repeat(secs(8), 3)...).nearMisses(0, 0, 1000).obj(),
			want: []change{{probes.Liveness, "failureThreshold", 2, 1, ReasonLivenessTightened}},
		},
		{
			name:     "a period that would fall below 5 s is not taken",
			settings: settings(func(s *tuningv1alpha1.ProbePolicySpec) { s.Liveness.MaxTimeToDetectSeconds = 14 }),
			container: makeContainer("app").startup(makeProbe("/healthz").period(2).failure(7).obj()).liveness(makeProbe("/healthz").period(10).failure(6).obj()).
				readiness(readiness).startsCompleted(repeat(secs(8), 3)...).nearMisses(0, 0, 1000).obj(),
			want: []change{{probes.Liveness, "failureThreshold", 6, 1, ReasonLivenessTightened}},
		},
		{
			name:     "a period frozen by a hand edit leaves failureThreshold to its own path",
			settings: settings(func(s *tuningv1alpha1.ProbePolicySpec) { s.Liveness.MaxTimeToDetectSeconds = 60 }),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(6).obj()).liveness(makeProbe("/healthz").period(30).failure(20).obj()).
				readiness(readiness).startsCompleted(repeat(secs(8), 3)...).nearMisses(0, 0, 1000).obj(),
			frozen: []probes.FieldRef{{Container: "app", Probe: probes.Liveness, Field: probes.PeriodSeconds}},
			want:   []change{{probes.Liveness, "failureThreshold", 20, 1, ReasonLivenessTightened}},
		},
		{
			name:     "an over-generous liveness probe whose failures come in long runs is reported, not tightened",
			settings: settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(6).obj()).liveness(makeProbe("/healthz").failure(30).obj()).
				readiness(readiness).startsCompleted(repeat(secs(5), 6)...).nearMisses(40, 400, 20000).obj(),
			findings:    []string{ReasonSlowHangDetection},
			messageLike: []string{"a failureThreshold of 11 would bring it within the bound", "per replica-week"},
		},
		{
			name:     "a short watch cannot make a tight window look safe",
			settings: settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(6).obj()).liveness(makeProbe("/healthz").failure(30).obj()).
				readiness(readiness).startsCompleted(repeat(secs(5), 6)...).nearMisses(0, 0, 20).obj(),
			findings: []string{ReasonSlowHangDetection},
		},
		{
			name:      "without a startup probe or a measured start the liveness window is not tightened: it is also the startup budget",
			settings:  settings(),
			container: makeContainer("app").liveness(makeProbe("/healthz").failure(30).obj()).nearMisses(0, 0, 20000).obj(),
			findings:  []string{ReasonSlowHangDetection},
		},
		{
			name:      "a liveness probe exactly at the maximum time to detect is normal",
			settings:  settings(func(s *tuningv1alpha1.ProbePolicySpec) { s.Liveness.MaxTimeToDetectSeconds = 31 }),
			container: makeContainer("app").liveness(defaultLiveness).readiness(readiness).obj(),
		},
		{
			name:        "a liveness probe one second over the maximum time to detect is reported",
			settings:    settings(func(s *tuningv1alpha1.ProbePolicySpec) { s.Liveness.MaxTimeToDetectSeconds = 30 }),
			container:   makeContainer("app").liveness(defaultLiveness).readiness(readiness).obj(),
			findings:    []string{ReasonSlowHangDetection},
			severities:  []Severity{Info},
			messageLike: []string{"takes up to 31s to detect a hang", "maxTimeToDetectSeconds of 30s"},
		},
		{
			// kubernetes/kubernetes#66230: a liveness failure on every pod at once.
			name:      "correlated liveness kills across replicas block tuning and warn",
			settings:  settings(),
			container: makeContainer("app").liveness(defaultLiveness).readiness(readiness).livenessKills(6, 30, 0).correlated(3).startsKilled(3, secs(30)).flapping(30, 1, 1, 30).obj(),
			findings:  []string{ReasonCorrelatedLiveness},
		},
		{
			name:      "a kill of one replica out of four is not correlation",
			settings:  settings(),
			container: makeContainer("app").replicas(4).liveness(defaultLiveness).livenessKills(3, 220, 0).nearMisses(150, 200, 1000).correlated(1).obj(),
			want:      []change{{probes.Liveness, "failureThreshold", 3, 6, ReasonLivenessTransient}},
		},
		{
			// The cache that never loads, behind a readiness-only probe: latent capacity loss.
			name:      "a start that never completes behind a readiness-only probe is reported as stuck",
			settings:  settings(),
			container: makeContainer("app").readiness(readiness).notReady("cache-1", 11*time.Minute, false).notReady("cache-2", 30*time.Second, false).obj(),
			findings:  []string{ReasonStuckNotReady},
		},
		{
			// The endpoint passes, but 1000 passing probes in a row 10 s apart take hours: the probe is the cause.
			name:      "pods stuck behind a readiness successThreshold of 1000 are told the threshold is the cause, not a failing endpoint",
			settings:  settings(),
			container: makeContainer("app").liveness(defaultLiveness).readiness(makeProbe("/ready").success(1000).obj()).notReady("web-1", 3*time.Hour, false).obj(),
			findings:  []string{ReasonStuckNotReady},
			messageLike: []string{
				"with successThreshold 1000 x periodSeconds 10s, a pod cannot become ready until about 2h46m30s after it starts, even if every probe passes. Lower successThreshold",
			},
			messageNot: []string{"readiness fails"},
		},
		{
			name:     "with a readiness successThreshold of 1000 and reported failures, Ready may never be reached",
			settings: settings(),
			container: makeContainer("app").readiness(makeProbe("/ready").success(1000).obj()).readinessFailures(40).
				notReady("cache-1", 3*time.Hour, false).obj(),
			findings: []string{ReasonStuckNotReady},
			messageLike: []string{
				"successThreshold 1000 x periodSeconds 10s",
				"readiness failures were reported too, and each one starts the count of 1000 successes again, so Ready may never be reached",
			},
			messageNot: []string{"readiness fails", "nothing will ever restart them"},
		},
		{
			// Starts complete in 20 s (to started, behind a startup probe), but readiness needs 5 passes 60 s apart.
			name:     "a readiness successThreshold x periodSeconds far beyond the observed starts is named as the cause",
			settings: settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(12).obj()).liveness(defaultLiveness).
				readiness(makeProbe("/ready").period(60).success(5).obj()).startsCompleted(repeat(secs(20), 10)...).notReady("web-1", 5*time.Minute, false).obj(),
			findings:    []string{ReasonStuckNotReady},
			messageLike: []string{"with successThreshold 5 x periodSeconds 60s, a pod cannot become ready until about 4m0s after it starts"},
			messageNot:  []string{"readiness fails"},
		},
		{
			name:        "a readiness initialDelaySeconds of two hours is named as the cause",
			settings:    settings(),
			container:   makeContainer("app").liveness(defaultLiveness).readiness(makeProbe("/ready").delay(7200).obj()).notReady("web-1", time.Hour, false).obj(),
			findings:    []string{ReasonStuckNotReady},
			messageLike: []string{"with initialDelaySeconds 7200, a pod cannot become ready until about 2h0m0s after it starts, even if every probe passes. Lower initialDelaySeconds"},
			messageNot:  []string{"readiness fails"},
		},
		{
			name:     "pods stuck behind an ordinary readiness probe that fails are still told readiness fails",
			settings: settings(),
			container: makeContainer("app").liveness(defaultLiveness).readiness(makeProbe("/ready").success(3).obj()).readinessFailures(200).
				notReady("web-1", 20*time.Minute, false).obj(),
			findings:    []string{ReasonStuckNotReady},
			messageLike: []string{"Their liveness probe passes while readiness fails"},
			messageNot:  []string{"cannot become ready until"},
		},
		{
			name:      "a pod not ready for less than three normal starts is not stuck",
			settings:  settings(),
			container: makeContainer("app").readiness(readiness).startsCompleted(repeat(secs(40), 5)...).notReady("web-1", 100*time.Second, false).obj(),
		},
		{
			name:      "a container with no probes is reported, never given any",
			settings:  settings(),
			container: makeContainer("app").restarts(observe.CauseError, 2).obj(),
			findings:  []string{ReasonNoProbes},
		},
		{
			name:      "identical liveness and readiness probes warn and block liveness tuning",
			settings:  settings(),
			container: makeContainer("app").liveness(makeProbe("/health").obj()).readiness(makeProbe("/health").obj()).livenessKills(5, 30, 0).obj(),
			findings:  []string{ReasonIdenticalProbes},
		},
		{
			name:      "OOM kills are not a probe problem",
			settings:  settings(),
			container: makeContainer("app").liveness(defaultLiveness).readiness(readiness).restarts(observe.CauseOOM, 5).obj(),
			findings:  []string{ReasonNotAProbeProblem},
		},
		{
			name:      "application crashes are not a probe problem",
			settings:  settings(),
			container: makeContainer("app").liveness(defaultLiveness).readiness(readiness).restarts(observe.CauseError, 7).obj(),
			findings:  []string{ReasonNotAProbeProblem},
		},
		{
			name:     "a well-tuned service is left alone",
			settings: settings(),
			container: makeContainer("app").startup(makeProbe("/healthz").period(5).failure(12).obj()).liveness(defaultLiveness).readiness(readiness).
				startsCompleted(repeat(secs(20), 30)...).flapping(2, 10, 0, 3).obj(),
		},
		{
			name:        "a change reverted before is not retried",
			settings:    settings(),
			container:   makeContainer("app").readiness(readiness).flapping(20, 1, 0.1, 25).obj(),
			blocked:     []probes.Change{{Container: "app", Probe: probes.Readiness, Field: "failureThreshold", To: 6}},
			waitingLike: "was reverted before and is not retried",
		},
		{
			name:        "a field a person set by hand after probe-tuner changed it is left alone",
			settings:    settings(),
			container:   makeContainer("app").readiness(readiness).flapping(20, 1, 0.9, 25).obj(),
			frozen:      []probes.FieldRef{{Container: "app", Probe: probes.Readiness, Field: "failureThreshold"}},
			want:        []change{{probes.Readiness, "timeoutSeconds", 1, 2, ReasonReadinessFlapping}},
			waitingLike: "set by hand",
		},
		{
			name:      "containers the policy does not select are not looked at",
			settings:  settings(func(s *tuningv1alpha1.ProbePolicySpec) { s.Containers = []string{"sidecar"} }),
			container: makeContainer("app").liveness(defaultLiveness).startsKilled(5, secs(30)).obj(),
		},
		{
			name:      "the policy's minimum failureThreshold applies to a raise",
			settings:  settings(func(s *tuningv1alpha1.ProbePolicySpec) { s.Readiness.MinFailureThreshold = 5 }),
			container: makeContainer("app").readiness(makeProbe("/ready").failure(2).obj()).flapping(20, 1, 0, 25).obj(),
			want:      []change{{probes.Readiness, "failureThreshold", 2, 5, ReasonReadinessFlapping}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := Recommend(Input{Settings: tc.settings, Containers: []Container{tc.container}, Blocked: tc.blocked, Frozen: tc.frozen})
			var got []change
			for _, c := range plan.Changes {
				got = append(got, change{c.Probe, c.Field, c.From, c.To, c.Reason})
			}
			if len(got) != len(tc.want) {
				t.Fatalf("changes = %+v\nwant %+v\nfindings %+v\nwaiting %v", got, tc.want, plan.Findings, plan.Waiting)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("change %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
			var reasons []string
			for _, f := range plan.Findings {
				reasons = append(reasons, f.Reason)
			}
			if strings.Join(reasons, ",") != strings.Join(tc.findings, ",") {
				t.Errorf("findings = %v, want %v (%+v)", reasons, tc.findings, plan.Findings)
			}
			if tc.severities != nil {
				var sevs []Severity
				for _, f := range plan.Findings {
					sevs = append(sevs, f.Severity)
				}
				if !reflect.DeepEqual(sevs, tc.severities) {
					t.Errorf("finding severities = %v, want %v", sevs, tc.severities)
				}
			}
			var messages []string
			for _, f := range plan.Findings {
				messages = append(messages, f.Message)
			}
			all := strings.Join(messages, "\n")
			for _, like := range tc.messageLike {
				if !strings.Contains(all, like) {
					t.Errorf("findings' messages lack %q:\n%s", like, all)
				}
			}
			for _, not := range tc.messageNot {
				if strings.Contains(all, not) {
					t.Errorf("findings' messages contain %q:\n%s", not, all)
				}
			}
			if tc.waitingLike != "" && !strings.Contains(strings.Join(plan.Waiting, "\n"), tc.waitingLike) {
				t.Errorf("waiting = %q, want a line containing %q", plan.Waiting, tc.waitingLike)
			}
			if tc.evidenceLike != "" && (len(plan.Changes) == 0 || !strings.Contains(plan.Changes[0].Evidence, tc.evidenceLike)) {
				t.Errorf("evidence of the first change lacks %q: %+v", tc.evidenceLike, plan.Changes)
			}
			for name, set := range plan.Probes {
				for _, k := range probes.Kinds {
					if err := probes.Validate(set.Get(k), k); err != nil {
						t.Errorf("container %s: invalid %s probe: %v", name, k, err)
					}
				}
			}
		})
	}
}
