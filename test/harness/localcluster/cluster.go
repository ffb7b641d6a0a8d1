// Package localcluster starts a real local control plane for tests: etcd, kube-apiserver and
// kube-controller-manager from bin/k8s, started by hack/cluster-up.sh in a private state directory on free
// loopback ports (so it collides neither with a developer's `make cluster-up` cluster nor with another test
// package), optionally with the simulated kubelet as a process (bin/simkubelet built from ./test/harness/cmd/simkubelet)
// or in-process (test/harness/simkubelet). Stop, or the test's cleanup, tears everything down with
// hack/cluster-down.sh; a watchdog process does the same if the test process dies without cleaning up
// (a `go test -timeout` panic, a kill), and leftover processes are killed by process group.
package localcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/probetuner/probe-tuner/test/harness/simkubelet"
)

// SimKubeletMode says whether and how the simulated kubelet runs.
type SimKubeletMode int

const (
	// NoSimKubelet starts no kubelet: the cluster has no nodes and pods stay pending.
	NoSimKubelet SimKubeletMode = iota
	// SimKubeletProcess runs the simkubelet binary, started (and stopped) by the cluster scripts like the other
	// components, so that tests can kill and restart it.
	SimKubeletProcess
	// SimKubeletInProcess runs the driver in the test process (Cluster.SimKubelet), with its statistics at hand.
	SimKubeletInProcess
)

// Options configure a local cluster.
type Options struct {
	// SimKubelet selects the simulated kubelet; Nodes is its number of nodes (default 2).
	SimKubelet SimKubeletMode
	Nodes      int
	// SimKubeletFlags are extra flags of the simkubelet process (no spaces inside a flag or value).
	SimKubeletFlags []string
	// SimKubeletBinary is the simkubelet binary to run; empty builds ./test/harness/cmd/simkubelet for this cluster.
	SimKubeletBinary string
	// SimKubeletConfig configures the in-process driver (Nodes above wins when set; Logger defaults to the
	// cluster's logs/simkubelet.log).
	SimKubeletConfig simkubelet.Config
	// RealNode starts kube-scheduler, containerd and a real kubelet instead of a simulated kubelet (NODE=real of
	// the cluster scripts: root, binaries in bin/k8s-node, one real node per machine at a time; see
	// docs/real-node.md). SimKubelet must be NoSimKubelet.
	RealNode bool
	// Logf receives progress messages; nil discards them (Start uses the test's log).
	Logf func(format string, args ...any)
	// EventTTL is how long kube-apiserver keeps Events; zero: its default, 1 h.
	EventTTL time.Duration
}

// Cluster is a running local cluster.
type Cluster struct {
	// Root is the repository root, Dir the cluster's private directory, LocalDir its LOCAL_DIR (state and logs).
	Root, Dir, LocalDir string
	// Kubeconfig is the admin kubeconfig; Config and Client are built from it.
	Kubeconfig string
	Config     *rest.Config
	Client     kubernetes.Interface
	// APIPort and EtcdPort are the loopback ports (etcd's peer port is EtcdPort+1).
	APIPort, EtcdPort int
	// Nodes are the names of the Ready nodes the cluster waited for: the simulated kubelet's, or the real node.
	Nodes []string
	// NodeIP is the real node's InternalIP, the machine's own address, on which its pods reach the API server
	// (there is no kube-proxy for the kubernetes Service's ClusterIP); empty without a real node.
	NodeIP string
	// SimKubelet is the in-process driver (SimKubeletInProcess only, while it runs).
	SimKubelet *simkubelet.Driver

	opts     Options
	k8sBin   string
	simBin   string
	logf     func(string, ...any)
	watchdog *exec.Cmd
	wdPipe   *os.File

	mu        sync.Mutex
	simCancel context.CancelFunc
	simDone   chan error
	simLog    *os.File
	stopped   bool
}

// components are the processes cluster-up.sh starts, in the order cluster-down.sh stops them.
var components = []string{"simkubelet", "kube-controller-manager", "kube-apiserver", "etcd"}

// realNodeComponents are the processes a real node adds (hack/node-up.sh).
var realNodeComponents = []string{"kubelet", "containerd", "kube-scheduler"}

// RealNodeName is the real node's name (NODE_NAME of the cluster scripts).
const RealNodeName = "real-node"

