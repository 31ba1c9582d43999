package blueprint

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cloudify-chaos/chaosops/plugin/yamllimit"
)

// DSL versions Load accepts in tosca_definitions_version.
var dslVersions = []string{"cloudify_dsl_1_3", "cloudify_dsl_1_4", "cloudify_dsl_1_5"}

// Top-level keys read by Load.
var topLevelKeys = []string{
	"tosca_definitions_version", "description", "metadata", "dsl_definitions", "imports",
	"inputs", "node_types", "relationships", "node_templates", "workflows", "outputs",
	"capabilities", "labels", "blueprint_labels", "deployment_settings",
}

// Top-level keys of the Cloudify DSL that chaosops local does not support.
// An empty value is accepted.
var unsupportedTopLevelKeys = []string{
	"plugins", "policy_types", "policy_triggers", "groups", "policies", "scaling_groups",
	"data_types", "upload_resources", "resource_tags",
	"imported_blueprints", "namespaces_mapping",
}

// loader holds the state of one Load.
type loader struct {
	errs
	bp       *Blueprint
	loaded   map[string]bool // absolute paths of files read
	defined  map[string]Pos  // kind and name of every definition
	nodes    map[string]*rawNode
	funcs    []FuncRef
	suspects []FuncRef
	bundled  []string
	archive  bool
	done     <-chan struct{} // closed when the caller gives up
}

// Load reads a blueprint: mainFile, then its local imports recursively
// (relative to the importing file; a file imported twice is read once),
// merging their sections. Importing cloudify/types/types.yaml (or a
// versioned or URL form of it) adds the built-in types, which are never
// fetched. Node templates are completed from their types, references
// between nodes, types, inputs and files are checked, and the relationship
// graph must have no cycle. Anything the chaosops local runner does not
// support is reported with its position. The error is an ErrorList holding
// every problem found, or a plain error when mainFile cannot be read.
func Load(mainFile string) (*Blueprint, error) {
	return LoadWith(mainFile, LoadOptions{})
}

// LoadOptions adjust Load.
type LoadOptions struct {
	// Bundled lists files that the bundle adds to the blueprint folder when
	// it is packaged (make bundle puts the chaosops executable and its
	// launcher into bin/). An implementation naming one of them is a script
	// of the blueprint even when the source tree does not hold it yet.
	Bundled []string
	// Archive says the folder is an unpacked archive: an import may not
	// reach outside it through a symbolic link either. (In a source tree
	// a linked folder is copied into the archive when it is packed.)
	Archive bool
}

// LoadWith is Load with options.
func LoadWith(mainFile string, opt LoadOptions) (*Blueprint, error) {
	return loadWith(mainFile, opt, nil)
}

// loadWith is LoadWith that stops reading files once done is closed.
func loadWith(mainFile string, opt LoadOptions, done <-chan struct{}) (*Blueprint, error) {
	mainFile = filepath.Clean(mainFile)
	l := &loader{
		done:    done,
		bundled: opt.Bundled,
		archive: opt.Archive,
		bp: &Blueprint{
			Dir: filepath.Dir(mainFile), MainFile: mainFile,
			Inputs: map[string]*Input{}, NodeTypes: map[string]*NodeType{},
			Relationships: map[string]*RelationshipType{}, Nodes: map[string]*NodeTemplate{},
			Outputs: map[string]*Output{}, Capabilities: map[string]*Output{},
			Workflows: map[string]*Workflow{}, Labels: map[string][]any{},
			BlueprintLabels: map[string][]any{}, Metadata: map[string]any{},
		},
		loaded:  map[string]bool{},
		defined: map[string]Pos{},
		nodes:   map[string]*rawNode{},
	}
	if _, err := os.Stat(mainFile); err != nil {
		return nil, fmt.Errorf("blueprint: %w", err)
	}
	l.loadFile(mainFile, Pos{}, true)
	if l.bp.officialTypes {
		l.addBuiltins()
	}
	l.link()
	if err := l.err(); err != nil {
		return nil, err
	}
	l.bp.funcs = l.funcs
	l.bp.suspects = l.suspects
	return l.bp, nil
}

