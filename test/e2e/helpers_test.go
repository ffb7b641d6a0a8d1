//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/probetuner/probe-tuner/internal/scheme"

	"github.com/probetuner/probe-tuner/test/builders"
	"github.com/probetuner/probe-tuner/test/testutil"
)

// kubectlCmd is the locally built kubectl with args, against the test cluster, run from the module's root.
func kubectlCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(cluster.Root, "bin", "k8s", "kubectl"), append([]string{"--kubeconfig", cluster.Kubeconfig}, args...)...)
	cmd.Dir = cluster.Root
	return cmd
}

// kubectl runs kubectl and returns its output, failing the test when it exits non-zero.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	return kubectlIn(t, "", args...)
}

// installCRD installs the ProbePolicy CRD from config/crd, waits until it is served, and creates the namespaces.
func installCRD(t *testing.T, namespaces ...string) {
	t.Helper()
	kubectl(t, "apply", "-k", "config/crd")
	// Polled rather than `kubectl wait --for condition=Established`: on a CRD created a moment ago, whose status
	// has no conditions yet, kubectl wait fails at once (".status.conditions accessor error: <nil>") instead of
	// waiting.
	eventually(t, 60*time.Second, func() error {
		established := kubectlNoFail(t, "get", "crd/probepolicies.tuning.probetuner.io", "-o", `jsonpath={.status.conditions[?(@.type=="Established")].status}`)
		if established != "True" {
			return fmt.Errorf("the ProbePolicy CRD is not Established yet (%q)", established)
		}
		return nil
	})
	for _, ns := range namespaces {
		kubectl(t, "create", "namespace", ns)
	}
}

// create creates the objects in order, as a user's kubectl create would, failing the test on the first error.
func create(t *testing.T, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, obj := range objs {
		if err := c.Create(background, obj); err != nil {
			t.Fatalf("creating %T %s/%s: %v", obj, obj.GetNamespace(), obj.GetName(), err)
		}
	}
}