// New starts a cluster; the caller must call Stop (TestMain: defer it, before os.Exit). It fails with a
// message naming `make control-plane` when the control-plane binaries are missing.
func New(opts Options) (*Cluster, error) {
	if opts.RealNode && opts.SimKubelet != NoSimKubelet {
		return nil, errors.New("localcluster: RealNode runs no simulated kubelet; leave SimKubelet at NoSimKubelet")
	}
	if opts.Nodes == 0 {
		opts.Nodes = 2
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	k8sBin := os.Getenv("KUBEBUILDER_ASSETS")
	if k8sBin == "" {
		k8sBin = filepath.Join(root, "bin", "k8s")
	}
	if err := checkBinaries(k8sBin); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "probetuner-cluster-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Root: root, Dir: dir, LocalDir: filepath.Join(dir, "local"), opts: opts, k8sBin: k8sBin, logf: logf}
	c.Kubeconfig = filepath.Join(c.LocalDir, "kubeconfig")
	if err := c.start(); err != nil {
		var b strings.Builder
		c.DumpLogs(&b, 30)
		_ = c.Stop()
		return nil, fmt.Errorf("%w\n%s", err, b.String())
	}
	return c, nil
}

// start builds what it needs, starts the control plane (retrying with other ports if one was taken
// meanwhile), the watchdog and the simulated kubelet, and waits until the cluster is usable.
func (c *Cluster) start() error {
	began := time.Now()
	if c.opts.SimKubelet == SimKubeletProcess {
		c.simBin = c.opts.SimKubeletBinary
		if c.simBin == "" {
			c.simBin = filepath.Join(c.Dir, "bin", "simkubelet")
			if err := c.buildSimKubelet(); err != nil {
				return err
			}
		}
	}
	if err := c.startWatchdog(); err != nil {
		return err
	}
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if c.APIPort, c.EtcdPort, err = freePorts(); err != nil {
			return err
		}
		var out []byte
		if out, err = c.script("cluster-up.sh"); err == nil {
			break
		}
		err = fmt.Errorf("hack/cluster-up.sh: %w\n%s", err, out)
		if !c.portTaken() || attempt == 3 {
			return err
		}
		c.logf("localcluster: a port was taken meanwhile, retrying on other ports")
		if out, err := c.script("cluster-down.sh"); err != nil {
			return fmt.Errorf("hack/cluster-down.sh: %w\n%s", err, out)
		}
	}
	if c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
		return fmt.Errorf("reading %s: %w", c.Kubeconfig, err)
	}
	c.Config.QPS, c.Config.Burst = 100, 200
	if c.Client, err = kubernetes.NewForConfig(c.Config); err != nil {
		return err
	}
	if c.opts.SimKubelet == SimKubeletInProcess {
		if err := c.StartSimKubelet(c.opts.SimKubeletConfig); err != nil {
			return err
		}
	}
	if err := c.waitUsable(); err != nil {
		return err
	}
	c.logf("localcluster: up in %s at https://127.0.0.1:%d (%s, %d node(s)); state in %s",
		time.Since(began).Round(100*time.Millisecond), c.APIPort, c.modeName(), len(c.Nodes), c.LocalDir)
	return nil
}

func (c *Cluster) modeName() string {
	if c.opts.RealNode {
		return "real kubelet and containerd"
	}
	switch c.opts.SimKubelet {
	case SimKubeletProcess:
		return "simkubelet process"
	case SimKubeletInProcess:
		return "in-process simkubelet"
	}
	return "no kubelet"
}

// env returns the environment of the cluster scripts.
func (c *Cluster) env() []string {
	sim, node, eventTTL := "none", "sim", "" // an empty EVENT_TTL is cluster-up.sh's default
	if c.opts.EventTTL > 0 {
		eventTTL = c.opts.EventTTL.String()
	}
	if c.opts.SimKubelet == SimKubeletProcess {
		sim = c.simBin
	}
	if c.opts.RealNode {
		node = "real"
	}
	return append(os.Environ(),
		"NODE="+node,
		"NODE_NAME="+RealNodeName,
		"LOCAL_DIR="+c.LocalDir,
		"K8S_BIN="+c.k8sBin,
		"API_PORT="+strconv.Itoa(c.APIPort),
		"ETCD_PORT="+strconv.Itoa(c.EtcdPort),
		"SIMKUBELET="+sim,
		"SIM_NODES="+strconv.Itoa(c.opts.Nodes),
		"SIMKUBELET_FLAGS="+strings.Join(c.opts.SimKubeletFlags, " "),
		"KUBECTL="+filepath.Join(c.k8sBin, "kubectl"),
		"EVENT_TTL="+eventTTL,
	)
}