func (l *loader) loadFile(file string, from Pos, main bool) {
	abs, err := filepath.Abs(file)
	if err != nil {
		l.add(from, "imports: %v", err)
		return
	}
	if l.loaded[abs] {
		return
	}
	select {
	case <-l.done:
		l.add(from, "cancelled before reading %s", file)
		return
	default:
	}
	l.loaded[abs] = true
	data, err := yamllimit.ReadFile(file)
	var le *yamllimit.Error
	if errors.As(err, &le) {
		l.add(Pos{File: file}, "%s", le.Msg)
		return
	}
	if err != nil {
		what := "imports"
		if main {
			what = "blueprint"
		}
		l.add(from, "%s: cannot read %s: %v", what, file, errors.Unwrap(err))
		return
	}
	l.files = append(l.files, file)
	l.bp.Files = append(l.bp.Files, file)
	doc, err := yamllimit.Parse(file, data)
	if errors.As(err, &le) {
		l.add(Pos{File: file, Line: le.Line}, "%s", le.Msg)
		return
	}
	if err != nil {
		l.add(Pos{File: file}, "%v", err)
		return
	}
	if len(doc.Content) == 0 {
		l.add(Pos{File: file, Line: 1}, "the file is empty; a blueprint is a YAML mapping starting with tosca_definitions_version")
		return
	}
	r := &reader{loader: l, file: file}
	r.top(doc.Content[0], main)
}

// top reads the top-level sections of one file, then its imports.
func (r *reader) top(n *yaml.Node, main bool) {
	if d := deref(n); d.Kind != yaml.MappingNode && !isNull(d) {
		// Never quote it: a file imported by mistake may hold secrets.
		r.add(r.pos(d), "the file is not a YAML mapping (it reads as %s); a blueprint file is a mapping starting with tosca_definitions_version", kindOf(d))
		return
	}
	pairs, ok := r.mapping(n, "top level")
	if !ok {
		return
	}
	r.version(n, pairs, main)
	var imports *yaml.Node
	for _, p := range pairs {
		switch p.key {
		case "tosca_definitions_version", "dsl_definitions":
			// version read above; dsl_definitions only holds YAML anchors,
			// which the YAML decoder has already resolved.
		case "description":
			if s, ok := r.str(p.v, p.key); ok && main {
				r.bp.Description = s
			}
		case "metadata":
			if m, ok := r.value(p.v, p.key, ctxInert).(map[string]any); ok {
				for k, v := range m {
					r.bp.Metadata[k] = v
				}
			} else if !isNull(p.v) {
				r.add(r.pos(p.v), "metadata: expected a mapping, got %s", describe(p.v))
			}
		case "imports":
			imports = p.v
		case "inputs":
			r.inputs(p.v)
		case "node_types":
			r.nodeTypes(p.v)
		case "relationships":
			r.relationshipTypes(p.v)
		case "node_templates":
			r.nodeTemplates(p.v)
		case "workflows":
			r.workflows(p.v)
		case "outputs":
			r.outputs(p.v, p.key, r.bp.Outputs, &r.bp.OutputOrder)
		case "capabilities":
			r.outputs(p.v, p.key, r.bp.Capabilities, &r.bp.CapabilityOrder)
		case "labels":
			r.labels(p.v, p.key, r.bp.Labels)
		case "blueprint_labels":
			r.labels(p.v, p.key, r.bp.BlueprintLabels)
		case "deployment_settings":
			r.deploymentSettings(p.v)
		default:
			if !slices.Contains(unsupportedTopLevelKeys, p.key) {
				r.add(r.pos(p.k), "unknown top-level key %q%s", p.key, suggest(p.key, topLevelKeys))
			} else if !isEmpty(p.v) {
				r.add(r.pos(p.k), "%q is not supported by chaosops local (supported: %s)",
					p.key, strings.Join(slices.Sorted(slices.Values(topLevelKeys)), ", "))
			}
		}
	}
	if imports != nil {
		r.imports(imports)
	}
}

// kindOf names the YAML kind of a node without its value.
func kindOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!str" {
			return "a string"
		}
		return "a scalar " + strings.TrimPrefix(n.ShortTag(), "!!")
	}
	return "a mapping"
}

