package blueprint

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Names of the intrinsic functions.
const (
	// FuncGetInput is {get_input: name} or [name, key...].
	FuncGetInput = "get_input"
	// FuncGetProperty is {get_property: [SELF|SOURCE|TARGET|node, name, key...]}.
	FuncGetProperty = "get_property"
	// FuncGetAttribute is {get_attribute: [SELF|SOURCE|TARGET|node, name, key...]}.
	FuncGetAttribute = "get_attribute"
	// FuncGetSecret is {get_secret: name} or [name, key...].
	FuncGetSecret = "get_secret"
	// FuncGetCapability is {get_capability: [deployment id, capability, key...]}.
	FuncGetCapability = "get_capability"
	// FuncGetEnvironmentCapability is {get_environment_capability: name} or
	// [name, key...], read from the deployment named by csys-obj-parent.
	FuncGetEnvironmentCapability = "get_environment_capability"
	// FuncConcat is {concat: [value...]}.
	FuncConcat = "concat"
	// FuncMerge is {merge: [mapping...]}.
	FuncMerge = "merge"
	// FuncGetSys is {get_sys: [deployment, id]} or [tenant, name].
	FuncGetSys = "get_sys"
	// FuncGetLabel is {get_label: key} or [key, index].
	FuncGetLabel = "get_label"
)

const selfRef, sourceRef, targetRef = "SELF", "SOURCE", "TARGET"

var functionNames = []string{
	FuncGetInput, FuncGetProperty, FuncGetAttribute, FuncGetSecret, FuncGetCapability,
	FuncGetEnvironmentCapability, FuncConcat, FuncMerge, FuncGetSys, FuncGetLabel,
}

// IsFunction reports whether name is an intrinsic function supported here.
func IsFunction(name string) bool { return slices.Contains(functionNames, name) }

// call returns the function name and arguments when v is a function call:
// a mapping with exactly one key that is a function name.
func call(v any) (name string, args any, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", nil, false
	}
	for k, a := range m {
		if IsFunction(k) {
			return k, a, true
		}
	}
	return "", nil, false
}

// FuncRef is one intrinsic function call found in a value.
type FuncRef struct {
	Name string
	// Args is the raw argument (may hold nested calls).
	Args any
	// Path locates the call: inside the value given to Functions
	// ("a.b[0]"), or in the blueprint ("node_templates.web.properties.url").
	Path string
	// Pos is the call's position when known (Blueprint.Functions).
	Pos Pos

	ctx funcContext
}

// funcContext says which node references (SELF, SOURCE, TARGET) a function
// may use where it appears.
type funcContext uint8

const (
	// ctxPlain: outputs, capabilities, labels, input defaults.
	ctxPlain funcContext = iota
	// ctxNode: node (template or type) properties and operations: SELF.
	ctxNode
	// ctxRelationship: relationship operations: SOURCE and TARGET.
	ctxRelationship
	// ctxInert: values never evaluated (workflow parameter defaults in
	// types.yaml, metadata): recorded for lint only.
	ctxInert
)

// Functions lists the intrinsic function calls in a plain value, nested
// calls included, in a stable order (map keys sorted). Pos is left zero; use
// Blueprint.Functions for positions.
func Functions(v any) []FuncRef {
	var out []FuncRef
	walkCalls(v, "", func(path, name string, args any) {
		out = append(out, FuncRef{Name: name, Args: args, Path: path})
	})
	return out
}

// SuspectFunctions lists the single-key mappings whose key starts with
// "get_" but is not a known function: they are kept as plain data, which is
// most likely a typo (get_secrets, get_inputs).
func SuspectFunctions(v any) []FuncRef {
	var out []FuncRef
	walkSingleKeys(v, "", func(path, key string, arg any) {
		if strings.HasPrefix(key, "get_") && !IsFunction(key) {
			out = append(out, FuncRef{Name: key, Args: arg, Path: path})
		}
	})
	return out
}

func walkCalls(v any, path string, fn func(path, name string, args any)) {
	walkSingleKeys(v, path, func(p, key string, arg any) {
		if IsFunction(key) {
			fn(p, key, arg)
		}
	})
}

