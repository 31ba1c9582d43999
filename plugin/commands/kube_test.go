package commands_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

func TestApplyDiffDelete(t *testing.T) {
	kc := testenv.Kubeconfig(t)
	ns := testenv.Namespace(t, testenv.Config(t))
	dir := t.TempDir()
	for name, body := range map[string]string{
		"a-config.yaml": fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one, namespace: %s}\ndata: {k: v}\n", ns),
		"b-more.yaml":   fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: two, namespace: %s}\ndata: {k: v}\n", ns),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	inv := filepath.Join(t.TempDir(), "inventory.json")
	run := func(args ...string) (string, int) {
		t.Helper()
		out, errb, code := chaosbin.Run(t, append(args, "--kubeconfig", kc)...)
		return out + errb, code
	}
	steps := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"apply reads a directory in sorted order and writes the inventory", []string{"apply", "-f", dir, "--inventory", inv}, 0, []string{"ConfigMap/" + ns + "/one created", "ConfigMap/" + ns + "/two created"}},
		{"diff of the same files changes nothing", []string{"diff", "-f", dir, "--inventory", inv}, 0, []string{"ConfigMap/" + ns + "/one unchanged"}},
		{"re-apply is unchanged", []string{"apply", "-f", dir, "--inventory", inv}, 0, []string{"ConfigMap/" + ns + "/two unchanged"}},
		{"apply of one file prunes the other", []string{"apply", "-f", filepath.Join(dir, "a-config.yaml"), "--inventory", inv}, 0, []string{"ConfigMap/" + ns + "/two deleted"}},
		{"delete empties the inventory", []string{"delete", "--inventory", inv}, 0, []string{"ConfigMap/" + ns + "/one deleted"}},
		{"a URL without sha256 is refused", []string{"apply", "-f", "https://example.invalid/x.yaml"}, 2, []string{"sha256"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			out, code := run(s.args...)
			if code != s.code {
				t.Fatalf("exit %d, want %d\n%s", code, s.code, out)
			}
			for _, w := range s.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