// get reads the object ns/name of type T, failing the test when it cannot.
func get[T any, PT interface {
	*T
	client.Object
}](t *testing.T, c client.Client, ns, name string) PT {
	t.Helper()
	obj := PT(new(T))
	if err := c.Get(background, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// eventsAbout returns the namespace's Events with this reason about objects of this kind, and of this name
// unless name is empty.
func eventsAbout(t *testing.T, c client.Client, ns, kind, name, reason string) []corev1.Event {
	t.Helper()
	var list corev1.EventList
	if err := c.List(background, &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if e.Reason == reason && e.InvolvedObject.Kind == kind && (name == "" || e.InvolvedObject.Name == name) {
			out = append(out, e)
		}
	}
	return out
}

func newClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(cluster.Config, client.Options{Scheme: scheme.New()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// operator is probe-tuner's manager running as its own process.
type operator struct {
	cmd         *exec.Cmd
	metricsAddr string
	healthAddr  string
	logPath     string
	// exited is closed once the process has exited and been waited for.
	exited chan struct{}
}

// buildManager builds the manager once per test binary.
func buildManager(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(cluster.Dir, "manager")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/manager")
	cmd.Dir = cluster.Root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the manager: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startOperator runs the manager against the cluster with plain metrics on a free loopback port; extra flags
// are appended. It is stopped (SIGTERM, then SIGKILL) when the test ends.
func startOperator(t *testing.T, name string, flags ...string) *operator {
	t.Helper()
	op := startOperatorProcess(t, name, nil, flags...)
	op.waitReady(t)
	return op
}

// startOperatorProcess starts the manager with extra environment variables and flags, without waiting for it.
func startOperatorProcess(t *testing.T, name string, env []string, flags ...string) *operator {
	t.Helper()
	op := &operator{
		metricsAddr: "127.0.0.1:" + strconv.Itoa(freePort(t)),
		healthAddr:  "127.0.0.1:" + strconv.Itoa(freePort(t)),
		logPath:     filepath.Join(cluster.LocalDir, "logs", name+".log"),
		exited:      make(chan struct{}),
	}
	args := append([]string{"--metrics-bind-address", op.metricsAddr, "--metrics-secure=false", "--health-probe-bind-address", op.healthAddr}, flags...)
	op.cmd = exec.Command(buildManager(t), args...)
	op.cmd.Env = append(append(os.Environ(), "KUBECONFIG="+cluster.Kubeconfig), env...)
	op.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logFile, err := os.Create(op.logPath)
	if err != nil {
		t.Fatal(err)
	}
	op.cmd.Stdout, op.cmd.Stderr = logFile, logFile
	if err := op.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = op.cmd.Wait(); close(op.exited) }()
	t.Cleanup(func() {
		op.stop()
		logFile.Close()
		if t.Failed() {
			tail(t, op.logPath, 40)
		}
	})
	return op
}

// waitReady waits for the operator's /readyz.
func (o *operator) waitReady(t *testing.T) {
	t.Helper()
	eventually(t, 60*time.Second, func() error {
		resp, err := http.Get("http://" + o.healthAddr + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz: %s", resp.Status)
		}
		return nil
	})
}

// waitExit waits for the operator to exit by itself.
func (o *operator) waitExit(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-o.exited:
	case <-time.After(timeout):
		t.Fatalf("the operator did not exit within %s", timeout)
	}
}

func (o *operator) stop() {
	select {
	case <-o.exited:
		return
	default:
	}
	_ = syscall.Kill(-o.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-o.exited:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-o.cmd.Process.Pid, syscall.SIGKILL)
		<-o.exited
	}
}

// metrics returns the operator's metrics in the text format.
func (o *operator) metrics(t *testing.T) string {
	t.Helper()
	resp, err := http.Get("http://" + o.metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("scraping the metrics: %v", err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	return b.String()
}

// metricValue returns the value of the first sample of metric whose labels include every given label pair.
func metricValue(text, metric string, labels ...string) (float64, bool) {
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, metric+"{") {
			continue
		}
		match := true
		for _, l := range labels {
			if !strings.Contains(line, l) {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		return v, err == nil
	}
	return 0, false
}

// eventually polls cond every second until it returns nil, failing the test after timeout.
func eventually(t *testing.T, timeout time.Duration, cond func() error) {
	t.Helper()
	testutil.Eventually(t, timeout, time.Second, cond)
}

func tail(t *testing.T, path string, lines int) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	t.Logf("last lines of %s:\n%s", path, strings.Join(all, "\n"))
}

var background = context.Background()

// kubectlNoFail runs kubectl and returns its output even when it exits non-zero (kubectl auth can-i says "no"
// with exit code 1).
func kubectlNoFail(t *testing.T, args ...string) string {
	t.Helper()
	out, _ := kubectlCmd(args...).Output()
	return string(out)
}

// kubectlIn runs kubectl with input on its standard input (for `-f -`) and returns its output, failing the test
// when it exits non-zero.
func kubectlIn(t *testing.T, input string, args ...string) string {
	t.Helper()
	cmd := kubectlCmd(args...)
	if input != "" {
		cmd.Stdin = strings.NewReader(input)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if input != "" {
			out = append(out, "\ninput:\n"+input...)
		}
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// kill sends SIGKILL to the operator's process group and waits for it: no graceful shutdown, no lease release.
func (o *operator) kill(t *testing.T) {
	t.Helper()
	select {
	case <-o.exited:
		return
	default:
	}
	if err := syscall.Kill(-o.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing the operator: %v", err)
	}
	<-o.exited
}

// alive reports whether the operator process is still running (not exited, not a zombie).
func (o *operator) alive() bool {
	select {
	case <-o.exited:
		return false
	default:
		return true
	}
}

// log returns the operator's log so far.
func (o *operator) log() string {
	b, _ := os.ReadFile(o.logPath)
	return string(b)
}

// httpStatus returns the status code of a GET of path on the operator's health address (0 when unreachable).
func (o *operator) httpStatus(path string) int {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + o.healthAddr + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// followPods samples pods every 2 s for d, listing them with list, and calls check on each pod seen twice in a
// row (prev and cur), skipping pods being deleted. It reports each distinct failure once and returns how many
// pods were seen at least twice, so that a caller can require that the check did not pass empty.
func followPods(t *testing.T, d time.Duration, list func() []corev1.Pod, check func(prev, cur *corev1.Pod) error) int {
	t.Helper()
	last := map[string]*corev1.Pod{}
	watched := map[string]bool{}
	reported := map[string]bool{}
	for end := time.Now().Add(d); ; time.Sleep(2 * time.Second) {
		pods := list()
		next := map[string]*corev1.Pod{}
		for i := range pods {
			cur := &pods[i]
			if cur.DeletionTimestamp != nil {
				continue
			}
			next[cur.Name] = cur
			prev, ok := last[cur.Name]
			if !ok {
				continue
			}
			watched[cur.Name] = true
			if err := check(prev, cur); err != nil && !reported[err.Error()] {
				reported[err.Error()] = true
				t.Error(err)
			}
		}
		last = next
		if time.Now().After(end) {
			return len(watched)
		}
	}
}

// tunedDeployment starts a Deployment labelled app=<name> and tune=<tune>, the label the tests' policies select.
func tunedDeployment(ns, name, tune string) *builders.DeploymentWrapper {
	return builders.MakeDeployment(name, ns).Label("app", name).Label("tune", tune)
}

// lastChangeID is the decision id that the Deployment's probetuner.io/last-change annotation names ("" with an
// error when the annotation is missing or not the JSON probe-tuner writes).
func lastChangeID(d *appsv1.Deployment) (string, error) {
	raw := d.Annotations["probetuner.io/last-change"]
	var lc struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(raw), &lc); err != nil {
		return "", fmt.Errorf("Deployment %s: the probetuner.io/last-change annotation %q: %v", d.Name, raw, err)
	}
	return lc.ID, nil
}
