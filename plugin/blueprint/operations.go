package blueprint

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// mergeInterfaces merges a type's interfaces with a template's (node
// template or relationship instance) and checks each resulting operation.
func (l *loader) mergeInterfaces(typeIfaces, tplIfaces ifaceMap, where string, owner Pos) ifaceMap {
	out := ifaceMap{}
	for _, iface := range slices.Sorted(maps.Keys(unionKeys(typeIfaces, tplIfaces))) {
		out[iface] = map[string]*Operation{}
		for _, name := range slices.Sorted(maps.Keys(unionKeys(typeIfaces[iface], tplIfaces[iface]))) {
			typeOp, tplOp := typeIfaces[iface][name], tplIfaces[iface][name]
			op, missing := mergeOperation(typeOp, tplOp)
			op.Interface, op.Name = iface, name
			at := owner
			if tplOp != nil {
				at = tplOp.Pos
			}
			for _, in := range missing {
				l.add(at, "%s.%s.%s: input %q is missing a value (declared without default at %s)",
					where, iface, name, in, typeOp.InputSchema[in].Pos)
			}
			l.checkOperation(op)
			out[iface][name] = op
		}
	}
	return out
}

func unionKeys[V any](a, b map[string]V) map[string]bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}

// mergeOperation applies Cloudify's rules for a template operation over a
// type operation. It returns the names of declared inputs left without value.
func mergeOperation(typeOp, tplOp *Operation) (*Operation, []string) {
	switch {
	case tplOp == nil:
		return cloneOperation(typeOp), missingInputs(typeOp, nil)
	case typeOp == nil, isNoOp(tplOp), isNoOp(typeOp):
		return cloneOperation(tplOp), nil
	}
	op := cloneOperation(tplOp)
	if op.Implementation == "" {
		op.Implementation = typeOp.Implementation
	}
	if op.Implementation != typeOp.Implementation {
		// Another implementation: the template's operation stands alone.
		return op, nil
	}
	op.Inputs = deepCopy(typeOp.Inputs).(map[string]any)
	maps.Copy(op.Inputs, deepCopy(tplOp.Inputs).(map[string]any))
	op.Executor = cmpOr(op.Executor, typeOp.Executor)
	op.MaxRetries = cmpOr(op.MaxRetries, typeOp.MaxRetries)
	op.RetryInterval = cmpOr(op.RetryInterval, typeOp.RetryInterval)
	op.Timeout = cmpOr(op.Timeout, typeOp.Timeout)
	op.TimeoutRecoverable = cmpOr(op.TimeoutRecoverable, typeOp.TimeoutRecoverable)
	return op, missingInputs(typeOp, tplOp.Inputs)
}

func cmpOr[T comparable](a, b T) T {
	var zero T
	if a != zero {
		return a
	}
	return b
}

func missingInputs(typeOp *Operation, given map[string]any) []string {
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(typeOp.InputSchema)) {
		if _, ok := given[name]; !ok && !typeOp.InputSchema[name].HasDefault {
			missing = append(missing, name)
		}
	}
	return missing
}

func isNoOp(op *Operation) bool {
	return op.Implementation == "" && len(op.Inputs) == 0 && len(op.InputSchema) == 0 && op.Executor == "" &&
		op.MaxRetries == nil && op.RetryInterval == nil && op.Timeout == nil && op.TimeoutRecoverable == nil
}

// cloneOperation copies an operation for a template; the input schema
// stays with the type.
func cloneOperation(op *Operation) *Operation {
	c := *op
	c.Inputs = deepCopy(op.Inputs).(map[string]any)
	c.InputSchema = nil
	return &c
}

// checkOperation classifies the implementation and reports what Cloudify
// would reject.
func (l *loader) checkOperation(op *Operation) {
	where := "operation " + op.FullName()
	kind, err := l.classify("implementation", op.Implementation)
	op.Kind = kind
	if err != nil {
		l.add(op.Pos, "%s: %v", where, err)
		return
	}
	if kind == ImplScript || kind == ImplURL || kind == ImplInline {
		for _, reserved := range []string{"script_path", "script_source"} {
			if _, ok := op.Inputs[reserved]; ok {
				l.add(op.Pos, "%s: input %q is set by the script plugin from the implementation; remove it", where, reserved)
			}
		}
	}
}

// classify says how an implementation (or workflow mapping) runs, following
// the order Cloudify's parser uses: URL, file of the blueprint, inline
// script, plugin task.
func (l *loader) classify(what, impl string) (ImplKind, error) {
	switch {
	case impl == "":
		return ImplNone, nil
	case strings.HasPrefix(impl, "http://") || strings.HasPrefix(impl, "https://"):
		return ImplURL, nil
	}
	if filepath.IsLocal(impl) && slices.Contains(l.bundled, filepath.ToSlash(filepath.Clean(impl))) {
		return ImplScript, nil
	}
	if filepath.IsLocal(impl) {
		if st, err := os.Stat(filepath.Join(l.bp.Dir, impl)); err == nil && st.Mode().IsRegular() {
			return ImplScript, nil
		}
	}
	if strings.Contains(strings.TrimSpace(impl), "\n") {
		return ImplInline, nil
	}
	plugin, _, isTask := strings.Cut(impl, ".")
	if isTask && slices.Contains(builtinPlugins, plugin) {
		return ImplPlugin, nil
	}
	if !filepath.IsLocal(impl) {
		return ImplNone, fmt.Errorf("%s %q must be a relative path inside the blueprint directory, which is what gets archived", what, impl)
	}
	return ImplNone, fmt.Errorf("%s %q is neither a file of the blueprint (%s does not exist) nor a task of a built-in plugin (%s); plugins sections are not supported",
		what, impl, filepath.Join(l.bp.Dir, impl), strings.Join(builtinPlugins, ", "))
}
