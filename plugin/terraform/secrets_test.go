package terraform

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriteSecretFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outputs")
	paths, err := WriteSecretFiles(dir, map[string]Secret{"kubeconfig": newSecret("apiVersion: v1\n"), "token": newSecret("abc")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"kubeconfig": filepath.Join(dir, "kubeconfig"), "token": filepath.Join(dir, "token")}
	if d := cmp.Diff(want, paths); d != "" {
		t.Errorf("paths (-want +got):\n%s", d)
	}
	t.Run("files and folder are private", func(t *testing.T) {
		for _, p := range []string{dir, paths["kubeconfig"], paths["token"]} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			wantMode := os.FileMode(0o600)
			if fi.IsDir() {
				wantMode = 0o700
			}
			if fi.Mode().Perm() != wantMode {
				t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), wantMode)
			}
		}
		if b, _ := os.ReadFile(paths["kubeconfig"]); string(b) != "apiVersion: v1\n" {
			t.Errorf("content %q", b)
		}
	})
	t.Run("the file of an output that is gone is removed", func(t *testing.T) {
		if _, err := WriteSecretFiles(dir, map[string]Secret{"token": newSecret("abc")}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(paths["kubeconfig"]); !os.IsNotExist(err) {
			t.Errorf("kubeconfig still there: %v", err)
		}
	})
}