// script runs one of the hack/ cluster scripts and returns its output.
func (c *Cluster) script(name string) ([]byte, error) {
	cmd := exec.Command("bash", filepath.Join(c.Root, "hack", name))
	cmd.Dir = c.Root
	cmd.Env = c.env()
	return cmd.CombinedOutput()
}

// Up runs hack/cluster-up.sh again: components that were killed are started again (it is idempotent).
func (c *Cluster) Up() error {
	if out, err := c.script("cluster-up.sh"); err != nil {
		return fmt.Errorf("hack/cluster-up.sh: %w\n%s", err, out)
	}
	return nil
}

// waitUsable waits until the default service account exists (pods can be created) and, with a simulated
// kubelet, until its nodes are Ready.
func (c *Cluster) waitUsable() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		err := c.usable(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the cluster did not become usable within 60s: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *Cluster) usable(ctx context.Context) error {
	if _, err := c.Client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{}); err != nil {
		return fmt.Errorf("default service account: %w", err)
	}
	if c.opts.RealNode {
		return c.realNodeReady(ctx)
	}
	if c.opts.SimKubelet == NoSimKubelet {
		return nil
	}
	nodes, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: simkubelet.SimulatedNodeLabel + "=true"})
	if err != nil {
		return err
	}
	var ready []string
	for _, n := range nodes.Items {
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				ready = append(ready, n.Name)
			}
		}
	}
	if len(ready) < c.opts.Nodes {
		return fmt.Errorf("%d of %d simulated nodes Ready", len(ready), c.opts.Nodes)
	}
	c.Nodes = ready
	return nil
}

// realNodeReady checks that the real node is Ready and notes its address.
func (c *Cluster) realNodeReady(ctx context.Context) error {
	n, err := c.Client.CoreV1().Nodes().Get(ctx, RealNodeName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("node %s: %w", RealNodeName, err)
	}
	ready := false
	for _, cond := range n.Status.Conditions {
		ready = ready || (cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue)
	}
	if !ready {
		return fmt.Errorf("node %s is not Ready", RealNodeName)
	}
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			c.NodeIP = a.Address
		}
	}
	if c.NodeIP == "" {
		return fmt.Errorf("node %s has no InternalIP", RealNodeName)
	}
	c.Nodes = []string{RealNodeName}
	return nil
}

// Stop stops the simulated kubelet and the control plane, kills whatever survived, and removes the cluster's
// directory. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	c.mu.Unlock()
	var errs []error
	if err := c.StopSimKubelet(); err != nil {
		errs = append(errs, err)
	}
	c.stopWatchdog()
	pids := c.recordedPIDs()
	if out, err := c.script("cluster-down.sh"); err != nil {
		errs = append(errs, fmt.Errorf("hack/cluster-down.sh: %w\n%s", err, out))
	}
	for name, pid := range pids {
		if alive(pid) {
			errs = append(errs, fmt.Errorf("%s (pid %d) survived cluster-down.sh: killed", name, pid))
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// repoRoot returns the module root, three directories above this file.
func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the repository root")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	if _, err := os.Stat(filepath.Join(root, "hack", "cluster-up.sh")); err != nil {
		return "", fmt.Errorf("repository root %s: %w", root, err)
	}
	return filepath.Abs(root)
}

// checkBinaries fails with instructions when the control plane has not been built.
func checkBinaries(dir string) error {
	var missing []string
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl", "localpki"} {
		if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the local control plane is not built: %s missing in %s; run `make control-plane` "+
			"(`make test` builds it before running the tests)", strings.Join(missing, ", "), dir)
	}
	return nil
}

// buildSimKubelet builds ./test/harness/cmd/simkubelet into the cluster's directory.
func (c *Cluster) buildSimKubelet() error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		if goroot := os.Getenv("GOROOT"); goroot != "" {
			goTool = filepath.Join(goroot, "bin", "go")
		} else {
			return fmt.Errorf("building simkubelet: the go command is not on PATH: %w", err)
		}
	}
	start := time.Now()
	cmd := exec.Command(goTool, "build", "-o", c.simBin, "./test/harness/cmd/simkubelet")
	cmd.Dir = c.Root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building simkubelet: %w\n%s", err, out.String())
	}
	c.logf("localcluster: built simkubelet in %s", time.Since(start).Round(100*time.Millisecond))
	return nil
}
