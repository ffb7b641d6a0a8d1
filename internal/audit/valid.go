package audit

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// invalidProbe: the API server rejects a workload whose probes break its validation rules; the rules are the
// operator's own (probes.Validate), which it checks before every write.
func invalidProbe(t target) []hit {
	var out []hit
	for _, k := range probes.Kinds {
		if err := probes.Validate(t.set.Get(k), k); err != nil {
			out = append(out, hit{probe: k, message: fmt.Sprintf("the API server would reject the %s probe: %s. Fix the probe so the workload can be applied",
				k, strings.ReplaceAll(err.Error(), "\n", "; "))})
		}
	}
	return out
}

// initContainerProbes: a plain init container runs once to completion, and the API server rejects any probe
// on it; only a native sidecar (restartPolicy: Always) may have probes.
func initContainerProbes(c *corev1.Container) []hit {
	var out []hit
	set := probes.ContainerSet(c)
	for _, k := range probes.Kinds {
		if set.Get(k) != nil {
			out = append(out, hit{probe: k, message: fmt.Sprintf("the API server would reject the %s probe: init container %s runs to completion and may not have probes. "+
				"Remove the probe, or make the container a native sidecar with restartPolicy: Always", k, c.Name)})
		}
	}
	return out
}
