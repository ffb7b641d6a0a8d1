package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/observe"
	"github.com/probetuner/probe-tuner/internal/podstore"
	"github.com/probetuner/probe-tuner/internal/scheme"
	"github.com/probetuner/probe-tuner/internal/tuner"
	"github.com/probetuner/probe-tuner/test/harness/bench"
)

// TestOperatorDecidesWhatTheBenchmarkMeasured runs benchmark scenarios, then hands each look the benchmark's
// operator took (its pods, the kubelet's Events, the Deployment with probe-tuner's annotations, its ReplicaSet
// and rollout status) to the controller's reconcileWorkload, through a fake API server and a pod store, and
// compares what both decided, look by look: a benchmark figure describes the operator only if they agree. The
// perturbed replays show that the comparison notices when they do not.
func TestOperatorDecidesWhatTheBenchmarkMeasured(t *testing.T) {
	cases := []struct {
		name, scenario string
		// perturb changes what the operator is given at look i; false drops the look.
		perturb func(i int, l *bench.Look) bool
		same    bool
	}{
		{name: "a crash loop ended with a startup probe", scenario: "../test/harness/bench/testdata/slow-start.yaml", same: true},
		{name: "a loose startup budget, and a release", scenario: "testdata/tightening.yaml", same: true},
		{name: "a recommendation in Recommend mode", scenario: "testdata/recommend-only.yaml", same: true},
		{name: "a native sidecar's crash loop ended with a startup probe", scenario: "testdata/native-sidecar.yaml", same: true},
		{
			name: "perturbed: the operator misses the looks that wrote", scenario: "../test/harness/bench/testdata/slow-start.yaml",
			perturb: func(_ int, l *bench.Look) bool { return !wrote(l.Outcome) },
		},
		{
			name: "perturbed: the kubelet's Events are lost on the operator's side", scenario: "../test/harness/bench/testdata/slow-start.yaml",
			perturb: func(_ int, l *bench.Look) bool { l.Input.Observe.Events = nil; return true },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			scs, err := bench.Load(tc.scenario)
			if err != nil {
				t.Fatal(err)
			}
			looks, err := bench.TunedLooks(scs[0])
			if err != nil {
				t.Fatal(err)
			}
			decisions := 0
			for _, l := range looks {
				decisions += len(l.Outcome.Decisions())
			}
			if decisions == 0 {
				t.Fatalf("%d looks without a decision: the scenario no longer exercises what it is here for", len(looks))
			}
			diffs := replay(t, scs[0], looks, tc.perturb)
			t.Logf("%d looks, %d decisions; %d looks decided differently", len(looks), decisions, len(diffs))
			if tc.same && len(diffs) > 0 {
				t.Errorf("%d of %d looks decided differently, the first:\n%s", len(diffs), len(looks), strings.Join(diffs[:min(3, len(diffs))], "\n"))
			}
			if !tc.same && len(diffs) == 0 {
				t.Errorf("the perturbed replay decided like the benchmark: the comparison cannot tell the two apart")
			}
		})
	}
}

// wrote reports whether the look wrote the Deployment.
func wrote(o tuner.Outcome) bool {
	for _, r := range o.Records {
		if r.Kind == tuner.RecordApplied || r.Kind == tuner.RecordReverted {
			return true
		}
	}
	return false
}

// replay runs the looks through reconcileWorkload with one workload state, and returns a line per look whose
// decisions or write differ from the benchmark's.
func replay(t *testing.T, sc *bench.Scenario, looks []bench.Look, perturb func(int, *bench.Look) bool) []string {
	t.Helper()
	ws := &tuner.WorkloadState{}
	var diffs []string
	for i := range looks {
		l := looks[i]
		l.Input.Observe.Events = append([]observe.KubeletEvent(nil), l.Input.Observe.Events...)
		operatorDecisions, operatorWrote := []tuningv1alpha1.Decision(nil), false
		if perturb == nil || perturb(i, &l) {
			operatorDecisions, operatorWrote = reconcileLook(t, sc, l, ws)
		}
		want := looks[i].Outcome.Decisions()
		if d := decisionDiff(want, operatorDecisions); d != "" || operatorWrote != wrote(looks[i].Outcome) {
			diffs = append(diffs, fmt.Sprintf("look %d at %s: benchmark wrote %v, operator wrote %v; %s",
				i, l.Input.Observe.Now.Sub(bench.Epoch), wrote(looks[i].Outcome), operatorWrote, d))
		}
	}
	return diffs
}

