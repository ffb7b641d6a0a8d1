package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/probetuner/probe-tuner/test/harness/sim"
)

// fleetYAML is a scenario whose pods start in 5 s behind a readiness probe every 2 s.
func fleetYAML(replicas int, strategy string) string {
	return fmt.Sprintf(`name: fleet
description: rollout mechanics
duration: 1h
replicas: %d
deployment:
  metadata: {name: web}
  spec:
%s    template:
      metadata:
        labels: {app: web}
        annotations: {sim.probetuner.io/startup: "5s", sim.probetuner.io/shutdown: "1s"}
      spec:
        containers:
        - name: app
          image: web:1
          readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 2}
`, replicas, strategy)
}

// fleetDriver runs a fleet on a simulated world in steps of one second, as the harness does during a rollout.
type fleetDriver struct {
	t *testing.T
	w *sim.World
	f *fleet
}

func newFleetDriver(t *testing.T, yaml string) *fleetDriver {
	t.Helper()
	sc := mustParse(t, yaml)
	w := sim.NewWorld(sim.Options{Seed: sc.Seed, Epoch: Epoch, OnEvent: func(sim.Event) {}})
	d := &fleetDriver{t: t, w: w, f: newFleet(w, sc, sc.Deployment.DeepCopy(), sc.Seed)}
	if err := d.f.sync(Epoch); err != nil {
		t.Fatal(err)
	}
	return d
}

// run steps for d, calling check after every step.
func (d *fleetDriver) run(dur time.Duration, check func()) {
	d.t.Helper()
	end := d.w.Now().Add(dur)
	for d.w.Now().Before(end) {
		d.w.Advance(time.Second)
		d.w.DrainChanged()
		if err := d.f.sync(d.w.Now()); err != nil {
			d.t.Fatal(err)
		}
		if check != nil {
			check()
		}
	}
}

// release changes the image: a new revision.
func (d *fleetDriver) release(image string, annotations map[string]string) {
	t := *d.f.d.Spec.Template.DeepCopy()
	t.Spec.Containers[0].Image = image
	for k, v := range annotations {
		t.Annotations[k] = v
	}
	d.f.setTemplate(t)
	if err := d.f.sync(d.w.Now()); err != nil {
		d.t.Fatal(err)
	}
}

func mustParse(t *testing.T, yaml string) *Scenario {
	t.Helper()
	sc, err := Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return sc
}

func TestRollingUpdateStaysWithinSurgeAndUnavailable(t *testing.T) {
	cases := []struct {
		name               string
		replicas           int
		strategy           string
		surge, unavailable int
	}{
		{name: "4 replicas, default 25%/25%", replicas: 4, surge: 1, unavailable: 1},
		{name: "3 replicas, default 25%/25% (surge rounds up, unavailable down)", replicas: 3, surge: 1, unavailable: 0},
		{name: "10 replicas, default", replicas: 10, surge: 3, unavailable: 2},
		{name: "4 replicas, maxSurge 0, maxUnavailable 2", replicas: 4, surge: 0, unavailable: 2,
			strategy: "    strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 2}}\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newFleetDriver(t, fleetYAML(tc.replicas, tc.strategy))
			if d.f.surge != int32(tc.surge) || d.f.unavailable != int32(tc.unavailable) {
				t.Fatalf("resolved surge/unavailable = %d/%d, want %d/%d", d.f.surge, d.f.unavailable, tc.surge, tc.unavailable)
			}
			d.run(time.Minute, nil)
			if n := d.f.servingPods(); n != tc.replicas || d.f.rollingOut() {
				t.Fatalf("after a minute %d pods serve (rolling out: %v), want all %d", n, d.f.rollingOut(), tc.replicas)
			}
			first := d.f.hash
			d.release("web:2", nil)
			if d.f.hash == first {
				t.Fatal("a new image did not change the template hash")
			}
			sawRollout := false
			d.run(5*time.Minute, func() {
				if active := int(d.f.countActive(nil)); active > tc.replicas+tc.surge {
					t.Fatalf("%s: %d pods not terminating, more than %d + maxSurge %d", d.w.Now().Sub(Epoch), active, tc.replicas, tc.surge)
				}
				if n := d.f.servingPods(); n < tc.replicas-tc.unavailable {
					t.Fatalf("%s: only %d pods serve, fewer than %d - maxUnavailable %d", d.w.Now().Sub(Epoch), n, tc.replicas, tc.unavailable)
				}
				sawRollout = sawRollout || d.f.rollingOut()
			})
			if !sawRollout {
				t.Error("the rollout was never reported in progress")
			}
			if d.f.rollingOut() || d.f.busy() {
				t.Fatalf("the rollout did not finish in 5 minutes")
			}
			for _, p := range d.f.live {
				if p.rs.hash != d.f.hash || p.deleting {
					t.Errorf("pod %s of revision %s is left (deleting: %v)", p.obj.Name, p.rs.hash, p.deleting)
				}
			}
			if got := len(d.f.live); got != tc.replicas {
				t.Errorf("%d pods at the end, want %d", got, tc.replicas)
			}
		})
	}
}

