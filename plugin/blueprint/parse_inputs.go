package blueprint

import (
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

// schemaKind says where a declaration appears, which decides its keys.
type schemaKind int

const (
	schemaInput    schemaKind = iota // inputs and workflow parameters
	schemaProperty                   // properties of node and relationship types
	schemaOpInput                    // inputs of a type's operation
)

var schemaKeys = map[schemaKind][]string{
	schemaInput: {"type", "item_type", "default", "description", "required", "constraints",
		"display_label", "hidden", "display"},
	schemaProperty: {"type", "default", "description", "required"},
	schemaOpInput:  {"type", "default", "description", "required"},
}

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
	r.checkKeys(pairs, where, schemaKeys[kind]...)
	required := true
	for _, p := range pairs {
		w := where + "." + p.key
		switch p.key {
		case "type":
			in.Type, _ = r.str(p.v, w)
			r.checkTypeName(in.Type, p.v, w, kind)
		case "item_type":
			in.ItemType, _ = r.str(p.v, w)
			r.checkTypeName(in.ItemType, p.v, w, kind)
		case "default":
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
			in.Constraints = r.constraints(p.v, w)
		}
	}
	// A default always satisfies the requirement.
	in.Required = required && !in.HasDefault
	if in.HasDefault && in.Default != nil && kind != schemaOpInput {
		if _, err := in.check(in.Default, false); err != nil {
			r.add(in.Pos, "%s: the default %v", where, err)
		}
	}
	return in
}

func (r *reader) checkTypeName(typ string, n *yaml.Node, where string, kind schemaKind) {
	switch {
	case typ == "" || slices.Contains(primitiveTypes, typ) || slices.Contains(anyTypes, typ):
	case slices.Contains(stringLikeTypes, typ) && kind == schemaInput:
		if r.bp.DSLVersion != "" && r.bp.DSLVersion < "cloudify_dsl_1_5" {
			r.add(r.pos(n), "%s: type %q needs tosca_definitions_version cloudify_dsl_1_5 (this blueprint is %s)", where, typ, r.bp.DSLVersion)
		}
	default:
		r.add(r.pos(n), "%s: type %q is not supported by chaosops local (data types are not supported; use one of %v)", where, typ, primitiveTypes)
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

func (r *reader) constraints(n *yaml.Node, where string) []*Constraint {
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
						in := r.schema(pp.k, pp.v, where+".parameters."+pp.key, schemaInput, ctxInert)
						w.Parameters[pp.key] = in
						w.ParameterOrder = append(w.ParameterOrder, pp.key)
					}
				case "availability_rules":
					if m, ok := r.value(q.v, where+".availability_rules", ctxInert).(map[string]any); ok {
						w.AvailabilityRules = m
					} else if !isNull(q.v) {
						r.add(r.pos(q.v), "%s.availability_rules: expected a mapping, got %s", where, describe(q.v))
					}
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
