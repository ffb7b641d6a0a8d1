// Package report runs Deployments through the probe simulator in virtual time
// and summarises the outcome (restarts by cause, unavailability, first-ready
// times, events) as JSON or as a table. It backs the probesim command.
package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// LoadDeployments reads the apps/v1 Deployments of a (multi-document) YAML or
// JSON stream; other kinds are skipped. It fails when there is none.
func LoadDeployments(r io.Reader) ([]*appsv1.Deployment, error) {
	rd := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var out []*appsv1.Deployment
	for i := 1; ; i++ {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if head.Kind != "Deployment" {
			continue
		}
		if head.APIVersion != "apps/v1" {
			return nil, fmt.Errorf("document %d: Deployment apiVersion %q is not supported (want apps/v1)", i, head.APIVersion)
		}
		d := &appsv1.Deployment{}
		if err := yaml.UnmarshalStrict(doc, d); err != nil {
			return nil, fmt.Errorf("document %d (Deployment): %w", i, err)
		}
		if d.Name == "" {
			return nil, fmt.Errorf("document %d: Deployment has no metadata.name", i)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, errors.New("no apps/v1 Deployment found")
	}
	names := map[string]bool{}
	for _, d := range out {
		k := d.Namespace + "/" + d.Name
		if names[k] {
			return nil, fmt.Errorf("Deployment %s appears twice", strings.TrimPrefix(k, "/"))
		}
		names[k] = true
	}
	return out, nil
}
