package bench

import (
	"time"

	"github.com/probetuner/probe-tuner/test/harness/sim"
)

// runRecord is what a run records for the per-scenario checks: every container exit, with whether it was a
// probe kill of a start that had not completed, and when each rollout was written.
type runRecord struct {
	exits    []exitRec
	rollouts []time.Time
}

// exitRec is one container exit of one pod.
type exitRec struct {
	pod, container string
	at             time.Time
	// startKill is true for a liveness or startup kill of an instance whose app had not completed its start.
	startKill bool
}

// exitRecords lists the exits of every pod the run created, pod by pod in creation order, each pod's in time
// order.
func exitRecords(pods []*podRec) []exitRec {
	var out []exitRec
	for _, p := range pods {
		for _, t := range p.ps.Stats().Terminations {
			probe := t.Cause == sim.CauseLiveness || t.Cause == sim.CauseStartup
			out = append(out, exitRec{pod: p.obj.Name, container: t.Container, at: t.FinishedAt, startKill: probe && !t.StartCompleted})
		}
	}
	return out
}
