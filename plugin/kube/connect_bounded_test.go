package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/badyaml"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

func TestKubeconfigAliasBombIsRefused(t *testing.T) {
	b := "apiVersion: v1\nkind: Config\npreferences:\n" + badyaml.AliasBomb("  ")
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(b), 0o600); err != nil {
		t.Fatal(err)
	}
	const want = ":9: alias *e: the aliases up to here expand to more than the limit of 100000 YAML nodes"
	for _, tt := range []struct{ name, kubeconfig string }{
		{"a kubeconfig file", path},
		{"kubeconfig content", b},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := kubeconfigConfig(ConnOptions{Kubeconfig: tt.kubeconfig})
			if err == nil || !strings.Contains(err.Error(), want) || !failure.IsInvalid(err) {
				t.Fatalf("kubeconfigConfig of a bomb: %v, want an Invalid error containing %q", err, want)
			}
		})
	}
}
