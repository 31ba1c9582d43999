package blueprint

import (
	"slices"

	"gopkg.in/yaml.v3"
)

func (r *reader) nodeTypes(n *yaml.Node) {
	pairs, _ := r.mapping(n, "node_types")
	for _, p := range pairs {
		where := "node_types." + p.key
		t := &NodeType{Name: p.key, Pos: r.pos(p.k), ownProperties: map[string]*Input{}, ownInterfaces: ifaceMap{}}
		tp, _ := r.mapping(p.v, where)
		r.checkKeys(tp, where, "derived_from", "properties", "interfaces")
		for _, q := range tp {
			switch q.key {
			case "derived_from":
				t.DerivedFrom, _ = r.str(q.v, where+".derived_from")
			case "properties":
				t.ownProperties = r.properties(q.v, where+".properties", ctxNode)
			case "interfaces":
				t.ownInterfaces = r.interfaces(q.v, where+".interfaces", true, ctxNode)
			}
		}
		if r.define("node type", p.key, t.Pos) {
			r.bp.NodeTypes[p.key] = t
		}
	}
}

func (r *reader) relationshipTypes(n *yaml.Node) {
	pairs, _ := r.mapping(n, "relationships")
	for _, p := range pairs {
		where := "relationships." + p.key
		t := &RelationshipType{Name: p.key, Pos: r.pos(p.k), ownProperties: map[string]*Input{},
			ownSource: ifaceMap{}, ownTarget: ifaceMap{}}
		tp, _ := r.mapping(p.v, where)
		r.checkKeys(tp, where, "derived_from", "properties", "source_interfaces", "target_interfaces")
		for _, q := range tp {
			switch q.key {
			case "derived_from":
				t.DerivedFrom, _ = r.str(q.v, where+".derived_from")
			case "properties":
				t.ownProperties = r.properties(q.v, where+".properties", ctxPlain)
			case "source_interfaces":
				t.ownSource = r.interfaces(q.v, where+".source_interfaces", true, ctxRelationship)
			case "target_interfaces":
				t.ownTarget = r.interfaces(q.v, where+".target_interfaces", true, ctxRelationship)
			}
		}
		if r.define("relationship type", p.key, t.Pos) {
			r.bp.Relationships[p.key] = t
		}
	}
}

func (r *reader) properties(n *yaml.Node, where string, fc funcContext) map[string]*Input {
	out := map[string]*Input{}
	pairs, _ := r.mapping(n, where)
	for _, p := range pairs {
		in := r.schema(p.k, p.v, where+"."+p.key, schemaProperty, fc)
		out[p.key] = in
	}
	return out
}

// ifaceMap maps interface name to operation name to operation.
type ifaceMap = map[string]map[string]*Operation

// interfaces reads an interfaces section. In a type (ofType), operation
// inputs are declarations {type, default, description}; in a template they
// are values.
func (r *reader) interfaces(n *yaml.Node, where string, ofType bool, fc funcContext) ifaceMap {
	out := ifaceMap{}
	pairs, _ := r.mapping(n, where)
	for _, p := range pairs {
		ops := map[string]*Operation{}
		out[p.key] = ops
		opPairs, _ := r.mapping(p.v, where+"."+p.key)
		for _, q := range opPairs {
			if isNull(q.v) {
				// A null operation is "not given": the parent's or the
				// type's stays, unlike {} which makes it a no-op.
				continue
			}
			op := r.operation(q.v, where+"."+p.key+"."+q.key, ofType, fc)
			op.Interface, op.Name, op.Pos = p.key, q.key, r.pos(q.k)
			ops[q.key] = op
		}
	}
	return out
}

var operationKeys = []string{"implementation", "inputs", "executor", "max_retries", "retry_interval", "timeout", "timeout_recoverable"}

// Executors an operation may name.
var executors = []string{"central_deployment_agent", "host_agent"}

func (r *reader) operation(n *yaml.Node, where string, ofType bool, fc funcContext) *Operation {
	op := &Operation{Inputs: map[string]any{}}
	if ofType {
		op.InputSchema = map[string]*Input{}
	}
	n = deref(n)
	if n.Kind == yaml.ScalarNode {
		op.Implementation, _ = r.str(n, where)
		return op
	}
	pairs, _ := r.mapping(n, where)
	r.checkKeys(pairs, where, operationKeys...)
	for _, p := range pairs {
		w := where + "." + p.key
		switch p.key {
		case "implementation":
			op.Implementation, _ = r.str(p.v, w)
		case "inputs":
			ip, _ := r.mapping(p.v, w)
			for _, q := range ip {
				if ofType {
					in := r.schema(q.k, q.v, w+"."+q.key, schemaOpInput, fc)
					op.InputSchema[q.key] = in
					if in.HasDefault {
						op.Inputs[q.key] = in.Default
					}
				} else {
					op.Inputs[q.key] = r.value(q.v, w+"."+q.key, fc)
				}
			}
		case "executor":
			if s, ok := r.str(p.v, w); ok {
				if !slices.Contains(executors, s) {
					r.add(r.pos(p.v), "%s: %q is not an executor (valid: central_deployment_agent, host_agent)", w, s)
				}
				op.Executor = s
			}
		case "max_retries":
			op.MaxRetries = r.intField(p.v, w, -1)
		case "retry_interval":
			op.RetryInterval = r.intField(p.v, w, 0)
		case "timeout":
			op.Timeout = r.intField(p.v, w, 0)
		case "timeout_recoverable":
			if b, ok := r.boolean(p.v, w); ok {
				op.TimeoutRecoverable = &b
			}
		}
	}
	return op
}

// intField reads an integer no smaller than lowest (-1 for max_retries:
// retry forever). Null means unset.
func (r *reader) intField(n *yaml.Node, where string, lowest int) *int {
	if isNull(n) {
		return nil
	}
	i, ok := r.integer(n, where)
	if !ok {
		return nil
	}
	if i < lowest {
		r.add(r.pos(n), "%s: %d is below the minimum %d", where, i, lowest)
	}
	return &i
}
