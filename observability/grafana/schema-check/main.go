// Command schema-check validates Grafana dashboard JSON files against Grafana's dashboard schema as the
// Grafana Foundation SDK generates it from Grafana's own schema definitions: a strict decode (unknown
// fields, wrong types and missing required fields are errors; panel options, field configs and queries
// are decoded by their plugin's schema) followed by the schema's constraints (Validate).
//
// Usage: schema-check FILE.json... ; prints one line per file and exits 1 if any file is invalid.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// prometheusAnnotationFields are read by Grafana's Prometheus data source from the top level of an
// annotation (its annotation editor writes them there) but are not in the dashboard schema's
// AnnotationQuery. They are removed from Prometheus annotations, and only there, before the strict decode.
var prometheusAnnotationFields = []string{"step", "titleFormat", "tagKeys", "useValueForTime"}

func withoutPrometheusAnnotationFields(raw []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	annotations, _ := doc["annotations"].(map[string]any)
	list, _ := annotations["list"].([]any)
	for _, item := range list {
		annotation, _ := item.(map[string]any)
		datasource, _ := annotation["datasource"].(map[string]any)
		if datasource["type"] != "prometheus" {
			continue
		}
		for _, field := range prometheusAnnotationFields {
			delete(annotation, field)
		}
	}
	return json.Marshal(doc)
}

func check(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	raw, err = withoutPrometheusAnnotationFields(raw)
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	var board dashboard.Dashboard
	if err := board.UnmarshalJSONStrict(raw); err != nil {
		return fmt.Errorf("strict decode: %w", err)
	}
	if err := board.Validate(); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: schema-check FILE.json...")
		os.Exit(2)
	}
	plugins.RegisterDefaultPlugins()
	failed := 0
	for _, path := range os.Args[1:] {
		if err := check(path); err != nil {
			failed++
			fmt.Printf("INVALID %s: %v\n", path, err)
			continue
		}
		fmt.Printf("valid %s\n", path)
	}
	if failed > 0 {
		os.Exit(1)
	}
}
