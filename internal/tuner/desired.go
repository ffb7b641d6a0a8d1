package tuner

import (
	"github.com/probetuner/probe-tuner/internal/probes"
)

// Desired returns, per container the action touches, the complete probes after the action: the plan's probes
// for an Apply, the current probes with the inverse changes for a Revert (an added probe is removed again).
func Desired(current map[string]probes.Set, act Action) map[string]probes.Set {
	out := map[string]probes.Set{}
	switch act.Kind {
	case Apply:
		for name, set := range act.Plan.Probes {
			out[name] = set
		}
	case Revert:
		for _, ch := range act.Changes {
			set, ok := out[ch.Container]
			if !ok {
				cur := current[ch.Container]
				set = probes.Set{Startup: cur.Startup.DeepCopy(), Liveness: cur.Liveness.DeepCopy(), Readiness: cur.Readiness.DeepCopy()}
			}
			p := set.Get(ch.Probe)
			switch {
			case ch.Field == probes.WholeProbe && ch.To == 0:
				set.Set(ch.Probe, nil)
			case p != nil:
				v := probes.Of(p)
				if nv, err := v.WithField(ch.Field, ch.To); err == nil {
					nv.Apply(p)
				}
			}
			out[ch.Container] = set
		}
	}
	return out
}
