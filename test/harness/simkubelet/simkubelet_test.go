package simkubelet

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestMergeStatusKeepsWhatOthersOwn(t *testing.T) {
	scheduled := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Unix(100, 0)}
	gate := corev1.PodCondition{Type: "example.com/gate", Status: corev1.ConditionTrue}
	disruption := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "EvictionByEvictionAPI"}
	api := corev1.PodStatus{
		Phase:             corev1.PodPending,
		NominatedNodeName: "n1",
		Conditions: []corev1.PodCondition{
			scheduled, gate, disruption,
			{Type: corev1.PodReady, Status: corev1.ConditionFalse},
		},
		ResourceClaimStatuses: []corev1.PodResourceClaimStatus{{Name: "gpu"}},
	}
	sim := corev1.PodStatus{
		Phase: corev1.PodRunning,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue},
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Unix(100, 0)},
		},
		PodIP: "10.64.0.2",
	}
	got := mergeStatus(&api, &sim)
	var types []string
	for _, c := range got.Conditions {
		types = append(types, string(c.Type))
	}
	want := "example.com/gate DisruptionTarget PodReadyToStartContainers Initialized Ready ContainersReady PodScheduled"
	if strings.Join(types, " ") != want {
		t.Errorf("conditions %v, want %s", types, want)
	}
	if got.Phase != corev1.PodRunning || got.PodIP != "10.64.0.2" {
		t.Errorf("phase %s, podIP %s: the simulated values must win", got.Phase, got.PodIP)
	}
	if got.NominatedNodeName != "n1" || len(got.ResourceClaimStatuses) != 1 {
		t.Errorf("fields owned by others were dropped: %+v", got)
	}
	if len(api.Conditions) != 4 || len(sim.Conditions) != 5 {
		t.Errorf("inputs modified")
	}
}

func TestNodeLoadPicksLeastLoaded(t *testing.T) {
	l := newNodeLoad()
	nodes := []string{"a", "b", "c"}
	for i, want := range []string{"a", "b", "c", "a", "b"} {
		got := l.leastLoaded(nodes)
		if got != want {
			t.Fatalf("pick %d: %s, want %s", i, got, want)
		}
		l.assign(types.UID(rune('0'+i)), got)
		l.assign(types.UID(rune('0'+i)), got) // idempotent
	}
	l.forget("0")
	l.forget("3") // both pods of "a" gone
	if got := l.leastLoaded(nodes); got != "a" {
		t.Errorf("after deletions: %s, want a", got)
	}
	if got := l.leastLoaded(nil); got != "" {
		t.Errorf("no candidates: %q", got)
	}
}

func TestInboxKeepsLatestInArrivalOrder(t *testing.T) {
	b := newInbox()
	p1 := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "one", ResourceVersion: "1"}}
	p1b := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "one", ResourceVersion: "2"}}
	b.put("ns/one", podChange{pod: p1})
	b.put("ns/two", podChange{uid: "u2"})
	b.put("ns/one", podChange{pod: p1b})
	keys, ch := b.drain()
	if strings.Join(keys, ",") != "ns/one,ns/two" || ch["ns/one"].pod != p1b || ch["ns/two"].uid != "u2" {
		t.Errorf("drained %v %+v", keys, ch)
	}
	if keys, _ := b.drain(); keys != nil {
		t.Errorf("second drain: %v", keys)
	}
}

func TestAdoptionContinuesRestartCounts(t *testing.T) {
	a := &adoption{restarts: map[string]int32{"app": 4}, salt: "containerd://old"}
	st := corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
		Name: "app", RestartCount: 1, ContainerID: "containerd://abc",
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ContainerID: "containerd://prev"}},
	}}}
	a.apply(&st)
	cs := st.ContainerStatuses[0]
	if cs.RestartCount != 5 {
		t.Errorf("restartCount %d, want 5", cs.RestartCount)
	}
	if cs.ContainerID == "containerd://abc" || !strings.HasPrefix(cs.ContainerID, "containerd://") || len(cs.ContainerID) != len("containerd://")+64 {
		t.Errorf("container ID %q", cs.ContainerID)
	}
	if cs.LastTerminationState.Terminated.ContainerID == "containerd://prev" {
		t.Errorf("last state's container ID not renamed")
	}
}

func TestNewerPod(t *testing.T) {
	a := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "10"}}
	b := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "9"}}
	if newerPod(a, b) != a || newerPod(b, a) != a || newerPod(nil, b) != b || newerPod(a, nil) != a {
		t.Error("newerPod does not pick the higher resourceVersion")
	}
}

func TestNodesAndStatus(t *testing.T) {
	c := Defaults()
	c.Nodes = 260
	nodes := makeNodes(c)
	if nodes[0].name != "sim-node-1" || nodes[0].ip != "127.0.0.2" || nodes[259].name != "sim-node-260" || nodes[259].ip != "127.0.1.11" {
		t.Errorf("nodes: %s %s, %s %s", nodes[0].name, nodes[0].ip, nodes[259].name, nodes[259].ip)
	}
	t0 := time.Unix(1000, 0)
	st := nodes[0].status(t0, nil)
	later := nodes[0].status(t0.Add(time.Minute), &st)
	for _, cond := range later.Conditions {
		if !cond.LastTransitionTime.Time.Equal(t0) || !cond.LastHeartbeatTime.Time.Equal(t0.Add(time.Minute)) {
			t.Errorf("%s: transition %s heartbeat %s", cond.Type, cond.LastTransitionTime, cond.LastHeartbeatTime)
		}
	}
	if later.NodeInfo.KubeletVersion != KubeletVersion || later.Allocatable.Pods().Value() < 1000 {
		t.Errorf("node info %+v, allocatable %v", later.NodeInfo, later.Allocatable)
	}
}

func TestConfigValidation(t *testing.T) {
	now := time.Now()
	if err := Defaults().validate(now); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	bad := Defaults()
	bad.Nodes = 0
	bad.Tick = time.Millisecond
	bad.Epoch = now.Add(time.Hour)
	err := bad.validate(now)
	for _, want := range []string{"nodes", "tick", "future"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate: %v, want a complaint about %s", err, want)
		}
	}
	if c := (Config{Seed: 1}).withDefaults(); c != Defaults() {
		t.Errorf("zero config with defaults %+v, want %+v", c, Defaults())
	}
}
