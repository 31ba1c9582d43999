package blueprint

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// schemaKind says where a declaration appears, which decides its keys.
type schemaKind int

const (
	schemaInput     schemaKind = iota // inputs
	schemaParameter                   // workflow parameters
	schemaProperty                    // properties of node and relationship types
	schemaOpInput                     // inputs of a type's operation
)

// schemaKeys are the keys of each kind, as dsl_parser's schemas have them
// (InputSchemaProperty, ParameterSchemaProperty, SchemaProperty).
var schemaKeys = map[schemaKind][]string{
	schemaInput: {"type", "item_type", "default", "description", "required", "constraints",
		"display_label", "hidden", "display"},
	schemaParameter: {"type", "item_type", "default", "description", "required", "constraints"},
	schemaProperty:  {"type", "default", "description", "required"},
	schemaOpInput:   {"type", "default", "description", "required"},
}

// inputOnlyKeys are the keys of the UI's hints that dsl_parser accepts on
// inputs only.
var inputOnlyKeys = []string{"display_label", "hidden", "display"}

// nullDefaultRefused are the parameter types for which a manager cannot
// start the workflow with a null default: it converts every typed value
// (merge_workflow_parameters), and int(None), float(None), None.lower()
// and iterating None crash it, while a string must be one.
var nullDefaultRefused = []string{"integer", "float", "boolean", "list", "string"}

// schema reads one declaration. fc is the context of intrinsic functions in
// its default.
func (r *reader) schema(key, n *yaml.Node, where string, kind schemaKind, fc funcContext) *Input {
	in := &Input{Name: key.Value, Pos: r.pos(key)}
	if v := deref(n); kind == schemaOpInput && !isNull(v) && v.Kind != yaml.MappingNode {
		r.add(r.pos(v), "%s: inputs of a type's operation are declarations: write {default: %s}", where, v.Value)
		return in
	}
	pairs, ok := r.mapping(n, where)
	if !ok {
		return in
	}
	if kind == schemaParameter {
		var rest []pair
		for _, p := range pairs {
			if slices.Contains(inputOnlyKeys, p.key) {
				r.add(r.pos(p.k), "%s: %q is not a key of a workflow parameter: Cloudify's parser accepts it on inputs, not on parameters (a parameter takes %s)",
					where, p.key, strings.Join(schemaKeys[schemaParameter], ", "))
				continue
			}
			rest = append(rest, p)
		}
		pairs = rest
	}
	r.checkKeys(pairs, where, schemaKeys[kind]...)
	required := true
	var typeNode, itemNode, defaultNode *yaml.Node
	for _, p := range pairs {
		w := where + "." + p.key
		switch p.key {
		case "type":
			in.Type, _ = r.str(p.v, w)
			typeNode = p.v
		case "item_type":
			in.ItemType, _ = r.str(p.v, w)
			itemNode = p.v
		case "default":
			defaultNode = p.k
			in.Default, in.HasDefault = r.value(p.v, w, fc), true
		case "description":
			in.Description, _ = r.str(p.v, w)
		case "display_label":
			in.DisplayLabel, _ = r.str(p.v, w)
		case "required":
			required, _ = r.boolean(p.v, w)
		case "hidden":
			in.Hidden, _ = r.boolean(p.v, w)
		case "constraints":
			in.Constraints = r.constraints(p.v, w, kind)
		}
	}
	r.checkTypes(in, typeNode, itemNode, where)
	// A default always satisfies the requirement.
	in.Required = required && !in.HasDefault
	if kind == schemaParameter && defaultNode != nil && in.Default == nil && slices.Contains(nullDefaultRefused, in.Type) {
		r.add(r.pos(defaultNode), "%s.default: a null default of a %s parameter fails every start on a manager, which converts it to a %s (integer, float, boolean and list crash it; a string is refused); to leave the parameter unset, write required: false and no default",
			where, in.Type, in.Type)
	}
	knownTypes := typeProblem(in.Type, "", false) == "" && typeProblem(in.ItemType, "", true) == ""
	if in.HasDefault && in.Default != nil && kind != schemaOpInput && knownTypes {
		if _, err := in.check(in.Default, false); err != nil {
			r.add(in.Pos, "%s: the default %v", where, err)
		}
	}
	return in
}

// checkTypes checks a declaration's type and item_type as dsl_parser's
// SchemaPropertyType and SchemaListItemType do, for every kind of
// declaration: a type of USER_PRIMITIVE_TYPES, within the blueprint's DSL
// version; item_type (DSL 1_4) only with type list, and a primitive type.
func (r *reader) checkTypes(in *Input, typeNode, itemNode *yaml.Node, where string) {
	dsl := r.bp.DSLVersion
	if msg := typeProblem(in.Type, dsl, false); msg != "" && typeNode != nil {
		r.add(r.pos(typeNode), "%s.type: %s", where, msg)
	}
	if itemNode == nil || isNull(deref(itemNode)) {
		return
	}
	w := where + ".item_type"
	switch {
	case dsl != "" && dsl < itemTypeSince:
		r.add(r.pos(itemNode), "%s: item_type needs tosca_definitions_version %s (this blueprint is %s)", w, itemTypeSince, dsl)
	case in.ItemType == "":
	case in.Type != "list":
		r.add(r.pos(itemNode), "%s: item_type is only for type list (the type is %q)", w, in.Type)
	default:
		if msg := typeProblem(in.ItemType, dsl, true); msg != "" {
			r.add(r.pos(itemNode), "%s: %s", w, msg)
		}
	}
}

