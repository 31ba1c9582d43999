package blueprint

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cloudify-chaos/chaosops/plugin/yamllimit"
)

// Value types of inputs and properties.
var (
	primitiveTypes = []string{"string", "integer", "float", "boolean", "list", "dict"}
	// The types of dsl_parser's USER_PRIMITIVE_TYPES that hold a string:
	// textarea and the object types (an id or name the manager would
	// validate; here only the string is checked). regex holds a string
	// that is a regular expression.
	stringLikeTypes = []string{
		"textarea", "node_id", "node_type", "node_instance", "deployment_id", "blueprint_id",
		"secret_key", "scaling_group", "operation_name",
	}
	// Types that accept any value.
	anyTypes = []string{"", "any", "capability_value"}
	// userTypes are the types a declaration may name (dsl_parser's
	// USER_PRIMITIVE_TYPES; data types are not supported).
	userTypes = slices.Concat(primitiveTypes, []string{"regex"}, stringLikeTypes, []string{"capability_value"})
	// typeSince maps the types that need a DSL version to it, as
	// dsl_parser gates them (OBJECT_BASED_TYPES_DSL_1_4 and _1_5);
	// textarea and regex are not gated.
	typeSince = map[string]string{
		"blueprint_id": "cloudify_dsl_1_4", "deployment_id": "cloudify_dsl_1_4", "capability_value": "cloudify_dsl_1_4",
		"scaling_group": "cloudify_dsl_1_4", "node_id": "cloudify_dsl_1_4", "node_type": "cloudify_dsl_1_4",
		"node_instance": "cloudify_dsl_1_4", "secret_key": "cloudify_dsl_1_4",
		"operation_name": "cloudify_dsl_1_5",
	}
)

// itemTypeSince is the DSL version that added item_type.
const itemTypeSince = "cloudify_dsl_1_4"

// typeProblem says what is wrong with naming type typ (item: as the
// item_type of a list) in a blueprint of DSL version dsl, or "".
func typeProblem(typ, dsl string, item bool) string {
	switch {
	case typ == "":
		return ""
	case !slices.Contains(userTypes, typ):
		what := "type"
		if item {
			what = "item_type"
		}
		return fmt.Sprintf("%s %q is not supported (data types are not supported; use one of %s)", what, typ, strings.Join(userTypes, ", "))
	case typeSince[typ] != "" && dsl != "" && dsl < typeSince[typ]:
		return fmt.Sprintf("type %q needs tosca_definitions_version %s (this blueprint is %s)", typ, typeSince[typ], dsl)
	}
	return ""
}

// ResolveInputs returns the deployment's inputs: the given values checked
// against their declarations (type, constraints), defaults for the rest.
// Strings are converted to integer, float, boolean, list or dict inputs as
// `cfy -i key=value` values would be. Missing required inputs and undeclared
// given inputs are errors. All problems are returned together, each naming
// the input. Intrinsic functions in values are left for Evaluate.
func (bp *Blueprint) ResolveInputs(given map[string]any) (map[string]any, error) {
	return resolve("input", "the blueprint", bp.Inputs, bp.InputOrder, given)
}

// ResolveParameters does for a workflow's parameters what ResolveInputs does
// for inputs.
func (w *Workflow) ResolveParameters(given map[string]any) (map[string]any, error) {
	return resolve("parameter", fmt.Sprintf("workflow %q", w.Name), w.Parameters, w.ParameterOrder, given)
}

