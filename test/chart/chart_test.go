//go:build chart

// Package chart renders dist/chart with helm for the value sets people install with and checks the objects:
// run with `make test-chart` (it builds helm into bin/ first).
package chart

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func render(t *testing.T, args ...string) []*unstructured.Unstructured {
	t.Helper()
	helm := os.Getenv("HELM")
	if helm == "" {
		helm = "../../bin/helm"
	}
	cmd := exec.Command(helm, append([]string{"template", "pt", "../../dist/chart", "-n", "probe-tuner-system"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template %v: %v\n%s", args, err, stderr.String())
	}
	var objs []*unstructured.Unstructured
	for _, doc := range strings.Split(string(out), "\n---") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("parsing a rendered document: %v\n%s", err, doc)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	return objs
}

func byKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func managerArgs(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	deps := byKind(objs, "Deployment")
	if len(deps) != 1 {
		t.Fatalf("%d Deployments, want 1", len(deps))
	}
	cs, _, _ := unstructured.NestedSlice(deps[0].Object, "spec", "template", "spec", "containers")
	args, _, _ := unstructured.NestedStringSlice(cs[0].(map[string]any), "args")
	return args
}

func TestDefaultValues(t *testing.T) {
	objs := render(t)
	if n := len(byKind(objs, "CustomResourceDefinition")); n != 1 {
		t.Errorf("%d CRDs, want 1", n)
	}
	for _, k := range []string{"ServiceMonitor", "PrometheusRule"} {
		if n := len(byKind(objs, k)); n != 0 {
			t.Errorf("%d %s by default, want none", n, k)
		}
	}
	// The manager's ClusterRole carries the rules generated into config/rbac/role.yaml.
	var generated map[string]any
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &generated); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, cr := range byKind(objs, "ClusterRole") {
		if strings.HasSuffix(cr.GetName(), "manager-role") {
			found = true
			if !reflect.DeepEqual(cr.Object["rules"], generated["rules"]) {
				t.Errorf("manager ClusterRole rules differ from config/rbac/role.yaml")
			}
		}
	}
	if !found {
		t.Error("no manager ClusterRole with the default values")
	}
	args := strings.Join(managerArgs(t, objs), " ")
	for _, want := range []string{"--leader-elect", "--metrics-secure=true"} {
		if !strings.Contains(args, want) {
			t.Errorf("manager args %q lack %s", args, want)
		}
	}
	if strings.Contains(args, "--watch-namespaces") {
		t.Errorf("manager args %q restrict namespaces by default", args)
	}
	// The restricted Pod Security profile.
	dep := byKind(objs, "Deployment")[0]
	if v, _, _ := unstructured.NestedBool(dep.Object, "spec", "template", "spec", "securityContext", "runAsNonRoot"); !v {
		t.Error("pod securityContext.runAsNonRoot is not true")
	}
	cs, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	sc := cs[0].(map[string]any)["securityContext"].(map[string]any)
	if sc["allowPrivilegeEscalation"] != false || sc["readOnlyRootFilesystem"] != true {
		t.Errorf("container securityContext %v is not restricted", sc)
	}
}

func TestNamespaceScoped(t *testing.T) {
	objs := render(t, "--set", "watchNamespaces={shop,billing}")
	for _, cr := range byKind(objs, "ClusterRole") {
		if strings.HasSuffix(cr.GetName(), "manager-role") {
			t.Errorf("namespace-scoped install still has the manager ClusterRole %s", cr.GetName())
		}
	}
	got := map[string]bool{}
	for _, r := range byKind(objs, "Role") {
		if r.GetName() == "probe-tuner-manager-role" {
			got[r.GetNamespace()] = true
		}
	}
	if !got["shop"] || !got["billing"] || len(got) != 2 {
		t.Errorf("manager Roles in %v, want shop and billing", got)
	}
	bound := map[string]bool{}
	for _, rb := range byKind(objs, "RoleBinding") {
		if rb.GetName() == "probe-tuner-manager-rolebinding" {
			bound[rb.GetNamespace()] = true
		}
	}
	if !reflect.DeepEqual(bound, got) {
		t.Errorf("manager RoleBindings in %v, want %v", bound, got)
	}
	if args := strings.Join(managerArgs(t, objs), " "); !strings.Contains(args, "--watch-namespaces=shop,billing") {
		t.Errorf("manager args %q lack --watch-namespaces=shop,billing", args)
	}
}

func TestDashboardConfigMap(t *testing.T) {
	if n := len(byKind(render(t), "ConfigMap")); n != 0 {
		t.Errorf("default values render %d ConfigMaps, want none", n)
	}
	objs := render(t, "--set", "grafanaDashboard.enable=true", "--set", "grafanaDashboard.namespace=monitoring")
	cms := byKind(objs, "ConfigMap")
	if len(cms) != 1 {
		t.Fatalf("%d ConfigMaps, want 1", len(cms))
	}
	cm := cms[0]
	if cm.GetNamespace() != "monitoring" || cm.GetLabels()["grafana_dashboard"] != "1" {
		t.Errorf("dashboard ConfigMap in %q with labels %v, want namespace monitoring and grafana_dashboard=1", cm.GetNamespace(), cm.GetLabels())
	}
	got, _, _ := unstructured.NestedString(cm.Object, "data", "probe-tuner-dashboard.json")
	want, err := os.ReadFile(filepath.Join("..", "..", "config", "grafana", "probe-tuner-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got != strings.TrimRight(string(want), "\n") {
		t.Error("the chart's dashboard differs from config/grafana/probe-tuner-dashboard.json")
	}
}

func TestMonitoringOn(t *testing.T) {
	objs := render(t, "--set", "prometheus.serviceMonitor.enable=true", "--set", "prometheus.prometheusRule.enable=true")
	monitors := byKind(objs, "ServiceMonitor")
	if len(monitors) != 1 {
		t.Fatalf("%d ServiceMonitors, want 1", len(monitors))
	}
	endpoints, _, _ := unstructured.NestedSlice(monitors[0].Object, "spec", "endpoints")
	if len(endpoints) != 1 || endpoints[0].(map[string]any)["interval"] != "30s" {
		t.Errorf("ServiceMonitor endpoints %v, want one scraped every 30s (the interval make bench-scale measures with)", endpoints)
	}
	rules := byKind(objs, "PrometheusRule")
	if len(rules) != 1 {
		t.Fatalf("%d PrometheusRules, want 1", len(rules))
	}
	var src map[string]any
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &src); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rules[0].Object["spec"], src["spec"]) {
		t.Error("the chart's PrometheusRule spec differs from config/prometheus/alerts.yaml")
	}
}
