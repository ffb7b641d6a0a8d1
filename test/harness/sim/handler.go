package sim

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// handlerKind is the probe mechanism.
type handlerKind uint8

const (
	handlerNone handlerKind = iota
	handlerHTTP
	handlerTCP
	handlerGRPC
	handlerExec
)

// probeHandler holds the complete event messages a probe can produce, built
// once per worker from the probe spec and the pod IP (pkg/probe/http, tcp,
// grpc and exec; prober.go formats "<Type> probe failed: <output>").
type probeHandler struct {
	kind handlerKind
	// errored is set when every run of the probe errors (unresolvable port,
	// no handler): the result is discarded and only an event is written.
	errored string
	// refused: the app does not listen yet (or has exited).
	refused string
	// timeout: the answer did not come within timeoutSeconds.
	timeout string
	// unhealthy: the app answered with an error (HTTP 503, NOT_SERVING, exit 1).
	unhealthy string
	// execExited: an exec probe into a container that has exited.
	execExited string
}

// outcome is the result of one probe run.
type outcome struct {
	res     result
	after   time.Duration // time until the result is known
	msg     string        // event message for failures and errors
	errored bool
}

func newProbeHandler(c *container, t ProbeType, spec *corev1.Probe, timeout time.Duration) probeHandler {
	p := c.p
	failed := t.String() + " probe failed: "
	errored := t.String() + " probe errored and resulted in unknown state: "
	var h probeHandler
	switch {
	case spec.Exec != nil:
		h.kind = handlerExec
		cmd := strings.Join(spec.Exec.Command, " ")
		h.timeout = failed + fmt.Sprintf("command timed out: %q timed out after %s", cmd, timeout)
		h.unhealthy = failed
		h.refused = failed
		h.execExited = errored + "rpc error: code = Unknown desc = failed to exec in container: container is in CONTAINER_EXITED state"
	case spec.HTTPGet != nil:
		h.kind = handlerHTTP
		hostPort, err := p.probeTarget(spec.HTTPGet.Host, spec.HTTPGet.Port, c)
		if err != nil {
			h.errored = errored + err.Error()
			break
		}
		scheme := strings.ToLower(string(spec.HTTPGet.Scheme))
		if scheme == "" {
			scheme = "http"
		}
		u := probeURL(scheme, hostPort, spec.HTTPGet.Path)
		h.refused = failed + fmt.Sprintf("Get %q: dial tcp %s: connect: connection refused", u, hostPort)
		h.timeout = failed + fmt.Sprintf("Get %q: context deadline exceeded (Client.Timeout exceeded while awaiting headers)", u)
		h.unhealthy = failed + "HTTP probe failed with statuscode: 503"
	case spec.TCPSocket != nil:
		h.kind = handlerTCP
		hostPort, err := p.probeTarget(spec.TCPSocket.Host, spec.TCPSocket.Port, c)
		if err != nil {
			h.errored = errored + err.Error()
			break
		}
		h.refused = failed + "dial tcp " + hostPort + ": connect: connection refused"
		h.timeout = failed + "dial tcp " + hostPort + ": i/o timeout"
	case spec.GRPC != nil:
		h.kind = handlerGRPC
		addr := net.JoinHostPort(p.podIP, strconv.Itoa(int(spec.GRPC.Port)))
		// The gRPC prober dials with WithBlock, so a refused connection is
		// retried until the deadline and reported as a connect timeout.
		h.refused = failed + fmt.Sprintf("timeout: failed to connect service %q within %v: context deadline exceeded", addr, timeout)
		h.timeout = failed + fmt.Sprintf("timeout: health rpc did not complete within %v", timeout)
		h.unhealthy = failed + `service unhealthy (responded with "NOT_SERVING")`
	default:
		h.errored = errored + fmt.Sprintf("missing probe handler for %s:%s", p.podDesc(), c.spec.Name)
	}
	return h
}

// probeTarget is the host:port an HTTP or TCP probe dials: its host, else the pod's IP, and its port resolved
// against the container's ports.
func (p *PodSim) probeTarget(host string, port intstr.IntOrString, c *container) (string, error) {
	resolved, err := resolvePort(port, c.spec)
	if err != nil {
		return "", err
	}
	if host == "" {
		host = p.podIP
	}
	return net.JoinHostPort(host, strconv.Itoa(resolved)), nil
}

// probeURL builds the probe URL like pkg/probe/http formatURL.
func probeURL(scheme, hostPort, path string) string {
	u, err := url.Parse(path)
	if err != nil {
		u = &url.URL{Path: path}
	}
	u.Scheme = scheme
	u.Host = hostPort
	return u.String()
}

// resolvePort resolves a named or numbered probe port like
// pkg/probe/util.go ResolveContainerPort, with the same error texts.
func resolvePort(param intstr.IntOrString, c *corev1.Container) (int, error) {
	port := -1
	switch param.Type {
	case intstr.Int:
		port = param.IntValue()
	case intstr.String:
		found := false
		for _, cp := range c.Ports {
			if cp.Name == param.StrVal {
				port, found = int(cp.ContainerPort), true
				break
			}
		}
		if !found {
			n, err := strconv.Atoi(param.StrVal)
			if err != nil {
				return n, err
			}
			port = n
		}
	default:
		return port, fmt.Errorf("intOrString had no kind: %+v", param)
	}
	if port > 0 && port < 65536 {
		return port, nil
	}
	return port, fmt.Errorf("invalid port number: %v", port)
}

// evaluate runs one probe of worker wk against instance in at time now: what
// the app answers, and how long the answer takes.
func (c *container) evaluate(wk *worker, in *instance, now time.Duration) outcome {
	h := &wk.h
	to := wk.timeout
	if h.errored != "" {
		return outcome{msg: h.errored, errored: true}
	}
	fail := func(msg string, after time.Duration) outcome { return outcome{res: resFailure, msg: msg, after: after} }
	// Not listening: exited, or not yet serving.
	if in.exited || now < in.readyAt {
		switch h.kind {
		case handlerGRPC:
			return fail(h.refused, to)
		case handlerExec:
			if in.exited {
				return outcome{msg: h.execExited, errored: true}
			}
		}
		return fail(h.refused, 0)
	}
	if in.hung(now) {
		if h.kind == handlerTCP && !c.b.HangBlocksTCP {
			return outcome{res: resSuccess}
		}
		return fail(h.timeout, to)
	}
	if h.kind == handlerTCP {
		return outcome{res: resSuccess} // the kernel accepts the connection
	}
	lat, _ := c.b.Latency[wk.t].Sample(c.rng)
	if lat >= to {
		return fail(h.timeout, to)
	}
	if in.sigtermAt >= 0 ||
		(c.b.CheckedBy[wk.t] && c.p.w.inOutage(c.b, now)) ||
		(c.b.FailureRate[wk.t] > 0 && c.rng.Float64() < c.b.FailureRate[wk.t]) {
		return fail(h.unhealthy, lat)
	}
	return outcome{res: resSuccess, after: lat}
}
