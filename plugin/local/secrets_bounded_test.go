package local_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/badyaml"

	"github.com/cloudify-chaos/chaosops/plugin/local"
)

func TestSecretsFileIsBoundedAndNeverEchoed(t *testing.T) {
	bomb := badyaml.AliasBomb("")
	tests := []struct{ name, content, want string }{
		{"an alias bomb is refused at its line", bomb, "is not a YAML mapping of name: value (line 6: alias *e: the aliases up to here expand to more than the limit of 100000 YAML nodes"},
		{"a list is refused without quoting it", "- s3cr3t\n", "is not a YAML mapping of name: value (line 1: cannot unmarshal !!seq into map[string]interface {})"},
		{"a syntax error gives its line only", "token: s3cr3t: x\n", "is not a YAML mapping of name: value (YAML syntax: mapping values are not allowed in this context)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "secrets.yaml")
			if err := os.WriteFile(f, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			err := (&local.Secrets{File: f}).Load()
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("Load: %v, want %q and no secret", err, tt.want)
			}
		})
	}
}
