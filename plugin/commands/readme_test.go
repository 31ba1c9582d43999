package commands_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/blueprint"
	"github.com/cloudify-chaos/chaosops/plugin/launcher"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite README.md's blueprint sections from the blueprints")

// bundleOrder is the order of the blueprint sections in README.md.
var bundleOrder = []string{"AKS-Azure-TFM", "Prometheus-Operator", "Python-Prometheus", "Chaos-Mesh", "Chaos-Demo-Environment"}

// TestReadmeDocumentsTheBundle keeps README.md's section of each bundled
// blueprint (description, inputs with defaults, capabilities, workflows)
// equal to the blueprint itself: inputs are the product's interface, and a
// README that lags behind them misleads every user.
// go test ./plugin/commands -run TestReadmeDocumentsTheBundle -update-readme
// rewrites the sections.
func TestReadmeDocumentsTheBundle(t *testing.T) {
	path := filepath.Join(repoRoot(), "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	mains, _ := filepath.Glob(filepath.Join(repoRoot(), "blueprints", "*", "blueprint.yaml"))
	var names []string
	for _, m := range mains {
		names = append(names, filepath.Base(filepath.Dir(m)))
	}
	sorted := append([]string{}, bundleOrder...)
	sort.Strings(sorted)
	if diff := cmp.Diff(sorted, names); diff != "" {
		t.Fatalf("bundled blueprints changed; update bundleOrder (-want +got):\n%s", diff)
	}
	for _, name := range bundleOrder {
		want := blueprintSection(loadBundled(t, name))
		start, end, ok := readmeSection(readme, name)
		if !ok {
			t.Errorf("README.md has no section \"### %s\"", name)
			continue
		}
		if *updateReadme {
			readme = readme[:start] + want + readme[end:]
			continue
		}
		if diff := cmp.Diff(want, readme[start:end]); diff != "" {
			t.Errorf("README.md section %s is not what the blueprint says (-blueprint +README); run go test ./plugin/commands -run TestReadmeDocumentsTheBundle -update-readme:\n%s", name, diff)
		}
	}
	if *updateReadme {
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readmeSection finds the body of "### name": from after its heading line
// to the next heading.
func readmeSection(readme, name string) (start, end int, ok bool) {
	heading := "\n### " + name + "\n"
	i := strings.Index(readme, heading)
	if i < 0 {
		return 0, 0, false
	}
	start = i + len(heading)
	next := regexp.MustCompile(`(?m)^#{2,3} `).FindStringIndex(readme[start:])
	if next == nil {
		return start, len(readme), true
	}
	return start, start + next[0], true
}

// blueprintSection renders a blueprint as its README section.
func blueprintSection(bp *blueprint.Blueprint) string {
	var s strings.Builder
	fmt.Fprintf(&s, "\n%s\n\n| input | default | description |\n|---|---|---|\n", cell(bp.Description))
	for _, n := range bp.InputOrder {
		in := bp.Inputs[n]
		fmt.Fprintf(&s, "| `%s` | %s | %s |\n", n, defaultCell(in), cell(in.Description))
	}
	if len(bp.CapabilityOrder) > 0 {
		s.WriteString("\n| capability | value |\n|---|---|\n")
		for _, n := range bp.CapabilityOrder {
			fmt.Fprintf(&s, "| `%s` | %s |\n", n, cell(bp.Capabilities[n].Description))
		}
	}
	var workflows []string
	for n, w := range bp.Workflows {
		if !w.Builtin {
			workflows = append(workflows, n)
		}
	}
	sort.SliceStable(workflows, func(i, j int) bool {
		return bp.Workflows[workflows[i]].Pos.Line < bp.Workflows[workflows[j]].Pos.Line
	})
	if len(workflows) > 0 {
		s.WriteString("\nWorkflows: `" + strings.Join(workflows, "`, `") + "`\n")
	}
	for _, n := range workflows {
		if w := bp.Workflows[n]; w.Forwards {
			s.WriteString(workflowParameters(w))
		}
	}
	s.WriteString("\n")
	return s.String()
}

// workflowParameters renders a forwarder workflow's typed parameters, as
// the UI's Execute workflow dialog offers them.
func workflowParameters(w *blueprint.Workflow) string {
	var s strings.Builder
	op, _ := w.Parameters["operation"].Default.(string)
	fmt.Fprintf(&s, "\n`%s` runs `%s`", w.Name, op)
	if rules, ok := w.AvailabilityRules["node_instances_active"].([]any); ok {
		fmt.Fprintf(&s, "; offered while the deployment's node instances are %s (availability_rules)", strings.Trim(flow(rules), "[]"))
	}
	s.WriteString(".\n\n| parameter | type | default | allowed | description |\n|---|---|---|---|---|\n")
	names := slices.Clone(w.ParameterOrder)
	sort.Strings(names) // the dialog's order after the required ones
	for _, n := range names {
		in := w.Parameters[n]
		fmt.Fprintf(&s, "| `%s` | %s | %s | %s | %s |\n", n, in.Type, defaultCell(in), constraintsCell(in), cell(in.Description))
	}
	return s.String()
}

func constraintsCell(in *blueprint.Input) string {
	var parts []string
	for _, c := range in.Constraints {
		switch c.Op {
		case "valid_values":
			var vs []string
			for _, v := range c.Arg.([]any) {
				if v == "" {
					v = `""`
				}
				vs = append(vs, cell(flow(v)))
			}
			parts = append(parts, strings.Join(vs, ", "))
		case "in_range":
			r := c.Arg.([]any)
			parts = append(parts, fmt.Sprintf("%v to %v", flow(r[0]), flow(r[1])))
		case "pattern":
			parts = append(parts, "a duration (`30s`, `2m`)")
		default:
			parts = append(parts, c.Op+" "+cell(flow(c.Arg)))
		}
	}
	return strings.Join(parts, "; ")
}

// placeholder is <word> in a description, which Markdown would take for
// HTML: it is written WORD instead.
var placeholder = regexp.MustCompile(`<([a-z_-]+)>`)

func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = placeholder.ReplaceAllStringFunc(s, func(m string) string { return strings.ToUpper(m[1 : len(m)-1]) })
	return strings.ReplaceAll(s, "|", `\|`)
}

func defaultCell(in *blueprint.Input) string {
	if !in.HasDefault {
		return "required"
	}
	switch v := in.Default.(type) {
	case string:
		if v == "" {
			return "`\"\"`"
		}
		return "`" + v + "`"
	case []any:
		if len(v) > 3 {
			return fmt.Sprintf("`list of %d`", len(v))
		}
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = flow(x)
		}
		return "`[" + strings.Join(parts, ", ") + "]`"
	}
	return "`" + flow(in.Default) + "`"
}

// flow writes a value the way YAML's flow style would, close enough for a
// table cell.
func flow(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + flow(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = flow(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// loadBundled reads a blueprint of the bundle from the source tree, with
// the files make bundle adds.
func loadBundled(t *testing.T, name string) *blueprint.Blueprint {
	t.Helper()
	bp, err := blueprint.LoadWith(filepath.Join(repoRoot(), "blueprints", name, "blueprint.yaml"), blueprint.LoadOptions{Bundled: launcher.BundledFiles})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return bp
}

// TestLayoutMatchesTheTree keeps README's Layout section true: it names
// every Go package below plugin/ (those under plugin/internal/ by their
// path below it), names none that is gone, and every package has a doc
// comment.
func TestLayoutMatchesTheTree(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\n## Layout\n")
	if start < 0 {
		t.Fatal("README.md has no ## Layout section")
	}
	layout := text[start+len("\n## Layout\n"):]
	if end := strings.Index(layout, "\n## "); end >= 0 {
		layout = layout[:end]
	}
	named := map[string]bool{}
	for _, m := range regexp.MustCompile("`([a-z0-9/_-]+)`").FindAllStringSubmatch(layout, -1) {
		named[m[1]] = true
	}
	root := filepath.Join("..", "..", "plugin")
	pkgs := map[string]bool{}
	docRE := regexp.MustCompile(`(?m)^// (Package|Command) `)
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if d.Name() == "testdata" {
			return filepath.SkipDir
		}
		files, _ := filepath.Glob(filepath.Join(path, "*.go"))
		var src []string
		for _, f := range files {
			if !strings.HasSuffix(f, "_test.go") {
				src = append(src, f)
			}
		}
		if len(src) == 0 || path == root {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = strings.TrimPrefix(filepath.ToSlash(rel), "internal/")
		pkgs[rel] = true
		if !named[rel] {
			t.Errorf("README's Layout does not name package %s (plugin/%s)", rel, rel)
		}
		hasDoc := false
		for _, f := range src {
			b, _ := os.ReadFile(f)
			hasDoc = hasDoc || docRE.Match(b)
		}
		if !hasDoc {
			t.Errorf("package plugin/%s has no doc comment (// Package … or // Command …)", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for n := range named {
		if strings.Contains(n, "/") && !pkgs[n] && !strings.HasSuffix(n, "/") {
			if _, err := os.Stat(filepath.Join("..", "..", n)); err != nil {
				t.Errorf("README's Layout names %s, which is neither a package nor a path of the repository", n)
			}
		}
	}
}
