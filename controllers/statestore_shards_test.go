package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	tuningv1alpha1 "github.com/probetuner/probe-tuner/api/v1alpha1"
	"github.com/probetuner/probe-tuner/internal/scheme"
	"github.com/probetuner/probe-tuner/internal/tuner"
)

// shardWorld is a fake API server holding a policy's checkpoint ConfigMaps, counting the ConfigMap writes.
type shardWorld struct {
	c      client.Client
	pol    *tuningv1alpha1.ProbePolicy
	writes int
}

func newShardWorld(t *testing.T) *shardWorld {
	t.Helper()
	w := &shardWorld{pol: &tuningv1alpha1.ProbePolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "caches", UID: "pol-uid"}}}
	w.c = fake.NewClientBuilder().WithScheme(scheme.New()).WithInterceptorFuncs(interceptor.Funcs{
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			w.writes++
			return c.Apply(ctx, obj, opts...)
		},
	}).Build()
	return w
}

// store is a store as a freshly started operator has it: nothing in memory.
func (w *shardWorld) store(maxBytes int, events *eventLog) *StateStore {
	return &StateStore{Reader: w.c, Writer: ClientCheckpointWriter{Client: w.c}, MaxBytes: maxBytes, Recorder: events}
}

func (w *shardWorld) configMap(t *testing.T, name string) (corev1.ConfigMap, bool) {
	t.Helper()
	var cm corev1.ConfigMap
	err := w.c.Get(context.Background(), client.ObjectKey{Namespace: "shop", Name: name}, &cm)
	return cm, err == nil
}

// fill gives the policy n workloads of about 80 bytes of state each.
func fill(t *testing.T, s *StateStore, pol *tuningv1alpha1.ProbePolicy, n int) map[string]*tuner.WorkloadState {
	t.Helper()
	states, err := s.Load(context.Background(), pol, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		states[fmt.Sprintf("workload-%02d", i)] = &tuner.WorkloadState{LastFindings: fmt.Sprintf("app-%02d/StuckNotReady", i)}
	}
	return states
}

