package blueprint

import (
	"errors"
	"fmt"
	"strings"
)

// Resolver supplies the values intrinsic functions read. The runner
// implements it (inputs given at install, runtime properties, secrets, ...);
// StaticResolver covers what the blueprint alone knows. Paths hold strings
// and ints. Values returned are used as they are (not evaluated again).
type Resolver interface {
	// Input returns the value of a blueprint input.
	Input(name string) (any, error)
	// Property returns node's property at path (path[0] is the property).
	Property(node string, path []any) (any, error)
	// Attribute returns node's runtime property at path.
	Attribute(node string, path []any) (any, error)
	// Secret returns the secret path[0], then path[1:] inside it.
	Secret(path []any) (any, error)
	// Capability returns [deployment id, capability, key...].
	Capability(path []any) (any, error)
	// EnvironmentCapability returns [capability, key...] of the deployment
	// named by the csys-obj-parent label.
	EnvironmentCapability(path []any) (any, error)
	// Sys returns [deployment, id|name|blueprint|owner] or [tenant, name].
	Sys(path []any) (any, error)
	// Label returns the values of label path[0], or value path[1].
	Label(path []any) (any, error)
}

// Scope names the nodes that SELF, SOURCE and TARGET stand for where a value
// is evaluated: Self for node properties and operations, Source and Target
// for relationship operations. Empty means "not available here".
type Scope struct {
	Self, Source, Target string
}

// Evaluate returns a deep copy of v with every intrinsic function call
// replaced by its value. Calls nested in arguments are evaluated first, so
// {get_secret: {get_input: name}} works. Errors name the function and, for
// nested values, where the call is.
func Evaluate(v any, s Scope, r Resolver) (any, error) {
	return evaluate(v, s, r, "")
}

func evaluate(v any, s Scope, r Resolver, path string) (any, error) {
	if name, args, ok := call(v); ok {
		out, err := evalCall(name, args, s, r, path)
		if err != nil && path != "" {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return out, err
	}
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, item := range x {
			e, err := evaluate(item, s, r, joinPath(path, k))
			if err != nil {
				return nil, err
			}
			m[k] = e
		}
		return m, nil
	case []any:
		l := make([]any, len(x))
		for i, item := range x {
			e, err := evaluate(item, s, r, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			l[i] = e
		}
		return l, nil
	}
	return v, nil
}

func evalCall(name string, raw any, s Scope, r Resolver, path string) (any, error) {
	if err := checkArgs(name, raw, true); err != nil {
		return nil, err
	}
	args, err := evaluate(raw, s, r, "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := checkArgs(name, args, false); err != nil {
		return nil, err
	}
	list := asList(args)
	var out any
	switch name {
	case FuncGetInput:
		out, err = r.Input(list[0].(string))
		if err == nil {
			out, err = Lookup(out, list[1:])
		}
	case FuncGetProperty, FuncGetAttribute:
		var node string
		if node, err = s.node(list[0].(string), name); err != nil {
			return nil, err
		}
		if name == FuncGetProperty {
			out, err = r.Property(node, list[1:])
		} else {
			out, err = r.Attribute(node, list[1:])
		}
	case FuncGetSecret:
		out, err = r.Secret(list)
	case FuncGetCapability:
		out, err = r.Capability(list)
	case FuncGetEnvironmentCapability:
		out, err = r.EnvironmentCapability(list)
	case FuncGetSys:
		out, err = r.Sys(list)
	case FuncGetLabel:
		out, err = r.Label(list)
	case FuncConcat:
		return concat(list)
	case FuncMerge:
		return merge(list), nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", name, show(args), err)
	}
	return deepCopy(out), nil
}

// asList turns a single-name argument into a one-item path.
func asList(args any) []any {
	if l, ok := args.([]any); ok {
		return l
	}
	return []any{args}
}

// node resolves SELF, SOURCE and TARGET.
func (s Scope) node(ref, fn string) (string, error) {
	var node, where string
	switch ref {
	case selfRef:
		node, where = s.Self, "node properties and operations"
	case sourceRef:
		node, where = s.Source, "relationship operations"
	case targetRef:
		node, where = s.Target, "relationship operations"
	default:
		return ref, nil
	}
	if node == "" {
		return "", fmt.Errorf("%s: %s can only be used in %s", fn, ref, where)
	}
	return node, nil
}

func concat(items []any) (any, error) {
	var b strings.Builder
	for i, item := range items {
		s, ok := pyString(item)
		if !ok {
			return nil, fmt.Errorf("%s: item %d is %s; only strings, numbers, booleans and null can be joined", FuncConcat, i, show(item))
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// merge combines mappings left to right; later keys win (shallow).
func merge(items []any) any {
	out := map[string]any{}
	for _, item := range items {
		for k, v := range item.(map[string]any) {
			out[k] = v
		}
	}
	return out
}

// ErrNotAvailable is returned (wrapped) by StaticResolver for values that
// only exist at run time: attributes, secrets, capabilities, labels, sys.
var ErrNotAvailable = errors.New("not available without a deployment")