func TestStalledRolloutAndRevert(t *testing.T) {
	d := newFleetDriver(t, fleetYAML(3, ""))
	d.run(time.Minute, nil)
	original := d.f.hash
	oldPods := map[string]bool{}
	for _, p := range d.f.live {
		oldPods[p.obj.Name] = true
	}
	originalTemplate := *d.f.d.Spec.Template.DeepCopy()

	// A release whose pods never become ready: the rollout stalls with the old pods serving.
	d.release("web:2", map[string]string{"sim.probetuner.io/startup": "never"})
	d.run(10*time.Minute, func() {
		if n := d.f.servingPods(); n < 3 {
			t.Fatalf("%s: %d pods serve; with maxUnavailable 0 the old pods must keep serving", d.w.Now().Sub(Epoch), n)
		}
	})
	if !d.f.rollingOut() {
		t.Fatal("a stalled rollout is not reported in progress")
	}
	stalled := d.f.hash
	if n := d.f.countActive(d.f.set(stalled)); n != 1 {
		t.Errorf("the stalled revision has %d pods, want 1 (maxSurge)", n)
	}
	if n := d.f.countActive(d.f.set(original)); n != 3 {
		t.Errorf("the old revision has %d pods, want 3", n)
	}

	// Reverting the template revives the old ReplicaSet and removes the stuck pod.
	d.f.setTemplate(originalTemplate)
	if d.f.hash != original {
		t.Fatalf("the reverted template hashes to %s, want the original %s", d.f.hash, original)
	}
	d.run(2*time.Minute, func() {
		if n := d.f.servingPods(); n < 3 {
			t.Fatalf("%s: %d pods serve during the revert", d.w.Now().Sub(Epoch), n)
		}
	})
	if d.f.rollingOut() || d.f.busy() {
		t.Fatal("the revert did not finish")
	}
	for _, p := range d.f.live {
		if !oldPods[p.obj.Name] {
			t.Errorf("pod %s is left; want exactly the original pods", p.obj.Name)
		}
	}
	if len(d.f.live) != 3 {
		t.Errorf("%d pods at the end, want 3", len(d.f.live))
	}
}

func TestPodNamesDoNotDependOnTheProbes(t *testing.T) {
	a := newFleetDriver(t, fleetYAML(3, ""))
	b := newFleetDriver(t, fleetYAML(3, ""))
	tmpl := *b.f.d.Spec.Template.DeepCopy()
	tmpl.Spec.Containers[0].ReadinessProbe.FailureThreshold = 5
	b.f.hash = ""
	b.f.setTemplate(tmpl)
	b2 := &fleet{w: sim.NewWorld(sim.Options{Seed: 1, Epoch: Epoch}), seed: 1, node: "n", d: b.f.d, replicas: 3, surge: 1, names: map[string]bool{}}
	b2.hash = sim.TemplateHash(&b2.d.Spec.Template)
	if err := b2.sync(Epoch); err != nil {
		t.Fatal(err)
	}
	if b2.hash == a.f.hash {
		t.Fatal("different probes gave the same template hash")
	}
	for i := range a.f.live {
		if a.f.live[i].obj.Name != b2.live[i].obj.Name {
			t.Errorf("pod %d is %s with one probe setting and %s with another", i, a.f.live[i].obj.Name, b2.live[i].obj.Name)
		}
	}
}
