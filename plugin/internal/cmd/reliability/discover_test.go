package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiscoverFindsTestsByName(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"plugin/a/a_test.go": "package a\nimport \"testing\"\nfunc TestTrialOne(t *testing.T) {}\nfunc TestOther(t *testing.T) {}\nfunc FuzzA(f *testing.F) {}\n" +
			"func TestTrialHelper(x int) {}\nfunc FuzzNotOne(t *testing.T) {}\n",
		"plugin/a/b_test.go":          "package a\nimport \"testing\"\nfunc TestTrialTwo(t *testing.T) {}\n",
		"plugin/b/b_test.go":          "package b\nimport \"testing\"\nfunc FuzzB(f *testing.F) {}\n",
		"plugin/b/testdata/x_test.go": "package x\nimport \"testing\"\nfunc TestTrialIgnored(t *testing.T) {}\n",
		"plugin/c/c.go":               "package c\nimport \"testing\"\nfunc TestTrialNotATestFile(t *testing.T) {}\n",
	}
	for name, text := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	trials, fuzz, err := discover(root, "plugin")
	if err != nil {
		t.Fatal(err)
	}
	opt := cmp.AllowUnexported(target{})
	if d := cmp.Diff([]target{{pkg: "./plugin/a/", names: []string{"TestTrialOne", "TestTrialTwo"}}}, trials, opt); d != "" {
		t.Errorf("trials (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]target{{pkg: "./plugin/a/", names: []string{"FuzzA"}}, {pkg: "./plugin/b/", names: []string{"FuzzB"}}}, fuzz, opt); d != "" {
		t.Errorf("fuzz targets (-want +got):\n%s", d)
	}
	if got, want := trials[0].runPattern(), "^(TestTrialOne|TestTrialTwo)$"; got != want {
		t.Errorf("run pattern %q, want %q", got, want)
	}
}

// TestEveryTrialIsNamedAsOne keeps the convention honest: a test that sizes
// or records itself as a trial but is not named TestTrial… would silently
// fall out of make reliability.
func TestEveryTrialIsNamedAsOne(t *testing.T) {
	root := filepath.Join("..", "..", "..", "..")
	trials, fuzz, err := discover(root, "plugin")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tr := range trials {
		n += len(tr.names)
	}
	if n < 17 || len(each(fuzz)) < 4 {
		t.Errorf("found %d trials and %d fuzz targets; the tree has at least 17 and 4", n, len(each(fuzz)))
	}
	fset := token.NewFileSet()
	err = filepath.WalkDir(filepath.Join(root, "plugin"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil || !strings.HasPrefix(fn.Name.Name, "Test") || strings.HasPrefix(fn.Name.Name, trialPrefix) {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "trial" {
						t.Errorf("%s: %s uses trial.%s but is not named %s…: make reliability would not run it", path, fn.Name.Name, sel.Sel.Name, trialPrefix)
						return false
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
