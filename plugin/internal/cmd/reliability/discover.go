package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// Naming convention of what the harness runs: a trial is a test named
// TestTrial…, a fuzz target a test named Fuzz…. A new or renamed test is
// picked up, or dropped, by its name alone, never by a list kept here.
const (
	trialPrefix = "TestTrial"
	fuzzPrefix  = "Fuzz"
)

// target is one package's tests of one kind, in source order of the files.
type target struct {
	pkg   string // ./plugin/x/, as go test takes it
	names []string
}

// runPattern is the -run expression of exactly these tests.
func (t target) runPattern() string {
	return "^(" + strings.Join(t.names, "|") + ")$"
}

// discover finds the trials and fuzz targets in the _test.go files below
// root/dir, by package folder in lexical order.
func discover(root, dir string) (trials, fuzz []target, err error) {
	byPkg := map[string]*[2][]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("reading the tests: %w", err)
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := "./" + filepath.ToSlash(rel) + "/"
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv != nil {
				continue
			}
			kind := -1
			switch name := fn.Name.Name; {
			case strings.HasPrefix(name, trialPrefix) && takes(fn, "T"):
				kind = 0
			case strings.HasPrefix(name, fuzzPrefix) && takes(fn, "F"):
				kind = 1
			}
			if kind < 0 {
				continue
			}
			if byPkg[pkg] == nil {
				byPkg[pkg] = &[2][]string{}
			}
			byPkg[pkg][kind] = append(byPkg[pkg][kind], fn.Name.Name)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	pkgs := make([]string, 0, len(byPkg))
	for p := range byPkg {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		if n := byPkg[p][0]; len(n) > 0 {
			trials = append(trials, target{pkg: p, names: n})
		}
		if n := byPkg[p][1]; len(n) > 0 {
			fuzz = append(fuzz, target{pkg: p, names: n})
		}
	}
	return trials, fuzz, nil
}

// takes reports whether fn has the one parameter *testing.<typ>.
func takes(fn *ast.FuncDecl, typ string) bool {
	params := fn.Type.Params.List
	if len(params) != 1 || len(params[0].Names) > 1 {
		return false
	}
	star, ok := params[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == "testing" && sel.Sel.Name == typ
}
