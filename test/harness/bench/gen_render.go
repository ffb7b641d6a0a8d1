package bench

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/probetuner/probe-tuner/internal/probes"
)

// genScenario is a generated scenario before it is written as YAML.
type genScenario struct {
	name        string
	description string
	duration    time.Duration
	seed        uint64
	replicas    int32
	problem     bool
	app, ns     string
	// annotations are the pod template's behaviour annotations, keys without the domain
	// ("startup", "api.startup" for one container).
	annotations map[string]string
	// initContainers are written under spec.initContainers, in order: plain init containers and native sidecars.
	initContainers []*genContainer
	containers     []*genContainer
	policy         genPolicy
	events         []genEvent
}

// genContainer is one container and its probes.
type genContainer struct {
	name, image string
	handler     handlerKind
	port        int32
	startup     *genProbe
	liveness    *genProbe
	readiness   *genProbe
	// sidecar makes an init container a native sidecar (restartPolicy: Always); command is a plain init
	// container's command.
	sidecar bool
	command []string
}

// genProbe holds a probe's timing fields; zero leaves a field to its API default. successThreshold is always
// the default: no family is about it.
type genProbe struct {
	delay, period, timeout, failure int32
}

// values returns the timing fields with the API defaults filled in.
func (p genProbe) values() genProbe {
	v := probes.Of(&corev1.Probe{InitialDelaySeconds: p.delay, PeriodSeconds: p.period, TimeoutSeconds: p.timeout, FailureThreshold: p.failure})
	return genProbe{delay: v.InitialDelaySeconds, period: v.PeriodSeconds, timeout: v.TimeoutSeconds, failure: v.FailureThreshold}
}

// budget is initialDelaySeconds + failureThreshold x periodSeconds: the latest a start can complete and survive.
func (p genProbe) budget() int32 { v := p.values(); return v.delay + v.failure*v.period }

// killWindow is initialDelaySeconds + (failureThreshold-1) x periodSeconds: the probe's first run may come at
// once, so a start longer than this can be killed.
func (p genProbe) killWindow() int32 { v := p.values(); return v.delay + (v.failure-1)*v.period }

// timeToDetect is failureThreshold x periodSeconds + timeoutSeconds, as the policy bounds it.
func (p genProbe) timeToDetect() int32 { v := p.values(); return v.failure*v.period + v.timeout }

// genPolicy holds the ProbePolicy fields a generated scenario sets; zero leaves the default.
type genPolicy struct {
	containers      []string
	maxBudget       int32
	maxTimeToDetect int32
	flapTolerance   int32
}

// genEvent is one scenario event, written in flow style.
type genEvent struct {
	at   time.Duration
	body string // "deploy: {...}", "outage: {...}", "hang: {...}"
}

type handlerKind uint8

const (
	handlerHTTP handlerKind = iota
	handlerTCP
	handlerGRPC
	handlerExec
)

// allHandlers lists the four probe handlers.
var allHandlers = []handlerKind{handlerHTTP, handlerTCP, handlerGRPC, handlerExec}

// answeringHandlers are the handlers whose probes see answer times, error answers and hangs (a TCP connect
// succeeds whatever the app does).
var answeringHandlers = []handlerKind{handlerHTTP, handlerGRPC, handlerExec}

func (h handlerKind) String() string {
	return [...]string{"httpGet", "tcpSocket", "grpc", "exec"}[h]
}

// renderHandler writes the handler of one probe; path is the HTTP path.
func (c *genContainer) renderHandler(path string) string {
	switch c.handler {
	case handlerTCP:
		return fmt.Sprintf("tcpSocket: {port: %d}", c.port)
	case handlerGRPC:
		return fmt.Sprintf("grpc: {port: %d}", c.port)
	case handlerExec:
		return fmt.Sprintf("exec: {command: [/bin/sh, -c, %q]}", "/app/healthcheck "+strings.TrimPrefix(path, "/"))
	}
	return fmt.Sprintf("httpGet: {path: %s, port: http}", path)
}

func (c *genContainer) portLine() string {
	name := map[handlerKind]string{handlerHTTP: "http", handlerTCP: "tcp", handlerGRPC: "grpc", handlerExec: "http"}[c.handler]
	return fmt.Sprintf("[{name: %s, containerPort: %d}]", name, c.port)
}

func renderProbe(c *genContainer, kind, path string, p *genProbe) string {
	fields := []string{c.renderHandler(path)}
	add := func(name string, v int32) {
		if v != 0 {
			fields = append(fields, fmt.Sprintf("%s: %d", name, v))
		}
	}
	add("initialDelaySeconds", p.delay)
	add("periodSeconds", p.period)
	add("timeoutSeconds", p.timeout)
	add("failureThreshold", p.failure)
	return fmt.Sprintf("          %s: {%s}\n", kind, strings.Join(fields, ", "))
}

