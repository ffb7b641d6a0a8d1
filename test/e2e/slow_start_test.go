//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/test/builders"
	"github.com/probetuner/probe-tuner/test/testutil"
)

// The workload of test/scenarios/tcp-liveness-fast-window.yaml, live: a TCP service that opens its listener only
// 22–26 s after it starts, behind a tcpSocket liveness probe of 2 x 3 s and no startup or readiness probe. The
// kubelet kills every start 6–9 s in, so all replicas crash-loop from the first seconds.
const (
	slowStartMin      = 22 * time.Second
	slowStartMax      = 26 * time.Second
	slowStartReplicas = 3
	// slowStartCureDeadline is how long after the Deployment's creation the issue gives probe-tuner to end the
	// crash loop: a few killed starts to learn from, one decision, and a rolling update of three pods that each
	// need a full start.
	slowStartCureDeadline = 5 * time.Minute
	// slowStartQuietWindow is how long the cured pods are followed: longer than a whole start plus the former
	// liveness window, so that a pod still being killed would be seen killed and restarted within it.
	slowStartQuietWindow = 45 * time.Second
)

// slowStartDeployment is the Deployment, its start drawn from [slowStartMin, slowStartMax]. The tune label is what
// the policies select.
func slowStartDeployment(ns, name, tune string) *appsv1.Deployment {
	return tunedDeployment(ns, name, tune).Replicas(slowStartReplicas).
		Sim("startup", slowStartMin.String()+"-"+slowStartMax.String()).Sim("shutdown", "1s-3s").
		Container(builders.MakeContainer("gateway", "integration/msg-gateway:4.2.1").Port("amqp", 5672).
			Probe(builders.MakeProbe(builders.Liveness).TCPSocketNamed("amqp").Period(3).FailureThreshold(2)).
			Obj()).
		Obj()
}

// defaultPolicy is a policy that sets only its mode and selector: every bound and every pacing is the API's
// default, as a user starting with probe-tuner would have it.
func defaultPolicy(ns, name string, mode tuningv1alpha1.Mode, tune string) *tuningv1alpha1.ProbePolicy {
	return builders.MakePolicy(name, ns).Mode(mode).Selector("tune", tune).Obj()
}

