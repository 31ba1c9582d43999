package blueprint

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cloudify-chaos/chaosops/plugin/yamllimit"
	"gopkg.in/yaml.v3"
)

// Catalog describes the executable a bundle carries, so that LintDirs can
// check the operations that run it. The CLI builds it from the operation
// registry; this package knows nothing of the operations themselves.
type Catalog struct {
	// Implementations are the implementation paths that run the executable
	// (bin/chaosops.sh, bin/chaosops). make bundle writes them, so a source
	// folder need not hold them.
	Implementations []string
	// OperationInput is the input that names the operation a lifecycle
	// operation runs (chaosops_operation); it wins over the operation's own
	// name.
	OperationInput string
	// Operations maps every registered operation name to what it accepts.
	Operations map[string]OperationSpec
}

// OperationSpec is what one operation of the executable accepts.
type OperationSpec struct {
	// Inputs names every input the operation reads, OperationInput included.
	Inputs []string
	// Defaults holds the documented defaults of inputs, as text.
	Defaults map[string]string
	// Resources marks the inputs whose values are paths inside the
	// blueprint archive.
	Resources map[string]Resource
	// NameWith maps an input of Resources to another input that, when
	// set, makes it a name rather than a path (helm.install's chart with
	// chart_repo), so the archive is not searched for it.
	NameWith map[string]string
}

// Resource says what an input that names archive content points at.
type Resource int

const (
	// ResourceFiles is a path, or a list (or comma-separated text) of
	// paths, of files. When the operation's inputs leave it out, the node
	// property of the same name is read, as kubernetes.apply does.
	ResourceFiles Resource = iota + 1
	// ResourceDir is a folder.
	ResourceDir
	// ResourcePath is a file or a folder (a chart folder or .tgz).
	ResourcePath
	// ResourceTerraformModule is a Terraform module folder whose files the
	// input module_files lists (default: the documented default).
	ResourceTerraformModule
)

// Bundle DSL versions: cloudify_dsl_1_3 loads but is not what the bundle
// targets (Cloudify 6.x/7.x parse 1_4 and 1_5; shared/cloudify-compat.md 7).
var bundleDSLVersions = []string{"cloudify_dsl_1_4", "cloudify_dsl_1_5"}

// LintOptions adjust LintDirs.
type LintOptions struct {
	Catalog Catalog
	// Archive says the folders are unpacked archives: every file must be
	// in the folder itself (nothing is added, bundle.files is not read).
	Archive bool
}

// LintResult is what LintDirs found in one blueprint.
type LintResult struct {
	// MainFile is the blueprint's main YAML file.
	MainFile string
	// Blueprint is nil when the blueprint does not load.
	Blueprint *Blueprint
	// Problems break the upload or a run; Warnings are likely mistakes
	// (Blueprint.Lint) that do not.
	Problems, Warnings ErrorList
}

// LintDirs lints blueprint folders (or main files) as parts of a bundle:
// everything Load checks, then the DSL version the bundle targets, every
// operation that runs the executable (the operation it names is
// registered, every input it is given is one the operation reads, every
// archive path it is given exists in the bundled layout), workflows mapped
// to execute_operation (the parameters it takes declared, no parameter it
// ignores, operation_kwargs the operation reads), workflows mapped to a
// forwarder script (operation and node_ids declared by default, each node
// has the operation, each forwarded parameter and operation_kwargs key an
// input the operation reads), and composition: a
// get_capability of a ServiceComponent's deployment, or get_attribute of
// its deployment's capabilities, names a capability its blueprint exports,
// and get_environment_capability names one of every blueprint that deploys
// this one. Child and parent blueprints are the folders next to each
// linted one (a ServiceComponent's blueprint id is a folder name). A
// problem found again through another path to the same file (the shared
// types folder is a symbolic link in every blueprint) is reported once.
//
// A cancelled ctx stops the lint between files; the error is its cause,
// with the results of the blueprints finished before.
func LintDirs(ctx context.Context, paths []string, opt LintOptions) ([]*LintResult, error) {
	li := &linter{opt: opt, cache: map[string]*loaded{}, done: ctx.Done()}
	seen := map[string]bool{}
	var out []*LintResult
	for _, p := range paths {
		if ctx.Err() != nil {
			return out, context.Cause(ctx)
		}
		res := li.lint(MainFile(p, ""))
		res.Problems = once(res.Problems, seen)
		res.Warnings = once(res.Warnings, seen)
		if ctx.Err() != nil {
			return out, context.Cause(ctx)
		}
		out = append(out, res)
	}
	return out, nil
}

// once drops the problems already reported for the same file.
func once(list ErrorList, seen map[string]bool) ErrorList {
	var out ErrorList
	for _, e := range list {
		file := e.Pos.File
		if real, err := filepath.EvalSymlinks(file); err == nil {
			file = real
		}
		if abs, err := filepath.Abs(file); err == nil {
			file = abs
		}
		key := strings.Join([]string{file, strconv.Itoa(e.Pos.Line), e.Msg}, "\x00")
		if !seen[key] {
			seen[key] = true
			out = append(out, e)
		}
	}
	return out
}