// render writes the scenario file.
func (s *genScenario) render() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\n", s.name)
	b.WriteString("description: >-\n")
	for _, line := range wrap(s.description, 110) {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	fmt.Fprintf(&b, "duration: %s\nseed: %d\nreplicas: %d\nprobeProblem: %t\n", fmtDur(s.duration), s.seed, s.replicas, s.problem)
	b.WriteString("deployment:\n")
	fmt.Fprintf(&b, "  metadata: {name: %s, namespace: %s}\n", s.app, s.ns)
	b.WriteString("  spec:\n    template:\n      metadata:\n")
	fmt.Fprintf(&b, "        labels: {app: %s}\n", s.app)
	if len(s.annotations) > 0 {
		b.WriteString("        annotations:\n")
		for _, k := range sortedAnnotationKeys(s.annotations) {
			fmt.Fprintf(&b, "          %s: %q\n", annotationKey(k), s.annotations[k])
		}
	}
	b.WriteString("      spec:\n")
	if len(s.initContainers) > 0 {
		b.WriteString("        initContainers:\n")
		for _, c := range s.initContainers {
			c.render(&b)
		}
	}
	b.WriteString("        containers:\n")
	for _, c := range s.containers {
		c.render(&b)
	}
	b.WriteString("policy:\n  mode: Auto\n")
	p := s.policy
	if len(p.containers) > 0 {
		fmt.Fprintf(&b, "  containers: [%s]\n", strings.Join(p.containers, ", "))
	}
	if p.maxBudget != 0 {
		fmt.Fprintf(&b, "  startup: {maxBudgetSeconds: %d}\n", p.maxBudget)
	}
	if p.maxTimeToDetect != 0 {
		fmt.Fprintf(&b, "  liveness: {maxTimeToDetectSeconds: %d}\n", p.maxTimeToDetect)
	}
	if p.flapTolerance != 0 {
		fmt.Fprintf(&b, "  readiness: {flappingTolerancePerHour: %d}\n", p.flapTolerance)
	}
	if len(s.events) > 0 {
		events := append([]genEvent(nil), s.events...)
		sort.SliceStable(events, func(i, j int) bool { return events[i].at < events[j].at })
		b.WriteString("events:\n")
		for _, e := range events {
			fmt.Fprintf(&b, "- {at: %s, %s}\n", fmtDur(e.at), e.body)
		}
	}
	return []byte(b.String())
}

// render writes the container as an item of a pod spec's container list.
func (c *genContainer) render(b *strings.Builder) {
	fmt.Fprintf(b, "        - name: %s\n          image: %s\n", c.name, c.image)
	if len(c.command) > 0 {
		fmt.Fprintf(b, "          command: [%s]\n", strings.Join(c.command, ", "))
	}
	if c.sidecar {
		b.WriteString("          restartPolicy: Always\n")
	}
	if c.port != 0 {
		fmt.Fprintf(b, "          ports: %s\n", c.portLine())
	}
	if c.startup != nil {
		b.WriteString(renderProbe(c, "startupProbe", "/healthz", c.startup))
	}
	if c.liveness != nil {
		b.WriteString(renderProbe(c, "livenessProbe", "/healthz", c.liveness))
	}
	if c.readiness != nil {
		b.WriteString(renderProbe(c, "readinessProbe", "/ready", c.readiness))
	}
}

// annotationKey turns "startup" into sim.probetuner.io/startup and "api.startup" into
// api.sim.probetuner.io/startup.
func annotationKey(k string) string {
	if c, key, ok := strings.Cut(k, "."); ok {
		return c + ".sim.probetuner.io/" + key
	}
	return "sim.probetuner.io/" + k
}

// sortedAnnotationKeys orders pod-wide keys first, then per-container ones, each alphabetically.
func sortedAnnotationKeys(m map[string]string) []string {
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool {
		return !strings.Contains(keys[i], ".") && strings.Contains(keys[j], ".")
	})
	return keys
}

// wrap breaks text into lines of at most width characters at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// deployEvent renders a release of the given image with annotation changes (keys as in genScenario).
func deployEvent(at time.Duration, container, image string, annotations map[string]string) genEvent {
	body := fmt.Sprintf("deploy: {images: {%s: %s}", container, image)
	if len(annotations) > 0 {
		var parts []string
		for _, k := range sortedAnnotationKeys(annotations) {
			parts = append(parts, fmt.Sprintf("%s: %q", annotationKey(k), annotations[k]))
		}
		body += ", annotations: {" + strings.Join(parts, ", ") + "}"
	}
	return genEvent{at: at, body: body + "}"}
}

func hangEvent(at time.Duration, pod int, container string) genEvent {
	body := fmt.Sprintf("hang: {pod: %d}", pod)
	if container != "" {
		body = fmt.Sprintf("hang: {pod: %d, container: %s}", pod, container)
	}
	return genEvent{at: at, body: body}
}

func outageEvent(at time.Duration, dependency string, length time.Duration) genEvent {
	return genEvent{at: at, body: fmt.Sprintf("outage: {dependency: %s, for: %s}", dependency, fmtDur(length))}
}
