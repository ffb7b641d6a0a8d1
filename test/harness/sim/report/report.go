package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/test/harness/sim"
)

// Epoch is the virtual time zero of probesim runs, fixed so that output is
// reproducible.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Config is one simulation run.
type Config struct {
	Deployments []*appsv1.Deployment
	Duration    time.Duration
	Seed        uint64
	// Kubelet overrides the kubelet timings (nil: defaults).
	Kubelet *sim.KubeletConfig
	// Node is the node the pods are bound to (default "sim-node-1").
	Node string
	// KeepEvents stores the event log in Result.Events.
	KeepEvents bool
}

// Result is the outcome of a run. Field names of Totals.Restarts,
// Totals.UnavailableSeconds and Replicas[].FirstReadySeconds are a fixed
// contract.
type Result struct {
	Seed            uint64           `json:"seed"`
	DurationSeconds float64          `json:"durationSeconds"`
	Deployments     []DeploymentInfo `json:"deployments"`
	Totals          Totals           `json:"totals"`
	Replicas        []Replica        `json:"replicas"`
	Events          []EventLine      `json:"events,omitempty"`
}

// DeploymentInfo names a simulated Deployment.
type DeploymentInfo struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Replicas  int    `json:"replicas"`
}

// Totals sums the replicas.
type Totals struct {
	Restarts sim.Restarts `json:"restarts"`
	// UnavailableSeconds is replica-seconds not Ready while wanted.
	UnavailableSeconds   float64        `json:"unavailableSeconds"`
	Replicas             int            `json:"replicas"`
	ReadyReplicas        int            `json:"readyReplicas"`
	NeverReady           int            `json:"neverReady"`
	ReadyTransitions     int            `json:"readyTransitions"`
	Hangs                int            `json:"hangs"`
	HangDetectionSeconds []float64      `json:"hangDetectionSeconds"`
	Events               map[string]int `json:"events"`
}

// Replica is one simulated pod.
type Replica struct {
	Name       string `json:"name"`
	Deployment string `json:"deployment"`
	// FirstReadySeconds is null when the pod never became Ready.
	FirstReadySeconds    *float64        `json:"firstReadySeconds"`
	Ready                bool            `json:"ready"`
	Phase                corev1.PodPhase `json:"phase"`
	State                string          `json:"state"`
	RestartCount         int32           `json:"restartCount"`
	Restarts             sim.Restarts    `json:"restarts"`
	UnavailableSeconds   float64         `json:"unavailableSeconds"`
	ReadyTransitions     int             `json:"readyTransitions"`
	Hangs                int             `json:"hangs"`
	HangDetectionSeconds []float64       `json:"hangDetectionSeconds"`
	RestartDelaysSeconds []float64       `json:"restartDelaysSeconds"`
	LastTermination      *Termination    `json:"lastTermination,omitempty"`
	Events               map[string]int  `json:"events"`
}

// Termination is the last container exit of a replica.
type Termination struct {
	Container string  `json:"container"`
	ExitCode  int32   `json:"exitCode"`
	Reason    string  `json:"reason"`
	Cause     string  `json:"cause"`
	AtSeconds float64 `json:"atSeconds"`
}

// EventLine is one kubelet event, with its time as seconds since the epoch.
type EventLine struct {
	AtSeconds float64 `json:"atSeconds"`
	Pod       string  `json:"pod"`
	Container string  `json:"container,omitempty"`
	Type      string  `json:"type"`
	Reason    string  `json:"reason"`
	Message   string  `json:"message"`
}

// Run simulates the deployments for cfg.Duration of virtual time.
func Run(cfg Config) (*Result, error) {
	if cfg.Duration <= 0 {
		return nil, fmt.Errorf("duration %s is not positive", cfg.Duration)
	}
	if len(cfg.Deployments) == 0 {
		return nil, errors.New("no deployment to simulate")
	}
	node := cfg.Node
	if node == "" {
		node = "sim-node-1"
	}
	res := &Result{Seed: cfg.Seed, DurationSeconds: cfg.Duration.Seconds()}
	opts := sim.Options{Seed: cfg.Seed, Epoch: Epoch, Kubelet: cfg.Kubelet}
	if cfg.KeepEvents {
		opts.OnEvent = func(e sim.Event) {
			res.Events = append(res.Events, EventLine{
				AtSeconds: e.Time.Sub(Epoch).Seconds(), Pod: e.Pod, Container: e.Container,
				Type: e.Type, Reason: e.Reason, Message: e.Message,
			})
		}
	} else {
		opts.OnEvent = func(sim.Event) {}
	}
	w := sim.NewWorld(opts)
	type owned struct {
		p      *sim.PodSim
		deploy string
	}
	var pods []owned
	for _, d := range cfg.Deployments {
		dp, err := sim.DeploymentPods(d, cfg.Seed)
		if err != nil {
			return nil, err
		}
		ns := d.Namespace
		if ns == "" {
			ns = corev1.NamespaceDefault
		}
		res.Deployments = append(res.Deployments, DeploymentInfo{Name: d.Name, Namespace: ns, Replicas: len(dp)})
		for _, pod := range dp {
			p, err := w.AddPod(pod, node)
			if err != nil {
				return nil, fmt.Errorf("deployment %s: %w", d.Name, err)
			}
			pods = append(pods, owned{p, d.Name})
		}
	}
	w.RunUntil(Epoch.Add(cfg.Duration))
	res.Totals.Events = map[string]int{}
	res.Totals.HangDetectionSeconds = []float64{}
	for _, o := range pods {
		r := replica(o.p, o.deploy)
		res.Replicas = append(res.Replicas, r)
		t := &res.Totals
		t.Restarts = t.Restarts.Add(r.Restarts)
		t.UnavailableSeconds += r.UnavailableSeconds
		t.Replicas++
		if r.Ready {
			t.ReadyReplicas++
		}
		if r.FirstReadySeconds == nil {
			t.NeverReady++
		}
		t.ReadyTransitions += r.ReadyTransitions
		t.Hangs += r.Hangs
		t.HangDetectionSeconds = append(t.HangDetectionSeconds, r.HangDetectionSeconds...)
		for k, v := range r.Events {
			t.Events[k] += v
		}
	}
	return res, nil
}