// linter loads each blueprint once: a linted folder may be another's child.
type linter struct {
	opt   LintOptions
	cache map[string]*loaded
	done  <-chan struct{}
}

type loaded struct {
	bp       *Blueprint
	layout   *layout
	problems ErrorList
}

func (li *linter) load(main string) *loaded {
	key, _ := filepath.Abs(main)
	if ld := li.cache[key]; ld != nil {
		return ld
	}
	if _, err := os.Stat(main); os.IsNotExist(err) {
		ld := &loaded{problems: ErrorList{{Pos: Pos{File: main}, Msg: "not found: give a blueprint folder (holding blueprint.yaml) or a blueprint's main YAML file"}}}
		li.cache[key] = ld
		return ld
	}
	lay := newLayout(filepath.Dir(main), li.opt.Catalog.Implementations, li.opt.Archive)
	ld := &loaded{layout: lay, problems: slices.Clone(lay.problem)}
	bp, err := loadWith(main, LoadOptions{Bundled: lay.files(), Archive: li.opt.Archive}, li.done)
	var list ErrorList
	switch {
	case errors.As(err, &list):
		ld.problems = append(ld.problems, list...)
	case err != nil:
		ld.problems = append(ld.problems, &Error{Pos: Pos{File: main}, Msg: err.Error()})
	}
	ld.bp = bp
	li.cache[key] = ld
	return ld
}

// check lints one loaded blueprint.
type check struct {
	*linter
	bp       *Blueprint
	layout   *layout
	problems errs
	warnings errs
	promoted map[Pos]bool // warnings of Blueprint.Lint that are problems here
}

func (li *linter) lint(main string) *LintResult {
	ld := li.load(main)
	res := &LintResult{MainFile: main, Blueprint: ld.bp}
	if ld.bp == nil {
		res.Problems = ld.problems
		return res
	}
	files := append(slices.Clone(ld.bp.Files), filepath.Join(ld.bp.Dir, BundleFilesName))
	k := &check{linter: li, bp: ld.bp, layout: ld.layout, promoted: map[Pos]bool{},
		problems: errs{list: slices.Clone(ld.problems), files: files}, warnings: errs{files: files}}
	k.version()
	k.operations()
	k.workflows()
	k.schedules()
	k.composition()
	for _, w := range ld.bp.Lint() {
		if !k.promoted[w.Pos] {
			k.warnings.list = append(k.warnings.list, w)
		}
	}
	res.Problems, _ = k.problems.err().(ErrorList)
	res.Warnings, _ = k.warnings.err().(ErrorList)
	return res
}

// version checks the DSL version the bundle targets and the form of the
// types.yaml import that version can use.
func (k *check) version() {
	if !slices.Contains(bundleDSLVersions, k.bp.DSLVersion) {
		k.problems.add(topKeyPos(k.bp.MainFile, "tosca_definitions_version"),
			"tosca_definitions_version: %s is older than the bundle targets; write cloudify_dsl_1_4 (Cloudify 6.x and 7.x) or cloudify_dsl_1_5", k.bp.DSLVersion)
	}
	if k.bp.DSLVersion == "cloudify_dsl_1_5" {
		return
	}
	for _, p := range k.bp.officialTypesURL {
		k.promoted[p] = true
		k.problems.add(p, "imports: a manager resolves the URL form of types.yaml to its current types.yaml, which needs cloudify_dsl_1_5, so a %s blueprint fails to upload; import cloudify/types/types.yaml", k.bp.DSLVersion)
	}
}

// topKeyPos finds a top-level key of a YAML file, for facts Load keeps
// without a position.
func topKeyPos(file, key string) Pos {
	p := Pos{File: file}
	data, err := yamllimit.ReadFile(file)
	if err != nil {
		return p
	}
	doc, err := yamllimit.Parse(file, data)
	if err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return p
	}
	top := doc.Content[0].Content
	for i := 0; i+1 < len(top); i += 2 {
		if top[i].Value == key {
			return Pos{File: file, Line: top[i+1].Line, Col: top[i+1].Column}
		}
	}
	return p
}

// static evaluates v with what the blueprint alone knows (input defaults,
// properties); ok is false when it needs the run time (attributes,
// secrets, capabilities).
func (k *check) static(v any, s Scope) (any, bool) {
	out, err := Evaluate(v, s, &StaticResolver{Blueprint: k.bp})
	return out, err == nil
}

func (k *check) staticString(v any, s Scope) (string, bool) {
	out, ok := k.static(v, s)
	str, isStr := out.(string)
	return str, ok && isStr
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// splitList reads a list value as the executable does: a list, or text
// with comma-separated items.
func splitList(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, item := range x {
			if s, ok := item.(string); ok {
				out = append(out, s)
			}
		}
	case string:
		for _, s := range strings.Split(x, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}