func (r *reader) boolean(n *yaml.Node, where string) (bool, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		r.add(r.pos(n), "%s: expected true or false, got %s", where, describe(n))
		return false, false
	}
	var b bool
	_ = n.Decode(&b)
	return b, true
}

// integer reads a literal integer.
func (r *reader) integer(n *yaml.Node, where string) (int, bool) {
	v := r.value(n, where, ctxInert)
	i, ok := v.(int)
	if !ok {
		r.add(r.pos(n), "%s: expected an integer, got %s", where, describe(n))
	}
	return i, ok
}

// constraintMessageSince is the DSL version that added a constraint's
// error_message, on inputs only: a workflow parameter's constraint is a
// mapping of one key whatever the version.
const constraintMessageSince = "cloudify_dsl_1_5"

func (r *reader) constraints(n *yaml.Node, where string, kind schemaKind) []*Constraint {
	items, _ := r.sequence(n, where)
	var out []*Constraint
	for i, item := range items {
		w := fmt.Sprintf("%s[%d]", where, i)
		pairs, ok := r.mapping(item, w)
		if !ok {
			continue
		}
		var c *Constraint
		var msg string
		for _, p := range pairs {
			switch {
			case p.key == "error_message" && kind == schemaParameter:
				r.add(r.pos(p.k), "%s: error_message is not accepted in a workflow parameter's constraint (Cloudify's parser takes it on inputs of cloudify_dsl_1_5); remove it", w)
			case p.key == "error_message" && r.bp.DSLVersion != "" && r.bp.DSLVersion < constraintMessageSince:
				r.add(r.pos(p.k), "%s: error_message needs tosca_definitions_version %s (this blueprint is %s)", w, constraintMessageSince, r.bp.DSLVersion)
			case p.key == "error_message":
				msg, _ = r.str(p.v, w+".error_message")
			case c != nil:
				r.add(r.pos(p.k), "%s: one constraint per list item (found %q after %q)", w, p.key, c.Op)
			case slices.Contains(managerConstraintOps, p.key):
				r.add(r.pos(p.k), "%s: constraint %q queries a Cloudify manager and is not supported by chaosops local", w, p.key)
			case !slices.Contains(constraintOps, p.key):
				r.add(r.pos(p.k), "%s: unknown constraint %q%s", w, p.key, suggest(p.key, constraintOps))
			default:
				var err error
				if c, err = newConstraint(p.key, r.value(p.v, w+"."+p.key, ctxInert)); err != nil {
					r.add(r.pos(p.v), "%s: %v", w, err)
					c = &Constraint{Op: p.key} // stop further keys being read as constraints
					continue
				}
				c.Pos = r.pos(p.k)
				out = append(out, c)
			}
		}
		if c != nil {
			c.ErrorMessage = msg
		}
	}
	return out
}

func (r *reader) inputs(n *yaml.Node) {
	pairs, _ := r.mapping(n, "inputs")
	for _, p := range pairs {
		where := "inputs." + p.key
		in := r.schema(p.k, p.v, where, schemaInput, ctxPlain)
		if r.define("input", p.key, in.Pos) {
			r.bp.Inputs[p.key] = in
			r.bp.InputOrder = append(r.bp.InputOrder, p.key)
		}
	}
}

func (r *reader) workflows(n *yaml.Node) {
	pairs, _ := r.mapping(n, "workflows")
	for _, p := range pairs {
		where := "workflows." + p.key
		w := &Workflow{Name: p.key, Pos: r.pos(p.k), Parameters: map[string]*Input{}}
		if v := deref(p.v); v.Kind == yaml.ScalarNode {
			w.Mapping, _ = r.str(v, where)
		} else if wp, ok := r.mapping(v, where); ok {
			r.checkKeys(wp, where, "mapping", "parameters", "availability_rules", "is_cascading")
			for _, q := range wp {
				switch q.key {
				case "mapping":
					w.Mapping, _ = r.str(q.v, where+".mapping")
				case "parameters":
					params, _ := r.mapping(q.v, where+".parameters")
					for _, pp := range params {
						in := r.schema(pp.k, pp.v, where+".parameters."+pp.key, schemaParameter, ctxInert)
						w.Parameters[pp.key] = in
						w.ParameterOrder = append(w.ParameterOrder, pp.key)
					}
				case "availability_rules":
					w.AvailabilityRules = r.availabilityRules(q.k, q.v, where+".availability_rules", w)
				case "is_cascading":
					if b, ok := r.boolean(q.v, where+".is_cascading"); ok {
						w.IsCascading = &b
					}
				}
			}
		}
		if w.Mapping == "" {
			r.add(w.Pos, "%s: mapping is missing: give the plugin task or script the workflow runs", where)
		}
		if r.define("workflow", p.key, w.Pos) {
			r.bp.Workflows[p.key] = w
		}
	}
}