func resolve(kind, owner string, decl map[string]*Input, order []string, given map[string]any) (map[string]any, error) {
	var problems []error
	out := make(map[string]any, len(decl))
	for _, name := range order {
		in := decl[name]
		v, ok := given[name]
		switch {
		case ok:
		case in.HasDefault:
			v = deepCopy(in.Default)
		case in.Required:
			problems = append(problems, fmt.Errorf("%s %q is required and has no default: give a value%s", kind, name, typeHint(in)))
			continue
		default:
			out[name] = nil
			continue
		}
		v, err := in.Check(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s %q: %w", kind, name, err))
			continue
		}
		out[name] = v
	}
	declared := slices.Sorted(maps.Keys(decl))
	for _, name := range slices.Sorted(maps.Keys(given)) {
		if decl[name] == nil {
			problems = append(problems, fmt.Errorf("%s %q is not declared by %s%s", kind, name, owner, suggestName(name, declared)))
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return out, nil
}

func typeHint(in *Input) string {
	if in.Type == "" {
		return ""
	}
	return " of type " + in.Type
}

func suggestName(name string, declared []string) string {
	if len(declared) == 0 {
		return " (it declares none)"
	}
	return suggest(name, declared)
}

// Check validates one value against the declaration and returns it,
// converted from a string when the type asks for a number, a boolean, a list
// or a dict (and from a whole float64 for an integer, as JSON decoders give). Values holding intrinsic functions are not checked (an input
// with constraints may not hold one).
func (in *Input) Check(v any) (any, error) { return in.check(v, true) }

func (in *Input) check(v any, coerce bool) (any, error) {
	if len(Functions(v)) > 0 {
		if len(in.Constraints) > 0 {
			return nil, fmt.Errorf("%s holds an intrinsic function, which an input with constraints cannot", show(v))
		}
		return v, nil
	}
	v, err := checkType(in.Type, v, coerce)
	if err != nil {
		return nil, err
	}
	items := []any{v}
	if in.ItemType != "" && in.Type == "list" {
		items = v.([]any)
		for i, item := range items {
			if items[i], err = checkType(in.ItemType, item, false); err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
		}
	}
	for _, item := range items {
		for _, c := range in.Constraints {
			if err := c.Check(item); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// checkType checks v against a type name. With coerce, strings are parsed
// into integers, floats, booleans, lists and dicts, and whole float64
// numbers are accepted as integers.
func checkType(typ string, v any, coerce bool) (any, error) {
	s, isString := v.(string)
	coerceAny := coerce
	coerce = coerce && isString
	switch {
	case slices.Contains(anyTypes, typ):
		return v, nil
	case typ == "string" || slices.Contains(stringLikeTypes, typ):
		if !isString {
			return nil, fmt.Errorf("%s is not a string", show(v))
		}
	case typ == "regex":
		if !isString {
			return nil, fmt.Errorf("%s is not a string (a regular expression)", show(v))
		}
		if _, err := regexp.Compile(s); err != nil {
			return nil, fmt.Errorf("%q is not a regular expression Go (RE2) accepts: %v", s, err)
		}
	case typ == "integer":
		if coerce {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
				return n, nil
			}
		}
		if f, ok := v.(float64); ok && coerceAny && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int(f), nil // from a JSON decoder that reads every number as float64
		}
		if _, ok := v.(int); !ok {
			return nil, fmt.Errorf("%s is not an integer", show(v))
		}
	case typ == "float":
		if coerce {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
				return n, nil
			}
			if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				return f, nil
			}
		}
		if _, ok := number(v); !ok {
			return nil, fmt.Errorf("%s is not a number", show(v))
		}
	case typ == "boolean":
		if coerce {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		if _, ok := v.(bool); !ok {
			return nil, fmt.Errorf("%s is not a boolean (true or false)", show(v))
		}
	case typ == "list":
		if coerce {
			if l, ok := parseFlow(s).([]any); ok {
				return l, nil
			}
		}
		if _, ok := v.([]any); !ok {
			return nil, fmt.Errorf("%s is not a list (e.g. [a, b])", show(v))
		}
	case typ == "dict":
		if coerce {
			if m, ok := parseFlow(s).(map[string]any); ok {
				return m, nil
			}
		}
		if _, ok := v.(map[string]any); !ok {
			return nil, fmt.Errorf("%s is not a mapping (e.g. {a: 1})", show(v))
		}
	default:
		return nil, fmt.Errorf("type %q is not supported", typ)
	}
	return v, nil
}

// parseFlow reads a list or dict given as text (JSON or YAML flow style).
func parseFlow(s string) any {
	n, err := yamllimit.Parse("value", []byte(s))
	if err != nil || len(n.Content) != 1 {
		return nil
	}
	r := &reader{loader: &loader{}, file: "value"}
	v := r.value(n.Content[0], "value", ctxInert)
	if len(r.list) > 0 {
		return nil
	}
	return v
}
