package bench

import (
	"fmt"
	"strings"
	"time"
)

// sidecarKind is a kind of native sidecar the sidecar family runs beside the app.
type sidecarKind struct {
	kind string // what it is, for the description
	// names, images and ports are the alternatives of one kind, drawn together (same index).
	names  []string
	images []string
	ports  []int32
}

// sidecarKinds lists the sidecars of the sidecar family: a service-mesh proxy, a log shipper and an auth proxy.
var sidecarKinds = []sidecarKind{
	{
		kind:   "service-mesh proxy",
		names:  []string{"istio-proxy", "envoy", "linkerd-proxy"},
		images: []string{"docker.io/istio/proxyv2:1.26.2", "envoyproxy/envoy:v1.33.2", "cr.l5d.io/linkerd/proxy:edge-25.4.1"},
		ports:  []int32{15021, 9901, 4191},
	},
	{
		kind:   "log shipper",
		names:  []string{"fluent-bit", "vector"},
		images: []string{"fluent/fluent-bit:3.2.4", "timberio/vector:0.46.1-debian"},
		ports:  []int32{2020, 8686},
	},
	{
		kind:   "auth proxy",
		names:  []string{"oauth2-proxy", "auth-proxy"},
		images: []string{"quay.io/oauth2-proxy/oauth2-proxy:v7.8.1", "quay.io/oauth2-proxy/oauth2-proxy:v7.7.1"},
		ports:  []int32{4180, 4181},
	},
}

// Variants of the sidecar family: where the probe problem is, if anywhere.
const (
	sidecarSlowStart = "sidecar-slow-start" // the sidecar starts slower than its liveness window
	sidecarFlapping  = "sidecar-flapping"   // the sidecar's tight readiness probe flaps
	sidecarAppFault  = "app-problem"        // the app has a probe problem, the sidecar is healthy
	sidecarHealthy   = "healthy"            // nobody has a probe problem
	sidecarOOM       = "sidecar-oom"        // the sidecar is OOM killed behind sensible probes: no probe problem
)

// genSidecar: an app container with a native sidecar (an init container with restartPolicy: Always: a
// service-mesh proxy, a log shipper or an auth proxy), and in half the variants a plain init container that
// runs to completion first (or, at times, after the sidecar has started). The probe problem is the sidecar's (a
// start slower than its liveness window, a tight readiness probe that flaps), the app's (slow start, liveness
// tail or readiness flapping, with a healthy sidecar), or nobody's (both healthy, or a sidecar OOM killed behind
// sensible probes). The policy tunes every container, sidecars included, so a problem anywhere is probe-tuner's.
func genSidecar(d *draw) *genScenario {
	kind := pick(d, "kind", sidecarKinds...)
	variant := pick(d, "variant", sidecarSlowStart, sidecarFlapping, sidecarAppFault, sidecarHealthy, sidecarOOM)
	withInit := pick(d, "init", false, true)
	s := newScenario(d, time.Duration(d.intn(2, 4))*time.Hour, pick(d, "replicas", int32(2), 3, 4))

	which := d.r.IntN(len(kind.names))
	sidecarHandler := pick(d, "sidecar-handler", handlerHTTP, handlerHTTP, handlerTCP, handlerExec)
	appHandler := pick(d, "handler", allHandlers...)
	sidecarBehaviour, appBehaviour := behaviourFine, behaviourFine
	switch variant {
	case sidecarSlowStart:
		sidecarBehaviour = behaviourSlowStart
	case sidecarFlapping:
		sidecarBehaviour = behaviourFlapping
	case sidecarOOM:
		sidecarBehaviour = behaviourOOM
	case sidecarAppFault:
		appBehaviour = pick(d, "app-problem", behaviourSlowStart, behaviourTail, behaviourFlapping)
	}
	if sidecarBehaviour == behaviourFlapping && sidecarHandler == handlerTCP {
		sidecarHandler = handlerHTTP // a TCP probe sees no error answers
	}
	if (appBehaviour == behaviourTail || appBehaviour == behaviourFlapping) && appHandler == handlerTCP {
		appHandler = pick(d, "answering-handler", answeringHandlers...)
	}

	sc := newContainer(d, kind.names[which], kind.images[which], sidecarHandler)
	sc.port, sc.sidecar = kind.ports[which], true
	app := newContainer(d, s.app, image(s, s.app, 1), appHandler)
	s.initContainers = []*genContainer{sc}
	s.containers = []*genContainer{app}
	sidecarProblem, sidecarWhat := containerBehaviour(d, s, sc, sidecarBehaviour)
	appProblem, appWhat := containerBehaviour(d, s, app, appBehaviour)
	s.problem = sidecarProblem || appProblem

	layout := fmt.Sprintf("%s (%s, %s)", sc.name, kind.kind, sc.handler)
	if withInit {
		plain := plainInitContainer(d, s)
		where := "before it"
		if d.chance(0.3) {
			s.initContainers = append(s.initContainers, plain)
			where = "after it (once the sidecar has started)"
		} else {
			s.initContainers = append([]*genContainer{plain}, s.initContainers...)
		}
		layout += fmt.Sprintf(", with a plain init container %s that runs to completion %s", plain.name, where)
	}
	var verdict string
	switch {
	case sidecarProblem && appProblem:
		verdict = "both the sidecar and the app have a probe problem"
	case sidecarProblem:
		verdict = "the probe problem is the sidecar's: the fix belongs on its probes, the app's are fine"
	case appProblem:
		verdict = "the probe problem is the app's: the sidecar's probes must stay as they are"
	default:
		verdict = "no container has a probe problem: the right answer is to change nothing"
	}
	probeTTDPolicy(s)
	s.description = fmt.Sprintf("Generated sidecar variant (%s): an app %s (%s) beside the native sidecar %s, %d replica(s). The sidecar %s; the app %s; %s.",
		variant, app.name, app.handler, layout, s.replicas, sidecarWhat, appWhat, verdict)
	return s
}

// plainInitContainer is an init container without probes or behaviour annotations (the simulator completes it
// the moment it is reached): a schema migration or a wait for a dependency.
func plainInitContainer(d *draw, s *genScenario) *genContainer {
	if d.chance(0.5) {
		return &genContainer{name: "migrate", image: image(s, s.app, 1), command: []string{"/app/migrate", "up"}}
	}
	script := fmt.Sprintf("until nc -z %s-db 5432; do sleep 1; done", s.app)
	return &genContainer{name: "wait-for-db", image: "busybox:1.37", command: []string{"/bin/sh", "-c", quoteYAML(script)}}
}

// quoteYAML writes s as a double-quoted YAML scalar.
func quoteYAML(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