// Availability rules a workflow may have (DSL 1_4), and the values of
// node_instances_active, as dsl_parser's WorkflowAvailabilityRules has them.
var (
	availabilityRuleKeys   = []string{"available", "node_instances_active", "node_types_required"}
	nodeInstancesActive    = []string{"all", "partial", "none"}
	availabilityRulesSince = "cloudify_dsl_1_4"
)

// availabilityRules reads a workflow's availability_rules. The node types
// of node_types_required are checked once every file is read.
func (r *reader) availabilityRules(k, n *yaml.Node, where string, wf *Workflow) map[string]any {
	if isNull(deref(n)) {
		return nil
	}
	if dsl := r.bp.DSLVersion; dsl != "" && dsl < availabilityRulesSince {
		r.add(r.pos(k), "%s: availability_rules needs tosca_definitions_version %s (this blueprint is %s)", where, availabilityRulesSince, dsl)
	}
	pairs, ok := r.mapping(n, where)
	if !ok {
		return nil
	}
	out := map[string]any{}
	for _, p := range pairs {
		w := where + "." + p.key
		v := r.value(p.v, w, ctxInert)
		switch p.key {
		case "available":
			if _, ok := v.(bool); !ok && v != nil {
				r.add(r.pos(p.v), "%s: expected true or false, got %s", w, describe(p.v))
				continue
			}
		case "node_instances_active":
			if !listOf(v, func(x any) bool { s, ok := x.(string); return ok && slices.Contains(nodeInstancesActive, s) }) {
				r.add(r.pos(p.v), "%s: expected a list of %s, got %s", w, strings.Join(nodeInstancesActive, ", "), show(v))
				continue
			}
		case "node_types_required":
			if !listOf(v, func(x any) bool { _, ok := x.(string); return ok }) {
				r.add(r.pos(p.v), "%s: expected a list of node type names, got %s", w, show(v))
				continue
			}
			wf.typesRequiredPos = r.pos(p.v)
		default:
			r.add(r.pos(p.k), "%s: unknown availability rule %q%s (available: true|false, node_instances_active: [%s], node_types_required: [node type, ...])",
				where, p.key, suggest(p.key, availabilityRuleKeys), strings.Join(nodeInstancesActive, "|"))
			continue
		}
		out[p.key] = v
	}
	return out
}

// listOf reports whether v is null or a list whose every item passes ok.
func listOf(v any, ok func(any) bool) bool {
	if v == nil {
		return true
	}
	l, isList := v.([]any)
	return isList && !slices.ContainsFunc(l, func(x any) bool { return !ok(x) })
}

// outputs reads outputs or capabilities: name -> {value, description}.
func (r *reader) outputs(n *yaml.Node, section string, into map[string]*Output, order *[]string) {
	pairs, _ := r.mapping(n, section)
	kind := section[:len(section)-1]
	if section == "capabilities" {
		kind = "capability"
	}
	for _, p := range pairs {
		where := section + "." + p.key
		o := &Output{Name: p.key, Pos: r.pos(p.k)}
		op, ok := r.mapping(p.v, where)
		if !ok {
			continue
		}
		r.checkKeys(op, where, "value", "description")
		hasValue := false
		for _, q := range op {
			switch q.key {
			case "value":
				o.Value, hasValue = r.value(q.v, where+".value", ctxPlain), true
			case "description":
				o.Description, _ = r.str(q.v, where+".description")
			}
		}
		if !hasValue {
			r.add(o.Pos, "%s: value is missing", where)
		}
		if r.define(kind, p.key, o.Pos) {
			into[p.key] = o
			*order = append(*order, p.key)
		}
	}
}

// labels reads key -> {values: [...]}.
func (r *reader) labels(n *yaml.Node, section string, into map[string][]any) {
	pairs, _ := r.mapping(n, section)
	for _, p := range pairs {
		where := section + "." + p.key
		lp, ok := r.mapping(p.v, where)
		if !ok {
			continue
		}
		r.checkKeys(lp, where, "values")
		var values []any
		for _, q := range lp {
			if l, ok := r.value(q.v, where+".values", ctxPlain).([]any); ok {
				values = l
			} else {
				r.add(r.pos(q.v), "%s.values: expected a list, got %s", where, describe(q.v))
			}
		}
		if r.define(section[:len(section)-1], p.key, r.pos(p.k)) {
			into[p.key] = values
		}
	}
}
