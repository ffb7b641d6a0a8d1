package integration

import (
	"context"
	"sort"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestCRDIsServedAndDocumented reads the installed CRD back from the API server and checks what
// `kubectl get` and `kubectl explain` show: printer columns, CEL rules, and a description on every field.
func TestCRDIsServedAndDocumented(t *testing.T) {
	s := runtime.NewScheme()
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := c.Get(context.Background(), client.ObjectKey{Name: "probepolicies.tuning.probetuner.io"}, &crd); err != nil {
		t.Fatalf("the ProbePolicy CRD is not installed: %v", err)
	}
	if crd.Spec.Scope != apiextensionsv1.NamespaceScoped {
		t.Errorf("scope = %s, want Namespaced", crd.Spec.Scope)
	}
	var established bool
	for _, cond := range crd.Status.Conditions {
		if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
			established = true
		}
	}
	if !established {
		t.Errorf("the CRD is not Established: %+v", crd.Status.Conditions)
	}
	if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Name != "v1alpha1" {
		t.Fatalf("versions = %+v, want only v1alpha1", crd.Spec.Versions)
	}
	version := crd.Spec.Versions[0]

	var columns []string
	for _, col := range version.AdditionalPrinterColumns {
		columns = append(columns, col.Name)
	}
	for _, want := range []string{"Mode", "Workloads", "Changes", "Last Decision", "Age"} {
		if !contains(columns, want) {
			t.Errorf("printer column %q missing; have %v", want, columns)
		}
	}

	var undocumented []string
	var rules int
	walkSchema("", version.Schema.OpenAPIV3Schema, func(path string, p *apiextensionsv1.JSONSchemaProps) {
		rules += len(p.XValidations)
		if path != "" && p.Description == "" && !isStandardMetadata(path) {
			undocumented = append(undocumented, path)
		}
	})
	sort.Strings(undocumented)
	if len(undocumented) > 0 {
		t.Errorf("fields without a description (kubectl explain shows nothing for them): %v", undocumented)
	}
	if rules < 6 {
		t.Errorf("found %d CEL validation rules, want at least 6", rules)
	}
}

func walkSchema(path string, p *apiextensionsv1.JSONSchemaProps, visit func(string, *apiextensionsv1.JSONSchemaProps)) {
	if p == nil {
		return
	}
	visit(path, p)
	for name, child := range p.Properties {
		walkSchema(path+"."+name, &child, visit)
	}
	if p.Items != nil && p.Items.Schema != nil && p.Items.Schema.Type == "object" {
		walkSchema(path+"[]", p.Items.Schema, visit)
	}
}

// isStandardMetadata reports whether path lies under apiVersion/kind/metadata, which the API server documents.
func isStandardMetadata(path string) bool {
	for _, prefix := range []string{".apiVersion", ".kind", ".metadata"} {
		if len(path) >= len(prefix) && path[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