// TestSlowStart is the live case: starts of 22–26 s against a 6 s tcpSocket liveness window. Under an
// Auto policy with the defaults probe-tuner must end the crash loop within five minutes of the Deployment's
// creation; under a Recommend policy it must leave the same Deployment untouched and recommend a budget that
// covers the start.
func TestSlowStart(t *testing.T) {
	ns := testutil.NamespaceName(t)
	c := newClient(t)
	installCRD(t, ns)
	startOperator(t, "manager-slow-start")

	const (
		autoName, autoPolicy = "msg-gateway", "gateways-auto"
		recName, recPolicy   = "msg-gateway-twin", "gateways-recommend"
	)
	// The policies go first, so that both see their Deployment's very first pods.
	create(t, c, defaultPolicy(ns, autoPolicy, tuningv1alpha1.ModeAuto, "auto"), defaultPolicy(ns, recPolicy, tuningv1alpha1.ModeRecommend, "recommend"))
	create(t, c, slowStartDeployment(ns, autoName, "auto"), slowStartDeployment(ns, recName, "recommend"))
	autoOrig, recOrig := getDeployment(t, c, ns, autoName), getDeployment(t, c, ns, recName)
	origBudget := startupBudget(&autoOrig.Spec.Template.Spec.Containers[0])
	if origBudget >= int32(slowStartMin.Seconds()) {
		t.Fatalf("the test's workload is wrong: its liveness window of %ds does not kill a start of %s", origBudget, slowStartMin)
	}

	t.Run("Auto ends the crash loop within five minutes", func(t *testing.T) {
		created := autoOrig.CreationTimestamp.Time
		origHash := revisionHash(t, c, autoOrig, "1")

		// First the crash loop: pods of the original template restart, killed by their liveness probe.
		firstKill := waitForLivenessKills(t, c, ns, autoName, origHash)
		t.Logf("first liveness kill %s after the Deployment's creation", firstKill.Sub(created).Round(time.Second))

		// Then the change: the pod template gives the start a longer budget than the original window.
		var changed *appsv1.Deployment
		eventually(t, time.Until(created.Add(slowStartCureDeadline)), func() error {
			d := getDeployment(t, c, ns, autoName)
			ctr := &d.Spec.Template.Spec.Containers[0]
			if b := startupBudget(ctr); b <= origBudget {
				// The policy's account of the workload says why nothing was changed.
				return fmt.Errorf("the startup budget is still %ds (generation %d); the policy's status: %s",
					b, d.Generation, workloadStatus(getPolicy(t, c, ns, autoPolicy), autoName))
			}
			changed = d
			return nil
		})
		ctr := &changed.Spec.Template.Spec.Containers[0]
		if sp := ctr.StartupProbe; sp != nil && !apiequality.Semantic.DeepEqual(sp.ProbeHandler, ctr.LivenessProbe.ProbeHandler) {
			t.Errorf("the added startup probe's handler %+v is not the liveness probe's %+v", sp.ProbeHandler, ctr.LivenessProbe.ProbeHandler)
		}
		t.Logf("changed %s after the Deployment's creation: startup probe %s, liveness %s",
			time.Since(created).Round(time.Second), probeString(ctr.StartupProbe), probeString(ctr.LivenessProbe))

		// Then the cure: every replica is of the current revision and Ready, before the deadline.
		eventually(t, time.Until(created.Add(slowStartCureDeadline)), func() error {
			return curedNow(t, c, ns, autoName)
		})
		cured := time.Since(created)
		t.Logf("cured %s after the Deployment's creation (%s after the first kill)", cured.Round(time.Second), time.Since(firstKill).Round(time.Second))

		// And it stays cured: the current revision's pods, followed one by one, never restart and never lose
		// Ready. Pods that leave (being deleted) are not judged.
		watched := followCurrentPods(t, c, ns, autoName, slowStartQuietWindow, func(prev, cur *corev1.Pod) error {
			for _, cs := range cur.Status.ContainerStatuses {
				if cs.RestartCount > 0 {
					return fmt.Errorf("pod %s of the cured revision: container %s restarted %d times", cur.Name, cs.Name, cs.RestartCount)
				}
			}
			if testutil.PodReady(prev) && !testutil.PodReady(cur) {
				return fmt.Errorf("pod %s of the cured revision lost Ready: %v", cur.Name, testutil.PodReadyCondition(cur))
			}
			return nil
		})
		if watched == 0 {
			t.Errorf("no pod of the current revision was followed over %s", slowStartQuietWindow)
		}
		if err := curedNow(t, c, ns, autoName); err != nil {
			t.Errorf("no longer cured after %s: %v", slowStartQuietWindow, err)
		}

		// The decision is recorded with its evidence, and named on the Deployment it changed.
		d := getDeployment(t, c, ns, autoName)
		p := getPolicy(t, c, ns, autoPolicy)
		lastChange, err := lastChangeID(d)
		if err != nil {
			t.Error(err)
		}
		var applied []tuningv1alpha1.Decision
		for _, dec := range p.Status.Decisions {
			if dec.Workload == autoName && dec.Action == "Applied" && dec.Reason == "StartupKilledBeforeReady" {
				applied = append(applied, dec)
			}
		}
		if len(applied) == 0 {
			t.Fatalf("no Applied StartupKilledBeforeReady decision for %s in the status: %+v", autoName, p.Status.Decisions)
		}
		named := false
		for _, dec := range applied {
			named = named || dec.ID == lastChange
			if dec.Evidence == "" {
				t.Errorf("decision %s has no evidence: %+v", dec.ID, dec)
			}
			// The evidence is the killed starts, so the decision cannot predate the first of them (the API's
			// times have one-second precision).
			if dec.Time.Time.Before(firstKill.Truncate(time.Second)) {
				t.Errorf("decision %s at %s predates the first liveness kill at %s", dec.ID, dec.Time.UTC().Format(time.RFC3339), firstKill.UTC().Format(time.RFC3339))
			}
		}
		if !named {
			t.Errorf("the last-change annotation names decision %q, none of the Applied ones %+v", lastChange, applied)
		}
		if p.Status.ChangesApplied < 1 {
			t.Errorf("changesApplied = %d after a change was applied", p.Status.ChangesApplied)
		}
		eventually(t, 30*time.Second, func() error {
			for _, obj := range []struct{ kind, name string }{{"Deployment", autoName}, {"ProbePolicy", autoPolicy}} {
				if len(eventsAbout(t, c, ns, obj.kind, obj.name, "ProbeAdjusted")) == 0 {
					return fmt.Errorf("no ProbeAdjusted Event on %s %s", obj.kind, obj.name)
				}
			}
			return nil
		})
	})

	t.Run("Recommend leaves the twin untouched and recommends a budget that covers the start", func(t *testing.T) {
		// The twin crash-loops as well: the recommendation answers real kills.
		waitForLivenessKills(t, c, ns, recName, revisionHash(t, c, recOrig, "1"))

		// Never written: a Deployment's generation advances with every change of its spec or annotations, so an
		// unchanged generation means no write ever; the probes and the single ReplicaSet confirm it. Checked
		// before the recommendation is awaited, so that it is judged even when none comes, and after.
		untouched := func() {
			t.Helper()
			d := getDeployment(t, c, ns, recName)
			if d.Generation != recOrig.Generation {
				t.Errorf("the twin's generation went from %d to %d in Recommend mode", recOrig.Generation, d.Generation)
			}
			got, want := &d.Spec.Template.Spec.Containers[0], &recOrig.Spec.Template.Spec.Containers[0]
			if !apiequality.Semantic.DeepEqual(got.LivenessProbe, want.LivenessProbe) || got.StartupProbe != nil || got.ReadinessProbe != nil {
				t.Errorf("the twin's probes changed in Recommend mode: startup %s, liveness %s, readiness %s",
					probeString(got.StartupProbe), probeString(got.LivenessProbe), probeString(got.ReadinessProbe))
			}
			if v := d.Annotations["probetuner.io/last-change"]; v != "" {
				t.Errorf("the twin carries a last-change annotation in Recommend mode: %s", v)
			}
			for _, mf := range d.ManagedFields {
				if mf.Manager == "probe-tuner" {
					t.Errorf("the twin has a probe-tuner managedFields entry: %+v", mf)
				}
			}
			if rss := ownedReplicaSets(t, c, d); len(rss) != 1 {
				t.Errorf("the twin has %d ReplicaSets, want its original one only", len(rss))
			}
		}
		untouched()

		var rec *tuningv1alpha1.ProbeSet
		eventually(t, 2*time.Minute, func() error {
			p := getPolicy(t, c, ns, recPolicy)
			rec = nil
			for _, w := range p.Status.Workloads {
				for _, cs := range w.Containers {
					if w.Name == recName && cs.Name == "gateway" {
						rec = cs.Recommended
					}
				}
			}
			if rec == nil {
				return fmt.Errorf("no recommended probes for %s/gateway in the status: %+v", recName, p.Status.Workloads)
			}
			if b := recommendedBudget(rec); b < int32(slowStartMax.Seconds()) {
				return fmt.Errorf("the recommended startup budget of %ds does not cover a start of %s: %+v", b, slowStartMax, rec)
			}
			for _, dec := range p.Status.Decisions {
				if dec.Workload == recName && dec.Action == "Recommended" && dec.Evidence != "" {
					return nil
				}
			}
			return fmt.Errorf("no Recommended decision with evidence for %s: %+v", recName, p.Status.Decisions)
		})
		t.Logf("recommended for %s: startup %+v, liveness %+v (budget %ds)", recName, rec.Startup, rec.Liveness, recommendedBudget(rec))
		eventually(t, 30*time.Second, func() error {
			if len(eventsAbout(t, c, ns, "Deployment", recName, "ProbeRecommended")) == 0 {
				return fmt.Errorf("no ProbeRecommended Event on Deployment %s", recName)
			}
			return nil
		})
		untouched()
	})
}

