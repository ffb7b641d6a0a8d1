package localcluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// freePorts returns a free loopback port for the API server and a free pair (p, p+1) for etcd's client and
// peer ports. Another process may take them before cluster-up.sh binds them; start retries then.
func freePorts() (api, etcd int, err error) {
	hold := func(port int) (net.Listener, error) { return net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)) }
	apiLn, err := hold(0)
	if err != nil {
		return 0, 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer apiLn.Close()
	for range 50 {
		a, err := hold(0)
		if err != nil {
			return 0, 0, fmt.Errorf("finding a free port: %w", err)
		}
		p := a.Addr().(*net.TCPAddr).Port
		b, err := hold(p + 1)
		a.Close()
		if err == nil {
			b.Close()
			return apiLn.Addr().(*net.TCPAddr).Port, p, nil
		}
	}
	return 0, 0, errors.New("no two consecutive free loopback ports for etcd")
}

// portTaken reports whether a component's log says that its port was taken.
func (c *Cluster) portTaken() bool {
	for _, name := range []string{"etcd", "kube-apiserver"} {
		b, _ := os.ReadFile(c.LogPath(name))
		if bytes.Contains(b, []byte("address already in use")) {
			return true
		}
	}
	return false
}

// startWatchdog starts a process, in its own session, that runs hack/cluster-down.sh and removes the cluster's
// directory as soon as this process dies: it waits for the end of a pipe whose other end only this process
// holds. Stop kills it before tearing down itself.
func (c *Cluster) startWatchdog() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	script := `read -r _ || true; "$ROOT/hack/cluster-down.sh" >/dev/null 2>&1; rm -rf "$CLUSTER_DIR"`
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = c.Root
	cmd.Env = append(c.env(), "ROOT="+c.Root, "CLUSTER_DIR="+c.Dir)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("starting the cleanup watchdog: %w", err)
	}
	c.watchdog, c.wdPipe = cmd, w
	return nil
}

// stopWatchdog kills the watchdog without letting it tear down.
func (c *Cluster) stopWatchdog() {
	if c.watchdog == nil {
		return
	}
	_ = syscall.Kill(-c.watchdog.Process.Pid, syscall.SIGKILL)
	_ = c.watchdog.Wait()
	_ = c.wdPipe.Close()
	c.watchdog = nil
}

// recordedPIDs returns the pids cluster-up.sh recorded for the components that are still alive.
func (c *Cluster) recordedPIDs() map[string]int {
	out := map[string]int{}
	names := components
	if c.opts.RealNode {
		names = append(realNodeComponents, components...)
	}
	for _, name := range names {
		if pid, err := c.PID(name); err == nil && alive(pid) {
			out[name] = pid
		}
	}
	return out
}

// PID returns the process id of a component started by the cluster scripts ("etcd", "kube-apiserver",
// "kube-controller-manager", "simkubelet").
func (c *Cluster) PID(component string) (int, error) {
	b, err := os.ReadFile(filepath.Join(c.LocalDir, "run", component+".pid"))
	if err != nil {
		return 0, fmt.Errorf("%s was not started by the cluster scripts: %w", component, err)
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// Kill sends sig to a component started by the cluster scripts (Up starts it again).
func (c *Cluster) Kill(component string, sig syscall.Signal) error {
	pid, err := c.PID(component)
	if err != nil {
		return err
	}
	if !alive(pid) {
		return fmt.Errorf("%s (pid %d) is not running", component, pid)
	}
	return syscall.Kill(pid, sig)
}

// Running reports whether a component started by the cluster scripts is alive.
func (c *Cluster) Running(component string) bool {
	pid, err := c.PID(component)
	return err == nil && alive(pid)
}

// alive reports whether pid is a live process (not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && len(b) > 0
}

// LogPath returns the log file of a component.
func (c *Cluster) LogPath(component string) string {
	return filepath.Join(c.LocalDir, "logs", component+".log")
}

// DumpLogs writes the last lines of every component's log to w.
func (c *Cluster) DumpLogs(w io.Writer, lines int) {
	entries, err := os.ReadDir(filepath.Join(c.LocalDir, "logs"))
	if err != nil {
		return
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(c.LocalDir, "logs", e.Name()))
		if err != nil {
			continue
		}
		all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		tail := all[max(0, len(all)-lines):]
		fmt.Fprintf(w, "==> %s (last %d lines) <==\n%s\n", e.Name(), len(tail), strings.Join(tail, "\n"))
	}
}
