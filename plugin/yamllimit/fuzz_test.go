package yamllimit_test

import (
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/yamllimit"
)

// FuzzParse checks that no input makes Parse panic or let through a file
// whose decoding expands past the limits: what Parse accepts decodes into
// plain values without error from the limits.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"a: 1\n", bomb(), "a: &a\n  b: *a\n", nested(50), "x: &x {<<: *x}\n"} {
		f.Add([]byte(s))
	}
	lim := yamllimit.Limits{MaxBytes: 1 << 16, MaxNodes: 5000, MaxAliasNodes: 2000, MaxDepth: 40}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := lim.Parse("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		var v any
		if err := doc.Decode(&v); err != nil && strings.Contains(err.Error(), "excessive aliasing") {
			t.Fatalf("Parse accepted a file the decoder finds excessive: %v", err)
		}
	})
}
