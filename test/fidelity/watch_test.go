//go:build fidelity

package fidelity

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"slices"
	"testing"
	"time"
)

// realWatch is what a `kubectl get pods --watch -o json` stream (FIDELITY_REAL_WATCH) tells.
type realWatch struct {
	// flapping says, per app label, whether the pod's Ready condition dropped at least twice while the same
	// container kept running: readiness flapping, as opposed to the drops that come with a container's exit.
	flapping map[string]bool
	// starts are, per pod name, the distinct startedAt of its containers' running states.
	starts map[string][]time.Time
}

func readRealWatch(t *testing.T, path string) realWatch {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type observed struct {
		containerID string
		running     bool
		ready       bool
	}
	last := map[string]observed{}
	drops := map[string]int{}
	starts := map[string][]time.Time{}
	dec := json.NewDecoder(f)
	for {
		var pod struct {
			Metadata struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Status struct {
				Conditions []struct {
					Type, Status string
				} `json:"conditions"`
				ContainerStatuses []struct {
					ContainerID string `json:"containerID"`
					State       struct {
						Running *struct {
							StartedAt time.Time `json:"startedAt"`
						} `json:"running"`
					} `json:"state"`
				} `json:"containerStatuses"`
			} `json:"status"`
		}
		if err := dec.Decode(&pod); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			// The watch is killed at the end of the run and may stop inside an object.
			t.Logf("%s: %v (the rest is ignored)", path, err)
			break
		}
		app := pod.Metadata.Labels["app"]
		var now observed
		for _, c := range pod.Status.Conditions {
			if c.Type == "Ready" {
				now.ready = c.Status == "True"
			}
		}
		if cs := pod.Status.ContainerStatuses; len(cs) > 0 {
			now.running, now.containerID = cs[0].State.Running != nil, cs[0].ContainerID
			if r := cs[0].State.Running; r != nil && !slices.ContainsFunc(starts[pod.Metadata.Name], r.StartedAt.Equal) {
				starts[pod.Metadata.Name] = append(starts[pod.Metadata.Name], r.StartedAt)
			}
		}
		if before, ok := last[app]; ok && before.ready && !now.ready && now.running && now.containerID == before.containerID {
			drops[app]++
		}
		last[app] = now
	}
	flapping := map[string]bool{}
	for app, n := range drops {
		flapping[app] = n >= 2
	}
	return realWatch{flapping: flapping, starts: starts}
}