func replica(p *sim.PodSim, deploy string) Replica {
	s := p.Stats()
	st := p.Status()
	r := Replica{
		Name:                 p.Name(),
		Deployment:           deploy,
		Ready:                p.Ready(),
		Phase:                st.Phase,
		State:                stateOf(p.Pod().Spec.InitContainers, st),
		Restarts:             s.Restarts,
		UnavailableSeconds:   s.NotReadyWhileWanted.Seconds(),
		ReadyTransitions:     s.ReadyTransitions,
		Hangs:                s.Hangs,
		HangDetectionSeconds: seconds(s.HangDetections),
		RestartDelaysSeconds: []float64{},
		Events:               s.Events,
	}
	if s.FirstReadyOK {
		v := s.FirstReady.Seconds()
		r.FirstReadySeconds = &v
	}
	for _, list := range [][]corev1.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses} {
		for _, cs := range list {
			r.RestartCount += cs.RestartCount // plain init containers have none, native sidecars may
		}
	}
	for _, start := range s.Starts {
		if start.Restart {
			r.RestartDelaysSeconds = append(r.RestartDelaysSeconds, start.Delay.Seconds())
		}
	}
	if n := len(s.Terminations); n > 0 {
		t := s.Terminations[n-1]
		r.LastTermination = &Termination{
			Container: t.Container, ExitCode: t.ExitCode, Reason: t.Reason,
			Cause: t.Cause.String(), AtSeconds: t.FinishedAt.Sub(Epoch).Seconds(),
		}
	}
	return r
}

func seconds(ds []time.Duration) []float64 {
	out := make([]float64, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.Seconds())
	}
	return out
}

// stateOf summarises the container states: "running", "waiting:<reason>",
// "terminated:<reason>", comma-separated for several containers, native
// sidecars (the init containers with restartPolicy Always) first.
func stateOf(init []corev1.Container, st corev1.PodStatus) string {
	var parts []string
	shown := make([]corev1.ContainerStatus, 0, len(st.InitContainerStatuses)+len(st.ContainerStatuses))
	for i, cs := range st.InitContainerStatuses {
		if i < len(init) && init[i].RestartPolicy != nil && *init[i].RestartPolicy == corev1.ContainerRestartPolicyAlways {
			shown = append(shown, cs)
		}
	}
	for _, cs := range append(shown, st.ContainerStatuses...) {
		switch {
		case cs.State.Running != nil:
			parts = append(parts, "running")
		case cs.State.Waiting != nil:
			parts = append(parts, "waiting:"+cs.State.Waiting.Reason)
		case cs.State.Terminated != nil:
			parts = append(parts, "terminated:"+cs.State.Terminated.Reason)
		}
	}
	return strings.Join(parts, ",")
}

// WriteJSON writes the result as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes a human-readable summary, then the event log if kept.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Simulated %s of virtual time, seed %d.\n\n", time.Duration(r.DurationSeconds*float64(time.Second)), r.Seed)
	fmt.Fprintln(tw, "REPLICA\tREADY\tPHASE\tSTATE\tRESTARTS\tLIVENESS\tSTARTUP\tOOM\tERROR\tFIRST READY\tUNAVAILABLE\tREADY FLIPS")
	for _, rp := range r.Replicas {
		first := "never"
		if rp.FirstReadySeconds != nil {
			first = fmtSeconds(*rp.FirstReadySeconds)
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%d\n", rp.Name, rp.Ready, rp.Phase, rp.State,
			rp.RestartCount, rp.Restarts.Liveness, rp.Restarts.Startup, rp.Restarts.OOM, rp.Restarts.Error,
			first, fmtSeconds(rp.UnavailableSeconds), rp.ReadyTransitions)
	}
	t := r.Totals
	fmt.Fprintf(tw, "TOTAL\t%d/%d\t\t\t%d\t%d\t%d\t%d\t%d\t%d never\t%s\t%d\n", t.ReadyReplicas, t.Replicas,
		t.Restarts.Total(), t.Restarts.Liveness, t.Restarts.Startup, t.Restarts.OOM, t.Restarts.Error,
		t.NeverReady, fmtSeconds(t.UnavailableSeconds), t.ReadyTransitions)
	if err := tw.Flush(); err != nil {
		return err
	}
	if t.Hangs > 0 {
		fmt.Fprintf(w, "\nHangs: %d, detected after %v seconds.\n", t.Hangs, t.HangDetectionSeconds)
	}
	if len(t.Events) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(t.Events)) {
			parts = append(parts, fmt.Sprintf("%s=%d", k, t.Events[k]))
		}
		fmt.Fprintf(w, "\nEvents by reason: %s\n", strings.Join(parts, " "))
	}
	if len(r.Events) > 0 {
		fmt.Fprintln(w, "\nEvent log:")
		ew := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(ew, "TIME\tTYPE\tREASON\tOBJECT\tMESSAGE")
		for _, e := range r.Events {
			obj := "pod/" + e.Pod
			fmt.Fprintf(ew, "%s\t%s\t%s\t%s\t%s\n", fmtSeconds(e.AtSeconds), e.Type, e.Reason, obj, e.Message)
		}
		return ew.Flush()
	}
	return nil
}

func fmtSeconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}