// waitForLivenessKills waits until a pod of the given template hash has restarted and the kubelet has recorded
// killing a container of that revision for its liveness probe, and returns the time of the earliest such kill.
func waitForLivenessKills(t *testing.T, c client.Client, ns, app, hash string) time.Time {
	t.Helper()
	var first time.Time
	eventually(t, 2*time.Minute, func() error {
		var pods corev1.PodList
		if err := c.List(background, &pods, client.InNamespace(ns), client.MatchingLabels{"app": app, appsv1.DefaultDeploymentUniqueLabelKey: hash}); err != nil {
			return err
		}
		restarts := int32(0)
		for _, p := range pods.Items {
			for _, cs := range p.Status.ContainerStatuses {
				restarts += cs.RestartCount
			}
		}
		if restarts == 0 {
			return fmt.Errorf("no pod of %s (revision %s) has restarted yet", app, hash)
		}
		// The kill's Event, not the pod's last termination: a later restart overwrites the pod's record of the
		// first one, while every Event is kept.
		var events corev1.EventList
		if err := c.List(background, &events, client.InNamespace(ns)); err != nil {
			return err
		}
		first = time.Time{}
		for _, e := range events.Items {
			if e.Reason != "Killing" || e.InvolvedObject.Kind != "Pod" || !strings.HasPrefix(e.InvolvedObject.Name, app+"-"+hash+"-") ||
				!strings.Contains(e.Message, "failed liveness probe") {
				continue
			}
			at := e.FirstTimestamp.Time
			if at.IsZero() {
				at = e.EventTime.Time
			}
			if first.IsZero() || at.Before(first) {
				first = at
			}
		}
		if first.IsZero() {
			return fmt.Errorf("pods of %s restarted %d times but there is no liveness Killing Event yet", app, restarts)
		}
		return nil
	})
	return first
}

