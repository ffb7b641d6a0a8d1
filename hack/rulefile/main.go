// Command rulefile prints the spec of a PrometheusRule manifest as a plain Prometheus rule file (groups:), the
// form promtool reads.
package main

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: rulefile PROMETHEUSRULE.yaml")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "rulefile:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var rule struct {
		Kind string         `json:"kind"`
		Spec map[string]any `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &rule); err != nil {
		return fmt.Errorf("parsing %s: %w", path, err)
	}
	if rule.Kind != "PrometheusRule" || rule.Spec["groups"] == nil {
		return fmt.Errorf("%s: not a PrometheusRule with spec.groups", path)
	}
	out, err := yaml.Marshal(rule.Spec)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}
