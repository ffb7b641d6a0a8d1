package audit

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// probePort returns the port a probe's handler connects to; false for an exec probe (or no handler).
func probePort(p *corev1.Probe) (intstr.IntOrString, bool) {
	switch {
	case p.HTTPGet != nil:
		return p.HTTPGet.Port, true
	case p.TCPSocket != nil:
		return p.TCPSocket.Port, true
	case p.GRPC != nil:
		return intstr.FromInt32(p.GRPC.Port), true
	}
	return intstr.IntOrString{}, false
}

// namedPortMissing: the kubelet cannot resolve a named port the container does not declare, so the probe fails
// on every run; a liveness or startup probe then restarts the container forever.
func namedPortMissing(t target) []hit {
	var out []hit
	for _, k := range probes.Kinds {
		p := t.set.Get(k)
		if p == nil {
			continue
		}
		if port, ok := probePort(p); ok && port.Type == intstr.String && !declaresName(t.c, port.StrVal) {
			out = append(out, hit{probe: k, message: fmt.Sprintf("the %s probe uses the named port %q, which the container does not declare: the probe fails on every run. "+
				"Add a containerPort named %q, or use the port's number", k, port.StrVal, port.StrVal)})
		}
	}
	return out
}

// portNotDeclared: a probe on a port number the container does not declare often probes a port nothing
// listens on (a port changed in the image but not in the probe).
func portNotDeclared(t target) []hit {
	var out []hit
	for _, k := range probes.Kinds {
		p := t.set.Get(k)
		if p == nil {
			continue
		}
		if port, ok := probePort(p); ok && port.Type == intstr.Int && !declaresNumber(t.c, port.IntVal) {
			out = append(out, hit{probe: k, message: fmt.Sprintf("the %s probe uses port %d, which the container does not declare: check that the application listens on it, "+
				"and declare it as a containerPort (or point the probe at a declared port)", k, port.IntVal)})
		}
	}
	return out
}

func declaresName(c *corev1.Container, name string) bool {
	for _, p := range c.Ports {
		if p.Name == name {
			return true
		}
	}
	return false
}

func declaresNumber(c *corev1.Container, n int32) bool {
	for _, p := range c.Ports {
		if p.ContainerPort == n {
			return true
		}
	}
	return false
}
