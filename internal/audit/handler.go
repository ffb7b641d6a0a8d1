package audit

import (
	"fmt"
	"strings"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// tcpLivenessOnHTTP: a TCP probe only sees that the port accepts connections, which the kernel does for a
// listening socket even when the HTTP server behind it hangs; on an HTTP container the liveness probe then
// cannot detect a hang.
func tcpLivenessOnHTTP(t target) []hit {
	l := t.set.Liveness
	if l == nil || l.TCPSocket == nil || !servesHTTP(t) {
		return nil
	}
	return []hit{{probe: probes.Liveness, message: fmt.Sprintf("the liveness probe only opens a TCP connection to port %s, but the container serves HTTP: "+
		"the kernel accepts connections even when the server hangs, so this probe cannot see a hang. Use an httpGet liveness probe on a cheap endpoint that checks only the process",
		l.TCPSocket.Port.String())}}
}

// servesHTTP reports whether the container serves HTTP: its readiness probe is an HTTP request, or it declares
// a port named http or https (or http-..., https-...).
func servesHTTP(t target) bool {
	if r := t.set.Readiness; r != nil && r.HTTPGet != nil {
		return true
	}
	for _, p := range t.c.Ports {
		name := strings.ToLower(p.Name)
		if name == "http" || name == "https" || strings.HasPrefix(name, "http-") || strings.HasPrefix(name, "https-") {
			return true
		}
	}
	return false
}

// livenessOtherHost: the kubelet probes the host a probe names instead of the pod, so a liveness probe with a
// host restarts this container when another one fails. With hostNetwork, the pod's address is the node's, and
// a loopback host still reaches the pod.
func livenessOtherHost(t target) []hit {
	l := t.set.Liveness
	if l == nil {
		return nil
	}
	host := ""
	switch {
	case l.HTTPGet != nil:
		host = l.HTTPGet.Host
	case l.TCPSocket != nil:
		host = l.TCPSocket.Host
	}
	if host == "" || (t.w.Spec.HostNetwork && isLoopback(host)) {
		return nil
	}
	return []hit{{probe: probes.Liveness, message: fmt.Sprintf("the liveness probe checks the host %q instead of the pod: the container is restarted when that host fails, "+
		"and a hang of the container itself goes unseen. Remove host (the kubelet then probes the pod's IP); set a Host header in httpHeaders for a virtual host", host)}}
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}
