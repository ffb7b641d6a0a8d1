package tuner

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/apply"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/probes"
)

// The case: a policy deleted and re-created (same name) while its last change, a startup probe of
// 12 x 5 s = 60 s for a 40 s start, was being verified. The new policy starts from a fresh state and adopts the
// change from the Deployment's last-change annotation; its three pods have run for six minutes, healthy. Before
// the fix the first look took their ages for starts ("p99 of 3 recent starts is 360s") and the startup budget was
// doubled at every cooldown (60 -> 120 -> 240 -> 470 s): no look may now write the Deployment.
func TestARecreatedPolicyDoesNotTuneHealthyRunningPods(t *testing.T) {
	changed := stepNow.Add(-7 * time.Minute)
	podsStarted := stepNow.Add(-6 * time.Minute)
	startup := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
		PeriodSeconds: 5, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 12}
	liveness := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
		PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "api", Annotations: map[string]string{}},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "api:1", StartupProbe: startup, LivenessProbe: liveness}}}}},
	}
	annotate(t, d, apply.AnnotationLastChange, apply.LastChange{ID: "d1", Time: changed, Policy: "shop/tuning", Action: string(Apply),
		Summary: []string{"app startup probe added"}, FromRevision: "r0",
		Changes: []probes.Change{{Container: "app", Probe: probes.Startup, Field: probes.WholeProbe, From: 0, To: 1, Reason: "StartupKilledBeforeReady"}}})

	probeView := func(p *corev1.Probe) *observe.Probe { return &observe.Probe{Values: probes.Of(p)} }
	var view probes.ByKind[*observe.Probe]
	view.Set(probes.Startup, probeView(startup))
	view.Set(probes.Liveness, probeView(liveness))
	pods := make([]observe.Pod, 3)
	for i := range pods {
		pods[i] = observe.Pod{Name: fmt.Sprintf("api-r1-%d", i), UID: types.UID(fmt.Sprint("uid-", i)), Revision: "r1", Ready: true, ReadySince: podsStarted.Add(45 * time.Second),
			Containers: []observe.Container{{Name: "app", Probes: view, Status: &observe.ContainerStatus{Ready: true, Started: true,
				ContainerID: fmt.Sprintf("c%d", i), Running: true, RunningSince: podsStarted}}}}
	}

	st := &WorkloadState{} // the re-created policy's fresh state
	s := resolved(t, tuningv1alpha1.ModeAuto)
	for now := stepNow; now.Before(stepNow.Add(45 * time.Minute)); now = now.Add(15 * time.Second) {
		look := WorkloadLook{Observe: observe.Input{Pods: pods, Revision: "r1", Now: now}, Deployment: d}
		out, err := StepWorkload(st, look, s, observe.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		if out.Write || out.Action.Kind == Apply || out.Action.Kind == Revert {
			t.Fatalf("at +%s: %s %v: %s", now.Sub(stepNow), out.Action.Kind, out.Action.Changes, out.Action.Reason)
		}
	}
	if n := st.Observation.Containers["app"].Startup.Count; n != 0 {
		t.Errorf("start samples = %d, want none: the pods were running before the policy looked", n)
	}
	if lc := st.LastChange; lc == nil || lc.ID != "d1" || !lc.Verified || lc.Reverted {
		t.Errorf("last change = %+v, want d1 adopted and verified (healthy pods, nothing to revert)", lc)
	}
}
