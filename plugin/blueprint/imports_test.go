package blueprint

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestImports(t *testing.T) {
	t.Run("imports are relative to the importing file and each file is read once", func(t *testing.T) {
		bp, err := Load("testdata/nested/blueprint.yaml")
		if err != nil {
			t.Fatal(err)
		}
		got := []any{bp.Files, bp.Imports, bp.Nodes["svc"].TypeHierarchy, bp.Inputs["port"].Pos}
		want := []any{
			[]string{"testdata/nested/blueprint.yaml", "testdata/nested/sub/types.yaml", "testdata/nested/common.yaml"},
			[]string{"https://cloudify.co/spec/cloudify/7.0.0/types.yaml", "sub/types.yaml", "../common.yaml", "../blueprint.yaml"},
			[]string{TypeRoot, "nested.Base", "nested.Service"},
			at("testdata/nested/common.yaml", 5, 3),
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("definitions repeated across files name both positions", func(t *testing.T) {
		_, err := Load("testdata/duplicates/blueprint.yaml")
		checkErrorLines(t, err, []string{
			`testdata/duplicates/more.yaml:5: input "a" is already defined at testdata/duplicates/blueprint.yaml:6`,
			`testdata/duplicates/more.yaml:7: node type "x" is already defined at testdata/duplicates/blueprint.yaml:8`,
			`testdata/duplicates/more.yaml:8: node type "cloudify.nodes.Root" is already defined by cloudify/types/types.yaml`,
			`testdata/duplicates/more.yaml:10: node template "n" is already defined at testdata/duplicates/blueprint.yaml:10`,
			`testdata/duplicates/more.yaml:12: workflow "w" is already defined at testdata/duplicates/blueprint.yaml:12`,
			`testdata/duplicates/more.yaml:14: output "o" is already defined at testdata/duplicates/blueprint.yaml:14`,
		})
	})

	t.Run("an empty unsupported section is accepted", func(t *testing.T) {
		inDir(t, map[string]string{"blueprint.yaml": header + "groups: {}\nscaling_groups:\npolicies: []\n"})
		if _, err := Load("blueprint.yaml"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a missing main file is a plain error", func(t *testing.T) {
		if _, err := Load("testdata/none.yaml"); err == nil || err.Error() != "blueprint: stat testdata/none.yaml: no such file or directory" {
			t.Fatalf("got %v", err)
		}
	})
}
