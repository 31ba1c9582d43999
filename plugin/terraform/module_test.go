package terraform

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func TestWorkDirPreparation(t *testing.T) {
	t.Run("an existing folder chaosops did not create is refused", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"notes.txt": "mine"})
		err := claimWorkDir(dir)
		if err == nil || !strings.Contains(err.Error(), "already holds files that chaosops did not put there") {
			t.Fatalf("claimWorkDir: %v", err)
		}
	})
	t.Run("module files are replaced while state, provider cache and outputs stay", func(t *testing.T) {
		module, dir := t.TempDir(), filepath.Join(t.TempDir(), "w")
		writeFiles(t, module, map[string]string{
			"main.tf": "# v2", "modules/net/main.tf": "# sub",
			"terraform.tfstate": "not copied", ".terraform/providers/x": "not copied",
		})
		if err := claimWorkDir(dir); err != nil {
			t.Fatal(err)
		}
		writeFiles(t, dir, map[string]string{
			"main.tf": "# v1", "removed.tf": "# gone from the module", "modules/old/main.tf": "# gone",
			"terraform.tfstate": "{state}", "terraform.tfstate.backup": "{}", ".terraform/providers/p": "cache",
			".terraform.lock.hcl": "lock", "outputs/token": "t",
		})
		if err := replaceModule(module, dir); err != nil {
			t.Fatal(err)
		}
		want := []string{
			".chaosops/workdir", ".terraform.lock.hcl", ".terraform/providers/p", "main.tf", "modules/net/main.tf",
			"outputs/token", "terraform.tfstate", "terraform.tfstate.backup",
		}
		if d := cmp.Diff(want, listFiles(t, dir)); d != "" {
			t.Errorf("workdir files (-want +got):\n%s", d)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "terraform.tfstate")); string(b) != "{state}" {
			t.Errorf("the state was touched: %s", b)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "main.tf")); string(b) != "# v2" {
			t.Errorf("main.tf not replaced: %s", b)
		}
	})
	t.Run("a folder without .tf files is not a module", func(t *testing.T) {
		module := t.TempDir()
		writeFiles(t, module, map[string]string{"README.md": "x"})
		err := replaceModule(module, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "holds no .tf or .tf.json files") {
			t.Fatalf("replaceModule: %v", err)
		}
	})
}

func TestDeclaredVariables(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.tf":      "variable \"quoted\" {\n  type = string\n}\nvariable bare {}\n  variable \"indented-name\" {\n}\n# variable \"commented\" {}\nresource \"x\" \"variable\" {}\n",
		"b.tf.json": `{"variable": {"from_json": {"type": "string"}}}`,
		"sub/c.tf":  `variable "in_submodule" {}`,
	})
	names, ok := declaredVariables(dir)
	if !ok {
		t.Fatal("not ok")
	}
	want := []string{"bare", "from_json", "indented-name", "quoted"}
	if d := cmp.Diff(want, sortedKeys(names)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