// reconcileLook gives one look to the controller: the API server holds the Deployment and its current
// ReplicaSet as the look saw them, the pod store its pods and Events.
func reconcileLook(t *testing.T, sc *bench.Scenario, l bench.Look, ws *tuner.WorkloadState) ([]tuningv1alpha1.Decision, bool) {
	t.Helper()
	in := l.Input
	d := in.Deployment.DeepCopy()
	if d.Namespace == "" {
		d.Namespace = corev1.NamespaceDefault
	}
	replicas := sc.Replicas
	d.Spec.Replicas = &replicas
	d.Generation = 1
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[revisionAnnotation] = "1"
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: replicas, UpdatedReplicas: replicas}
	if in.RolloutInProgress {
		d.Status.UpdatedReplicas = 0
	}
	// As the Deployment controller makes them: the ReplicaSet carries the selector's labels and the template hash,
	// and is controlled by the Deployment's UID.
	d.UID = types.UID("uid-" + d.Name)
	if d.Spec.Selector == nil {
		d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": d.Name}}
	}
	rsLabels := map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: in.Observe.Revision}
	for k, v := range d.Spec.Selector.MatchLabels {
		rsLabels[k] = v
	}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name + "-" + in.Observe.Revision,
		Labels:          rsLabels,
		Annotations:     map[string]string{revisionAnnotation: "1"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: ptr.To(true)}}}}
	pol := &tuningv1alpha1.ProbePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: "probebench"}, Spec: sc.Policy}

	var n calls
	c := fake.NewClientBuilder().WithScheme(scheme.New()).WithObjects(d, rs).
		WithInterceptorFuncs(countingFuncs(&n, nil, nil)).Build()
	r := &ProbePolicyReconciler{Client: c, APIReader: c, Pods: podStore(d, l.Pods, in), Clock: clocktesting.NewFakeClock(in.Observe.Now),
		Recorder: discardRecorder{}, ObserveConfig: observe.DefaultConfig()}
	var cached appsv1.Deployment
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(d), &cached); err != nil {
		t.Fatal(err)
	}
	out, err := r.reconcileWorkload(context.Background(), pol, sc.Settings(), &cached, ws, in.Observe.Now)
	if err != nil {
		t.Fatal(err)
	}
	return out.decisions, n.applies > 0
}

// podStore holds the look's pods (the API Pods the benchmark's view was built from) and Events as the informers
// would: pods owned by the ReplicaSet named <deployment>-<pod-template-hash> (the benchmark names its ReplicaSets
// otherwise), Events as the kubelet records them.
func podStore(d *appsv1.Deployment, apiPods []*corev1.Pod, in tuner.WorkloadLook) *podstore.Store {
	pods := make([]*corev1.Pod, len(apiPods))
	for i, p := range apiPods {
		p = p.DeepCopy()
		for j := range p.OwnerReferences {
			p.OwnerReferences[j].Name = d.Name + "-" + p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		}
		pods[i] = p
	}
	events := make([]*corev1.Event, len(in.Observe.Events))
	for i, e := range in.Observe.Events {
		events[i] = &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: e.ID, UID: types.UID(e.ID)},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: d.Namespace, Name: e.Pod, FieldPath: "spec.containers{" + e.Container + "}"},
			Reason:         e.Reason, Message: e.Message, Count: e.Count, LastTimestamp: metav1.NewTime(e.Time)}
	}
	return podstore.NewStatic(pods, events)
}

// decisionDiff describes how two looks' decisions differ, or returns "".
func decisionDiff(want, got []tuningv1alpha1.Decision) string {
	render := func(ds []tuningv1alpha1.Decision) string {
		parts := make([]string, len(ds))
		for i, d := range ds {
			parts[i] = fmt.Sprintf("%s %s %s/%s/%s %s->%s %s at %s: %s", d.Action, d.ID, d.Container, d.Probe, d.Field, d.From, d.To, d.Reason,
				d.Time.UTC().Format("15:04:05.000"), d.Evidence)
		}
		return strings.Join(parts, "; ")
	}
	if w, g := render(want), render(got); w != g {
		return fmt.Sprintf("benchmark decided [%s], operator decided [%s]", w, g)
	}
	return ""
}
