package simkubelet_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/test/builders"
	"github.com/probetuner/probe-tuner/test/testutil"
)

// An app that needs 8s to serve, under a liveness probe that gives it 4s, is killed and restarted over and
// over: restarts, CrashLoopBackOff, and the kubelet's Killing and Unhealthy events.
func TestTightLivenessCrashLoops(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	create(t, simDeployment(ns, "slow", 2, httpProbe(builders.Liveness, "/healthz", 2, 2)).Sim("startup", "8s"))

	crashLoop := map[string]bool{}
	problems := map[string]bool{} // reported once, at the end
	defer func() {
		for p := range problems {
			t.Error(p)
		}
	}()
	eventually(t, 60*time.Second, func() error {
		restarted := 0
		for _, p := range pods(t, ns, "slow") {
			if p.Spec.NodeName == "" {
				return fmt.Errorf("pod %s is not scheduled", p.Name)
			}
			for _, cs := range p.Status.ContainerStatuses {
				if w := cs.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
					crashLoop[p.Name] = true
					if !strings.HasPrefix(w.Message, "back-off ") {
						problems[fmt.Sprintf("pod %s: CrashLoopBackOff message %q", p.Name, w.Message)] = true
					}
				}
				if cs.RestartCount > 0 {
					restarted++
					if term := cs.LastTerminationState.Terminated; term == nil || term.Reason != "Error" || (term.ExitCode != 137 && term.ExitCode != 143) {
						problems[fmt.Sprintf("pod %s: restarted, but lastState.terminated is %+v", p.Name, term)] = true
					}
				}
			}
		}
		if restarted == 0 {
			return fmt.Errorf("no pod has restarted yet")
		}
		if len(crashLoop) == 0 {
			return fmt.Errorf("%d pod(s) restarted, none seen in CrashLoopBackOff yet", restarted)
		}
		return eventsPresent(t, ns, "slow", problems)
	})
}

// eventsPresent checks the kubelet's Killing and Unhealthy events of the deployment's pods.
func eventsPresent(t *testing.T, ns, app string, problems map[string]bool) error {
	nodeOf := map[string]string{}
	for _, p := range pods(t, ns, app) {
		nodeOf[p.Name] = p.Spec.NodeName
	}
	killing, unhealthy := 0, 0
	for _, e := range events(t, ns) {
		node, ours := nodeOf[e.InvolvedObject.Name]
		if !ours || e.InvolvedObject.Kind != "Pod" {
			continue
		}
		switch e.Reason {
		case "Killing", "Unhealthy":
		default:
			continue
		}
		if e.Source.Component != "kubelet" || e.Source.Host != node || e.InvolvedObject.FieldPath != "spec.containers{app}" || e.InvolvedObject.UID == "" {
			problems[fmt.Sprintf("event %s/%s: source %+v, involvedObject %+v; want kubelet on %s, field spec.containers{app}",
				e.Reason, e.Name, e.Source, e.InvolvedObject, node)] = true
		}
		switch {
		case e.Reason == "Killing" && e.Type == corev1.EventTypeNormal && e.Message == "Container app failed liveness probe, will be restarted":
			killing++
		case e.Reason == "Unhealthy" && e.Type == corev1.EventTypeWarning && strings.HasPrefix(e.Message, "Liveness probe failed: Get \"http://"):
			unhealthy++
		}
	}
	if killing == 0 || unhealthy == 0 {
		return fmt.Errorf("%d Killing (liveness) and %d Unhealthy (liveness) events", killing, unhealthy)
	}
	return nil
}

// The same slow start behind a startup probe that covers it: Ready, available, and never restarted.
func TestStartupProbeCoversSlowStart(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	create(t, simDeployment(ns, "covered", 3,
		httpProbe(builders.Startup, "/healthz", 1, 15), httpProbe(builders.Readiness, "/ready", 2, 3), httpProbe(builders.Liveness, "/healthz", 2, 2)).
		Sim("startup", "4s"))
	available(t, ns, "covered", 45*time.Second)
	for _, p := range pods(t, ns, "covered") {
		if p.Status.Phase != corev1.PodRunning {
			t.Errorf("pod %s: phase %s", p.Name, p.Status.Phase)
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.RestartCount != 0 || !cs.Ready || cs.Started == nil || !*cs.Started || cs.State.Running == nil {
				t.Errorf("pod %s: container status %+v, want running, started, ready, no restart", p.Name, cs)
			}
		}
		if !testutil.PodReady(&p) {
			t.Errorf("pod %s is not Ready", p.Name)
		} else if d := testutil.PodReadyCondition(&p).LastTransitionTime.Sub(p.Status.StartTime.Time); d < 3*time.Second || d > 15*time.Second {
			t.Errorf("pod %s became Ready %s after its start; the app needs 4s", p.Name, d)
		}
	}
	for _, e := range events(t, ns) {
		if e.Reason == "Killing" || e.Reason == "BackOff" {
			t.Errorf("unexpected event %s: %s", e.Reason, e.Message)
		}
	}
}

// A pod the simulator cannot run (an invalid behaviour annotation) stays Pending with a FailedSimulation event
// that names the annotation, and is still removed when it is deleted.
func TestInvalidAnnotationReported(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	create(t, simDeployment(ns, "bad", 1).Sim("startup", "4x5s"))
	eventually(t, 30*time.Second, func() error {
		for _, e := range events(t, ns) {
			if e.Reason == "FailedSimulation" && e.Type == corev1.EventTypeWarning && strings.Contains(e.Message, `sim.probetuner.io/startup: "4x5s"`) {
				return nil
			}
		}
		return fmt.Errorf("no FailedSimulation event naming the annotation")
	})
	ps := pods(t, ns, "bad")
	if len(ps) != 1 || ps[0].Spec.NodeName == "" || ps[0].Status.Phase != corev1.PodPending {
		t.Fatalf("pods %+v, want one bound, Pending pod", ps)
	}
	scale(t, ns, "bad", 0)
	eventually(t, 30*time.Second, func() error {
		if n := len(pods(t, ns, "bad")); n != 0 {
			return fmt.Errorf("%d pods left", n)
		}
		return nil
	})
}
