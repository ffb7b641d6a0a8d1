package builders

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ContainerWrapper builds a container.
type ContainerWrapper struct{ corev1.Container }

// MakeContainer starts a container with a name and an image, and nothing else.
func MakeContainer(name, image string) *ContainerWrapper {
	return &ContainerWrapper{corev1.Container{Name: name, Image: image}}
}

// Obj returns the container built so far, by value as a pod spec holds it.
func (c *ContainerWrapper) Obj() corev1.Container { return c.Container }

// Port adds a named container port.
func (c *ContainerWrapper) Port(name string, port int32) *ContainerWrapper {
	c.Ports = append(c.Ports, corev1.ContainerPort{Name: name, ContainerPort: port})
	return c
}

// Probe sets the container's probe of each p's kind (its startup, liveness or readiness probe) to p; of two
// probes of one kind, the later wins.
func (c *ContainerWrapper) Probe(ps ...*ProbeWrapper) *ContainerWrapper {
	for _, p := range ps {
		switch p.kind {
		case Startup:
			c.StartupProbe = p.Obj()
		case Liveness:
			c.LivenessProbe = p.Obj()
		case Readiness:
			c.ReadinessProbe = p.Obj()
		default:
			panic("builders: probe of unknown kind " + string(p.kind))
		}
	}
	return c
}

// Sidecar makes the container a native sidecar (restartPolicy Always), for use as an init container.
func (c *ContainerWrapper) Sidecar() *ContainerWrapper {
	always := corev1.ContainerRestartPolicyAlways
	c.RestartPolicy = &always
	return c
}

// ProbeKind says which of a container's probes a probe is.
type ProbeKind string

// The kinds of probe.
const (
	Startup   ProbeKind = "startup"
	Liveness  ProbeKind = "liveness"
	Readiness ProbeKind = "readiness"
)

// ProbeWrapper builds a probe of one kind.
type ProbeWrapper struct {
	kind ProbeKind
	corev1.Probe
}

// MakeProbe starts a probe of the kind, with no handler and every field left to the API server's default.
func MakeProbe(kind ProbeKind) *ProbeWrapper { return &ProbeWrapper{kind: kind} }

// Obj returns a copy of the probe built so far.
func (p *ProbeWrapper) Obj() *corev1.Probe { return p.DeepCopy() }

// Kind is the probe's kind.
func (p *ProbeWrapper) Kind() ProbeKind { return p.kind }

// HTTPGet makes the probe an httpGet of path on a port number.
func (p *ProbeWrapper) HTTPGet(path string, port int32) *ProbeWrapper {
	return p.httpGet(path, intstr.FromInt32(port))
}

// HTTPGetNamed makes the probe an httpGet of path on a named container port.
func (p *ProbeWrapper) HTTPGetNamed(path, port string) *ProbeWrapper {
	return p.httpGet(path, intstr.FromString(port))
}

func (p *ProbeWrapper) httpGet(path string, port intstr.IntOrString) *ProbeWrapper {
	p.ProbeHandler = corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: port}}
	return p
}

// TCPSocket makes the probe a tcpSocket probe of a port number.
func (p *ProbeWrapper) TCPSocket(port int32) *ProbeWrapper {
	p.ProbeHandler = corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(port)}}
	return p
}

// TCPSocketNamed makes the probe a tcpSocket probe of a named container port.
func (p *ProbeWrapper) TCPSocketNamed(port string) *ProbeWrapper {
	p.ProbeHandler = corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString(port)}}
	return p
}

// GRPC makes the probe a gRPC health check on a port.
func (p *ProbeWrapper) GRPC(port int32) *ProbeWrapper {
	p.ProbeHandler = corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: port}}
	return p
}

// Exec makes the probe an exec probe of a command.
func (p *ProbeWrapper) Exec(command ...string) *ProbeWrapper {
	p.ProbeHandler = corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: command}}
	return p
}

// InitialDelay sets initialDelaySeconds.
func (p *ProbeWrapper) InitialDelay(seconds int32) *ProbeWrapper {
	p.InitialDelaySeconds = seconds
	return p
}

// Period sets periodSeconds.
func (p *ProbeWrapper) Period(seconds int32) *ProbeWrapper {
	p.PeriodSeconds = seconds
	return p
}

// Timeout sets timeoutSeconds.
func (p *ProbeWrapper) Timeout(seconds int32) *ProbeWrapper {
	p.TimeoutSeconds = seconds
	return p
}

// SuccessThreshold sets successThreshold.
func (p *ProbeWrapper) SuccessThreshold(n int32) *ProbeWrapper {
	p.Probe.SuccessThreshold = n
	return p
}

// FailureThreshold sets failureThreshold.
func (p *ProbeWrapper) FailureThreshold(n int32) *ProbeWrapper {
	p.Probe.FailureThreshold = n
	return p
}
