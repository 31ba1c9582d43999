package experiment_test

import (
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/badyaml"

	"github.com/cloudify-chaos/chaosops/plugin/experiment"
)

func TestParseProbesIsBounded(t *testing.T) {
	b := "- name: p\n  kind: http\n  x-anchors:\n" + badyaml.AliasBomb("    ")
	tests := []struct{ name, probes, want string }{
		{"an alias bomb is refused before decoding", b, "line 9: alias *e: the aliases up to here expand to more than the limit of 100000 YAML nodes"},
		{"an unknown field names its line", "- name: p\n  kind: http\n  urll: x\n", "line 3: field urll not found in type probe.Spec"},
		{"a value of the wrong type is not quoted", "- name: p\n  kind: http\n  rps: s3cr3t\n", "line 3: cannot unmarshal !!str into float64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := experiment.ParseProbes([]byte(tt.probes))
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("ParseProbes: %v, want %q (and no value quoted)", err, tt.want)
			}
		})
	}
}