func isEmpty(n *yaml.Node) bool {
	n = deref(n)
	return isNull(n) || ((n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && len(n.Content) == 0)
}

func (r *reader) version(n *yaml.Node, pairs []pair, main bool) {
	i := slices.IndexFunc(pairs, func(p pair) bool { return p.key == "tosca_definitions_version" })
	if i < 0 {
		if main {
			r.add(r.pos(n), "tosca_definitions_version is missing: start the blueprint with \"tosca_definitions_version: cloudify_dsl_1_4\"")
		}
		return
	}
	v, ok := r.str(pairs[i].v, "tosca_definitions_version")
	if !ok {
		return
	}
	if !slices.Contains(dslVersions, v) {
		r.add(r.pos(pairs[i].v), "tosca_definitions_version: %q is not supported (supported: %s)", v, strings.Join(dslVersions, ", "))
		return
	}
	if main {
		r.bp.DSLVersion = v
	}
}

// define registers a definition and reports a second one of the same name.
func (r *reader) define(kind, name string, p Pos) bool {
	key := kind + "\x00" + name
	if first, dup := r.defined[key]; dup {
		r.add(p, "%s %q is already defined at %s", kind, name, first)
		return false
	}
	r.defined[key] = p
	return true
}

var officialTypesFile = regexp.MustCompile(`^types(_1_\d+)?\.yaml$`)

// officialTypes reports whether an import names Cloudify's types.yaml, and
// whether it does so by URL.
func officialTypes(imp string) (official, byURL bool) {
	if imp == "cloudify/types/types.yaml" || (strings.HasPrefix(imp, "cloudify/types/") && officialTypesFile.MatchString(path.Base(imp))) {
		return true, false
	}
	u, err := url.Parse(imp)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false, false
	}
	if officialTypesFile.MatchString(path.Base(u.Path)) && strings.Contains(strings.ToLower(u.Host+u.Path), "cloudify") {
		return true, true
	}
	return false, false
}

func (r *reader) imports(n *yaml.Node) {
	items, _ := r.sequence(n, "imports")
	for _, item := range items {
		imp, ok := r.str(item, "imports")
		if !ok {
			continue
		}
		p := r.pos(item)
		if !slices.Contains(r.bp.Imports, imp) {
			r.bp.Imports = append(r.bp.Imports, imp)
		}
		official, byURL := officialTypes(imp)
		switch {
		case official:
			r.bp.officialTypes = true
			if byURL {
				r.bp.officialTypesURL = append(r.bp.officialTypesURL, p)
			}
		case strings.HasPrefix(imp, "plugin:"):
			r.add(p, "imports: %q: plugin imports are not supported by the local runner", imp)
		case strings.Contains(imp, "://"):
			r.add(p, "imports: %q: remote imports are not supported by chaosops local; copy the file into the blueprint directory and import it by relative path", imp)
		case strings.Contains(imp, "--"):
			r.add(p, "imports: %q: namespaced imports (namespace--file) are not supported by chaosops local", imp)
		default:
			file, err := r.inside(imp)
			if err != nil {
				r.add(p, "imports: %q: %v", imp, err)
				continue
			}
			r.loadFile(file, p, false)
		}
	}
}

// inside resolves a local import against the importing file and refuses
// one that leaves the blueprint folder: an absolute path, a path through
// "..", and in an archive a symbolic link pointing out. Only the folder
// is uploaded, and reading elsewhere could show files that are no part
// of the blueprint.
func (r *reader) inside(imp string) (string, error) {
	const fix = "copy the file into the blueprint folder and import it by relative path"
	if filepath.IsAbs(imp) {
		return "", fmt.Errorf("an absolute path leaves the blueprint folder; %s", fix)
	}
	file := filepath.Join(filepath.Dir(r.file), imp)
	if !within(r.bp.Dir, file) {
		return "", fmt.Errorf("the import leaves the blueprint folder; %s", fix)
	}
	if r.archive {
		dir, err1 := filepath.EvalSymlinks(r.bp.Dir)
		real, err2 := filepath.EvalSymlinks(file)
		if err1 == nil && err2 == nil && !within(dir, real) {
			return "", fmt.Errorf("a symbolic link takes the import out of the blueprint folder (to %s); %s", real, fix)
		}
	}
	return file, nil
}

// within reports whether path is dir or below it, by their names.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