func getDeployment(t *testing.T, c client.Client, ns, name string) *appsv1.Deployment {
	t.Helper()
	return get[appsv1.Deployment](t, c, ns, name)
}

func getPolicy(t *testing.T, c client.Client, ns, name string) *tuningv1alpha1.ProbePolicy {
	t.Helper()
	return get[tuningv1alpha1.ProbePolicy](t, c, ns, name)
}

// startupBudget is the time a start of the container may take before it is killed: initialDelaySeconds +
// failureThreshold x periodSeconds of its startup probe, or without one of its liveness probe (0 when nothing kills
// a slow start). The API server has filled in the defaults.
func startupBudget(ctr *corev1.Container) int32 {
	p := ctr.StartupProbe
	if p == nil {
		p = ctr.LivenessProbe
	}
	if p == nil {
		return 0
	}
	return p.InitialDelaySeconds + p.FailureThreshold*p.PeriodSeconds
}

// recommendedBudget is the startupBudget of the probes a policy's status recommends.
func recommendedBudget(ps *tuningv1alpha1.ProbeSet) int32 {
	probe := func(v *tuningv1alpha1.ProbeValues) *corev1.Probe {
		if v == nil {
			return nil
		}
		return &corev1.Probe{InitialDelaySeconds: v.InitialDelaySeconds, PeriodSeconds: v.PeriodSeconds, FailureThreshold: v.FailureThreshold}
	}
	return startupBudget(&corev1.Container{StartupProbe: probe(ps.Startup), LivenessProbe: probe(ps.Liveness)})
}

// workloadStatus is what a policy's status says about one workload, for failure messages.
func workloadStatus(p *tuningv1alpha1.ProbePolicy, name string) string {
	for _, w := range p.Status.Workloads {
		if w.Name == name {
			return fmt.Sprintf("state %s: %s", w.State, w.Message)
		}
	}
	return fmt.Sprintf("no entry for %s among %d workloads", name, len(p.Status.Workloads))
}

func probeString(p *corev1.Probe) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprintf("{delay %d, period %d, timeout %d, failureThreshold %d}", p.InitialDelaySeconds, p.PeriodSeconds, p.TimeoutSeconds, p.FailureThreshold)
}