func walkSingleKeys(v any, path string, fn func(path, key string, arg any)) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, a := range x {
				fn(path, k, a)
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walkSingleKeys(x[k], joinPath(path, k), fn)
		}
	case []any:
		for i, item := range x {
			walkSingleKeys(item, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Functions lists every intrinsic function call written in the blueprint
// (built-in types excluded), with positions, file by file in reading order
// and top to bottom, a nested call before the call holding it.
func (bp *Blueprint) Functions() []FuncRef { return slices.Clone(bp.funcs) }

// noteCall records a call (or a suspect get_* key) met while converting YAML.
func (r *reader) noteCall(key string, args any, where string, p Pos, fc funcContext) {
	switch {
	case IsFunction(key):
		r.funcs = append(r.funcs, FuncRef{Name: key, Args: args, Path: where, Pos: p, ctx: fc})
	case strings.HasPrefix(key, "get_"):
		r.suspects = append(r.suspects, FuncRef{Name: key, Args: args, Path: where, Pos: p, ctx: fc})
	}
}

// checkArgs checks the shape of a call's arguments without evaluating
// anything.
// Arguments that are themselves calls are accepted when calls is true
// (before evaluation).
func checkArgs(name string, args any, calls bool) error {
	if _, _, nested := call(args); nested && calls {
		return nil
	}
	list, isList := args.([]any)
	switch name {
	case FuncGetInput, FuncGetSecret, FuncGetEnvironmentCapability, FuncGetLabel:
		if isScalarArg(args) {
			return nil
		}
		if !isList || len(list) == 0 || !isPathHead(list[0], calls) {
			return fmt.Errorf("%s: expected a name or a list [name, key...], got %s", name, show(args))
		}
		if name == FuncGetLabel && len(list) != 2 {
			return fmt.Errorf("%s: expected a label key or [key, index], got %s", name, show(args))
		}
		return checkPath(name, list[1:], calls)
	case FuncGetProperty, FuncGetAttribute:
		if !isList || len(list) < 2 || !isPathHead(list[0], calls) {
			what := "SELF|<node>"
			if name == FuncGetAttribute {
				what = "SELF|SOURCE|TARGET|<node>"
			}
			return fmt.Errorf("%s: expected a list [%s, name, key...], got %s", name, what, show(args))
		}
		return checkPath(name, list[1:], calls)
	case FuncGetCapability:
		if !isList || len(list) < 2 {
			return fmt.Errorf("%s: expected a list [deployment id, capability, key...], got %s", name, show(args))
		}
		return checkPath(name, list, calls)
	case FuncGetSys:
		if !isList || len(list) != 2 {
			return fmt.Errorf("%s: expected [deployment, id|name|blueprint|owner] or [tenant, name], got %s", name, show(args))
		}
		if s, _ := list[0].(string); s != "deployment" && s != "tenant" {
			if _, _, nested := call(list[0]); !nested || !calls {
				return fmt.Errorf("%s: the first item must be deployment or tenant, got %s", name, show(list[0]))
			}
		}
		return checkPath(name, list, calls)
	case FuncConcat:
		if !isList {
			return fmt.Errorf("%s: expected a list of values to join, got %s", name, show(args))
		}
	case FuncMerge:
		if !isList {
			return fmt.Errorf("%s: expected a list of mappings, got %s", name, show(args))
		}
		for i, item := range list {
			if _, _, nested := call(item); nested && !calls {
				return fmt.Errorf("%s: item %d must be a mapping, got %s", name, i, show(item))
			}
			if _, isMap := item.(map[string]any); !isMap {
				return fmt.Errorf("%s: item %d must be a mapping, got %s", name, i, show(item))
			}
		}
	}
	return nil
}

func isScalarArg(v any) bool {
	s, ok := v.(string)
	return ok && s != ""
}

func isPathHead(v any, calls bool) bool {
	if _, _, nested := call(v); nested {
		return calls
	}
	return isScalarArg(v)
}

func checkPath(name string, path []any, calls bool) error {
	for _, p := range path {
		switch p.(type) {
		case string, int:
			continue
		}
		if _, _, nested := call(p); nested && calls {
			continue
		}
		return fmt.Errorf("%s: path items must be names or list indexes, got %s", name, show(p))
	}
	return nil
}
