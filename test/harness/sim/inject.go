package sim

import (
	"fmt"
	"time"
)

// This file holds the timed faults a scenario can inject.

// InjectHang makes the container (the first app container when container is
// "") of a pod hang at time at, if an instance of it is running then.
func (w *World) InjectHang(namespace, name, container string, at time.Time) error {
	p := w.Pod(namespace, name)
	if p == nil {
		return fmt.Errorf("pod %s not found", podKey(namespace, name))
	}
	ci := 0
	for ci < len(p.containers)-1 && p.containers[ci].sidecar {
		ci++
	}
	if container != "" {
		ci = -1
		for i, c := range p.containers {
			if c.spec.Name == container {
				ci = i
			}
		}
		if ci < 0 {
			return fmt.Errorf("pod %s has no container %q", podKey(namespace, name), container)
		}
	}
	w.schedule(timer{at: w.offset(at), kind: tkHang, pod: p, ci: int16(ci)})
	return nil
}

// InjectOutage adds an outage of the named dependency ("default" unless a
// container sets sim.probetuner.io/dependency) from at for d. Probes of the
// types in each container's dependency-checked-by fail during it.
func (w *World) InjectOutage(dependency string, at time.Time, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("outage length %s is not positive", d)
	}
	if dependency == "" {
		dependency = "default"
	}
	w.outages[dependency] = append(w.outages[dependency], Window{Start: w.offset(at), Length: d})
	return nil
}

// inOutage reports whether the dependency of behaviour b is down at offset t.
func (w *World) inOutage(b *Behavior, t time.Duration) bool {
	for _, win := range b.Outages {
		if win.Contains(t) {
			return true
		}
	}
	for _, win := range w.outages[b.Dependency] {
		if win.Contains(t) {
			return true
		}
	}
	return false
}