// A state larger than one ConfigMap spreads over shards named after the policy's UID, each within the limit; a
// restarted operator reads every workload back; an unchanged save writes the checkpoint alone; a lost shard costs
// its workloads (with a Warning Event) and not the others'; a state that fits again empties the shards.
func TestCheckpointSpreadsOverShards(t *testing.T) {
	ctx := context.Background()
	w := newShardWorld(t)
	const limit = 1024
	s := w.store(limit, &eventLog{})
	fill(t, s, w.pol, 40)
	if err := s.Save(ctx, w.pol, testNow, true); err != nil {
		t.Fatal(err)
	}
	primary, ok := w.configMap(t, checkpointName("caches"))
	if !ok {
		t.Fatal("no checkpoint ConfigMap")
	}
	cp, err := decodeCheckpoint([]byte(primary.Data[checkpointKey]))
	if err != nil || cp.Shards < 3 {
		t.Fatalf("checkpoint %.120s: decoded %d shards, error %v; want 40 workloads of 80 bytes over several 1 KiB ConfigMaps", primary.Data[checkpointKey], cp.Shards, err)
	}
	held := len(cp.Workloads)
	for i := 1; i < cp.Shards; i++ {
		cm, ok := w.configMap(t, shardName(w.pol, i))
		if !ok {
			t.Fatalf("shard %d (%s) not written", i, shardName(w.pol, i))
		}
		if n := len(cm.Data[checkpointKey]); n > limit {
			t.Errorf("shard %d holds %d bytes, over the %d limit", i, n, limit)
		}
		if len(cm.OwnerReferences) != 1 || cm.OwnerReferences[0].UID != "pol-uid" {
			t.Errorf("shard %d owners %+v, want the policy (it goes with it)", i, cm.OwnerReferences)
		}
		held += strings.Count(cm.Data[checkpointKey], `"lastFindings"`)
	}
	if held != 40 {
		t.Errorf("the ConfigMaps hold %d workloads, want 40", held)
	}

	restarted := w.store(limit, &eventLog{})
	states, err := restarted.Load(ctx, w.pol, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 40 || states["workload-39"] == nil || states["workload-39"].LastFindings != "app-39/StuckNotReady" {
		t.Fatalf("read back %d workloads (workload-39: %+v), want all 40", len(states), states["workload-39"])
	}
	w.writes = 0
	if err := restarted.Save(ctx, w.pol, testNow, true); err != nil {
		t.Fatal(err)
	}
	before := w.writes
	if err := restarted.Save(ctx, w.pol, testNow, true); err != nil {
		t.Fatal(err)
	}
	if got := w.writes - before; got != 1 {
		t.Errorf("an unchanged save wrote %d ConfigMaps, want the checkpoint alone", got)
	}

	lost, _ := w.configMap(t, shardName(w.pol, 1))
	if err := w.c.Delete(ctx, &lost); err != nil {
		t.Fatal(err)
	}
	events := &eventLog{}
	again, err := w.store(limit, events).Load(ctx, w.pol, testNow)
	if err != nil {
		t.Fatal(err)
	}
	lostCount := strings.Count(lost.Data[checkpointKey], `"lastFindings"`)
	if got := events.with(EventCheckpointUnreadable); len(got) != 1 || !strings.Contains(got[0], shardName(w.pol, 1)) {
		t.Errorf("events %v: want one %s naming the lost shard", events.events, EventCheckpointUnreadable)
	}
	if len(again) != 40-lostCount || lostCount == 0 {
		t.Errorf("after losing a shard of %d workloads, %d are known; want the other %d", lostCount, len(again), 40-lostCount)
	}

	for name := range states {
		if name != "workload-00" {
			delete(states, name)
		}
	}
	if err := restarted.Save(ctx, w.pol, testNow, true); err != nil {
		t.Fatal(err)
	}
	primary, _ = w.configMap(t, checkpointName("caches"))
	if !strings.HasPrefix(primary.Data[checkpointKey], `{"version":2,`) {
		t.Errorf("a state that fits one ConfigMap again is written as %.40s..., want version 2", primary.Data[checkpointKey])
	}
	if cm, _ := w.configMap(t, shardName(w.pol, 2)); strings.Contains(cm.Data[checkpointKey], `"lastFindings"`) {
		t.Errorf("shard 2 still holds states: %.80s", cm.Data[checkpointKey])
	}
}

// A shard of another policy (same name, another UID: deleted and created again) or edited to garbage is not read;
// one Event names both.
func TestCheckpointShardOfAnotherPolicyIsRefused(t *testing.T) {
	ctx := context.Background()
	w := newShardWorld(t)
	s := w.store(1024, &eventLog{})
	fill(t, s, w.pol, 40)
	if err := s.Save(ctx, w.pol, testNow, true); err != nil {
		t.Fatal(err)
	}
	cm, _ := w.configMap(t, shardName(w.pol, 1))
	cm.Data[checkpointKey] = strings.Replace(cm.Data[checkpointKey], `"policyUID":"pol-uid"`, `"policyUID":"other"`, 1)
	if err := w.c.Update(ctx, &cm); err != nil {
		t.Fatal(err)
	}
	cm2, _ := w.configMap(t, shardName(w.pol, 2))
	cm2.Data[checkpointKey] = `{not json`
	if err := w.c.Update(ctx, &cm2); err != nil {
		t.Fatal(err)
	}
	events := &eventLog{}
	states, err := w.store(1024, events).Load(ctx, w.pol, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got := events.with(EventCheckpointUnreadable); len(got) != 1 || !strings.Contains(got[0], `policy UID "other"`) || !strings.Contains(got[0], "is not JSON") {
		t.Errorf("events %v: want one %s naming both shards and what is wrong with each", events.events, EventCheckpointUnreadable)
	}
	if len(states) == 0 || len(states) >= 40 {
		t.Errorf("%d workloads known, want those of the checkpoint and the good shards only", len(states))
	}
}

// A state that needs more than maxCheckpointShards ConfigMaps is not written, with one CheckpointTooLarge Event.
func TestCheckpointBeyondTheShardsIsTooLarge(t *testing.T) {
	w := newShardWorld(t)
	events := &eventLog{}
	s := w.store(512, events)
	fill(t, s, w.pol, 200)
	for range 2 {
		if err := s.Save(context.Background(), w.pol, testNow, true); err != nil {
			t.Fatal(err)
		}
	}
	if got := events.with(EventCheckpointTooLarge); len(got) != 1 || !strings.Contains(got[0], fmt.Sprint(maxCheckpointShards)) {
		t.Errorf("events %v: want one %s naming the bound", events.events, EventCheckpointTooLarge)
	}
	if w.writes != 0 {
		t.Errorf("%d ConfigMaps written of a state that does not fit", w.writes)
	}
}

// A policy deleted and created again under its name while its checkpoint is still there reads the shards the
// checkpoint names (the old UID's), and writes its own next.
func TestARecreatedPolicyReadsTheShardsItsCheckpointNames(t *testing.T) {
	ctx := context.Background()
	w := newShardWorld(t)
	old := w.store(1024, &eventLog{})
	fill(t, old, w.pol, 40)
	if err := old.Save(ctx, w.pol, testNow, true); err != nil {
		t.Fatal(err)
	}
	recreated := w.pol.DeepCopy()
	recreated.UID = "new-uid"
	events := &eventLog{}
	s := w.store(1024, events)
	states, err := s.Load(ctx, recreated, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 40 || len(events.events) != 0 {
		t.Fatalf("the recreated policy read %d workloads (events %v), want the 40 of the checkpoint and its shards", len(states), events.events)
	}
	w.writes = 0
	if err := s.Save(ctx, recreated, testNow, true); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.configMap(t, shardName(recreated, 1)); !ok {
		t.Error("the recreated policy did not write shards of its own")
	}
	if _, ok := w.configMap(t, shardName(w.pol, 1)); !ok {
		t.Error("the old policy's shard is gone: only the garbage collector removes it, with its owner")
	}
}