// ownedReplicaSets are the Deployment's ReplicaSets, old and new.
func ownedReplicaSets(t *testing.T, c client.Client, d *appsv1.Deployment) []appsv1.ReplicaSet {
	t.Helper()
	var list appsv1.ReplicaSetList
	if err := c.List(background, &list, client.InNamespace(d.Namespace), client.MatchingLabels(d.Spec.Selector.MatchLabels)); err != nil {
		t.Fatal(err)
	}
	var out []appsv1.ReplicaSet
	for _, rs := range list.Items {
		for _, o := range rs.OwnerReferences {
			if o.UID == d.UID {
				out = append(out, rs)
			}
		}
	}
	return out
}

// revisionHash waits for the Deployment's ReplicaSet of the given revision and returns its pod-template-hash,
// the label that tells that revision's pods.
func revisionHash(t *testing.T, c client.Client, d *appsv1.Deployment, revision string) string {
	t.Helper()
	var hash string
	eventually(t, 30*time.Second, func() error {
		for _, rs := range ownedReplicaSets(t, c, d) {
			if rs.Annotations["deployment.kubernetes.io/revision"] == revision {
				hash = rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
				return nil
			}
		}
		return fmt.Errorf("Deployment %s has no ReplicaSet of revision %s yet", d.Name, revision)
	})
	return hash
}

// currentPods returns the pods of the Deployment's current revision (the ReplicaSet whose revision is the
// Deployment's), skipping pods being deleted. The hash is empty while the Deployment controller has not caught up
// with the template.
func currentPods(t *testing.T, c client.Client, d *appsv1.Deployment) (hash string, pods []corev1.Pod) {
	t.Helper()
	if d.Status.ObservedGeneration < d.Generation {
		return "", nil
	}
	for _, rs := range ownedReplicaSets(t, c, d) {
		if rs.Annotations["deployment.kubernetes.io/revision"] == d.Annotations["deployment.kubernetes.io/revision"] {
			hash = rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		}
	}
	if hash == "" {
		return "", nil
	}
	sel := client.MatchingLabels{appsv1.DefaultDeploymentUniqueLabelKey: hash}
	for k, v := range d.Spec.Selector.MatchLabels {
		sel[k] = v
	}
	var list corev1.PodList
	if err := c.List(background, &list, client.InNamespace(d.Namespace), sel); err != nil {
		t.Fatal(err)
	}
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			pods = append(pods, p)
		}
	}
	return hash, pods
}

// curedNow says why the Deployment is not cured: every replica of the current revision, and only those, Ready.
func curedNow(t *testing.T, c client.Client, ns, name string) error {
	t.Helper()
	d := getDeployment(t, c, ns, name)
	if st := d.Status; st.Replicas != slowStartReplicas || st.UpdatedReplicas != slowStartReplicas || st.ReadyReplicas != slowStartReplicas {
		return fmt.Errorf("replicas %d, updated %d, ready %d (generation %d, observed %d)", st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, d.Generation, st.ObservedGeneration)
	}
	hash, pods := currentPods(t, c, d)
	if hash == "" {
		return fmt.Errorf("the current revision of %s is not known yet", name)
	}
	ready := 0
	for i := range pods {
		if testutil.PodReady(&pods[i]) {
			ready++
		}
	}
	if len(pods) != slowStartReplicas || ready != slowStartReplicas {
		return fmt.Errorf("%d of %d pods of revision %s Ready", ready, len(pods), hash)
	}
	return nil
}

// followCurrentPods samples the Deployment's current-revision pods every 2 s for d and calls check on each pod
// seen twice in a row (prev and cur), skipping pods being deleted. The current revision is read at every sample, so
// pods of a later change are judged too. It reports each distinct failure once and returns how many pods were
// seen at least twice.
func followCurrentPods(t *testing.T, c client.Client, ns, name string, d time.Duration, check func(prev, cur *corev1.Pod) error) int {
	t.Helper()
	return followPods(t, d, func() []corev1.Pod {
		_, pods := currentPods(t, c, getDeployment(t, c, ns, name))
		return pods
	}, check)
}
