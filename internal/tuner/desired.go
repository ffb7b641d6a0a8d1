package tuner

import (
	"github.com/probetuner/probe-tuner/internal/probes"
	"github.com/probetuner/probe-tuner/internal/recommend"
)

// Desired returns, per container the action touches, the complete probes after the action: the plan's probes
// for an Apply, the current probes with the inverse changes for a Revert (an added probe is removed again).
func Desired(current map[string]recommend.ProbeSet, act Action) map[string]recommend.ProbeSet {
	out := map[string]recommend.ProbeSet{}
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
				set = recommend.ProbeSet{Startup: cur.Startup.DeepCopy(), Liveness: cur.Liveness.DeepCopy(), Readiness: cur.Readiness.DeepCopy()}
			}
			p := set.Get(ch.Probe)
			switch {
			case ch.Field == recommend.FieldProbe && ch.To == 0:
				set = withoutProbe(set, ch.Probe)
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

func withoutProbe(set recommend.ProbeSet, k probes.Kind) recommend.ProbeSet {
	switch k {
	case probes.Startup:
		set.Startup = nil
	case probes.Liveness:
		set.Liveness = nil
	default:
		set.Readiness = nil
	}
	return set
}
