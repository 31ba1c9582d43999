package blueprint

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ForwarderMarker is the first line of a workflow script that forwards the
// workflow's parameters to an operation (blueprints/Python-Prometheus/
// workflows/forward.py): every parameter that is set, except operation,
// node_ids, operation_kwargs and script_path (which the parser adds to a
// script-mapped workflow), becomes an input of the same name of
// operation on each instance of node_ids; operation_kwargs' keys are
// forwarded too and win. The local runner runs such a workflow in Go.
const ForwarderMarker = "# chaosops:forward-parameters v1"

// isForwarder reports whether the script at path starts with ForwarderMarker.
func isForwarder(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	return strings.TrimRight(line, "\r\n") == ForwarderMarker
}

// link resolves type hierarchies, completes node templates from their
// types and checks every reference. It runs once all files are read.
func (l *loader) link() {
	bp := l.bp
	for _, name := range slices.Sorted(maps.Keys(bp.NodeTypes)) {
		l.linkNodeType(bp.NodeTypes[name])
	}
	for _, name := range slices.Sorted(maps.Keys(bp.Relationships)) {
		l.linkRelationshipType(bp.Relationships[name])
	}
	for _, name := range bp.NodeOrder {
		bp.Nodes[name] = l.nodes[name].tpl
	}
	for _, name := range bp.NodeOrder {
		l.linkNode(l.nodes[name])
	}
	for _, name := range slices.Sorted(maps.Keys(bp.Workflows)) {
		if w := bp.Workflows[name]; !w.Builtin && w.Mapping != "" {
			kind, err := l.classify("mapping", w.Mapping)
			if err != nil {
				l.add(w.Pos, "workflows.%s.mapping: %v", name, err)
			}
			w.Kind = kind
			w.Forwards = kind == ImplScript && isForwarder(filepath.Join(bp.Dir, filepath.FromSlash(w.Mapping)))
		}
		l.checkTypesRequired(bp.Workflows[name])
	}
	l.checkFunctions()
	if _, err := bp.Order(); err != nil {
		var e *Error
		if errors.As(err, &e) {
			l.list = append(l.list, e)
		}
	}
}

// checkTypesRequired reports the node types of a workflow's
// availability_rules.node_types_required that the blueprint does not
// define: a manager would never offer the workflow for them.
func (l *loader) checkTypesRequired(w *Workflow) {
	types, _ := w.AvailabilityRules["node_types_required"].([]any)
	for _, t := range types {
		if name, _ := t.(string); l.bp.NodeTypes[name] == nil {
			l.add(w.typesRequiredPos, "workflows.%s.availability_rules.node_types_required: node type %q is not defined%s%s",
				w.Name, name, l.typesHint(name), suggest(name, slices.Collect(maps.Keys(l.bp.NodeTypes))))
		}
	}
}

// hierarchy returns the chain of types from the root to name. parent gives
// a type's derived_from and position, and whether the type exists.
func (l *loader) hierarchy(kind, section, name string, parent func(string) (string, Pos, bool)) []string {
	chain := []string{name}
	for cur := name; ; {
		p, pos, _ := parent(cur)
		if p == "" {
			break
		}
		if _, _, ok := parent(p); !ok {
			l.add(pos, "%s.%s.derived_from: %q is not a defined %s%s", section, cur, p, kind, l.typesHint(p))
			return nil
		}
		if slices.Contains(chain, p) {
			_, start, _ := parent(name)
			l.add(start, "%s.%s.derived_from: the %s hierarchy has a cycle: %s -> %s", section, name, kind, strings.Join(chain, " -> "), p)
			return nil
		}
		chain = append(chain, p)
		cur = p
	}
	slices.Reverse(chain)
	return chain
}

// typesHint suggests importing types.yaml for a missing cloudify.* type.
func (l *loader) typesHint(name string) string {
	if strings.HasPrefix(name, "cloudify.") && !l.bp.officialTypes {
		return " (import cloudify/types/types.yaml for the built-in types)"
	}
	return ""
}

func (l *loader) linkNodeType(t *NodeType) {
	chain := l.hierarchy("node type", "node_types", t.Name, func(name string) (string, Pos, bool) {
		nt := l.bp.NodeTypes[name]
		if nt == nil {
			return "", Pos{}, false
		}
		return nt.DerivedFrom, nt.Pos, true
	})
	t.Hierarchy, t.Properties, t.Interfaces = chain, map[string]*Input{}, ifaceMap{}
	for _, name := range chain {
		a := l.bp.NodeTypes[name]
		maps.Copy(t.Properties, a.ownProperties)
		overrideInterfaces(t.Interfaces, a.ownInterfaces)
	}
	l.classifyOwn(t.ownInterfaces)
}

// classifyOwn sets the kind of a type's own operations. Problems are
// reported where a template uses the operation, as Cloudify does.
func (l *loader) classifyOwn(ifaces ifaceMap) {
	for _, ops := range ifaces {
		for _, op := range ops {
			op.Kind, _ = l.classify("implementation", op.Implementation)
		}
	}
}

func (l *loader) linkRelationshipType(t *RelationshipType) {
	chain := l.hierarchy("relationship type", "relationships", t.Name, func(name string) (string, Pos, bool) {
		rt := l.bp.Relationships[name]
		if rt == nil {
			return "", Pos{}, false
		}
		return rt.DerivedFrom, rt.Pos, true
	})
	t.Hierarchy, t.Properties, t.SourceInterfaces, t.TargetInterfaces = chain, map[string]*Input{}, ifaceMap{}, ifaceMap{}
	for _, name := range chain {
		a := l.bp.Relationships[name]
		maps.Copy(t.Properties, a.ownProperties)
		overrideInterfaces(t.SourceInterfaces, a.ownSource)
		overrideInterfaces(t.TargetInterfaces, a.ownTarget)
	}
	l.classifyOwn(t.ownSource)
	l.classifyOwn(t.ownTarget)
}

// overrideInterfaces applies a derived type's interfaces: each operation it
// declares replaces the parent's whole.
func overrideInterfaces(into, own ifaceMap) {
	for iface, ops := range own {
		if into[iface] == nil {
			into[iface] = map[string]*Operation{}
		}
		maps.Copy(into[iface], ops)
	}
}

func (l *loader) linkNode(rn *rawNode) {
	n := rn.tpl
	where := "node_templates." + n.Name
	n.Instances = l.instances(rn, where)
	if t := l.bp.NodeTypes[n.Type]; t != nil && t.Hierarchy != nil {
		n.TypeHierarchy = slices.Clone(t.Hierarchy)
		n.Properties = l.mergeProperties(t.Properties, rn.props, rn.propPos, where, n.Pos, "node type "+t.Name)
		n.Interfaces = l.mergeInterfaces(t.Interfaces, rn.ifaces, where+".interfaces", n.Pos)
	} else if t == nil && n.Type != "" {
		l.add(rn.typePos, "%s.type: %q is not a defined node type%s%s", where, n.Type, l.typesHint(n.Type),
			suggest(n.Type, slices.Collect(maps.Keys(l.bp.NodeTypes))))
	}
	var containers []string
	for i, rr := range rn.rels {
		rel := rr.rel
		w := fmt.Sprintf("%s.relationships[%d]", where, i)
		if rr.hasTarget {
			switch {
			case rel.Target == n.Name:
				l.add(rr.targetPos, "%s.target: a node cannot have a relationship to itself", w)
			case l.nodes[rel.Target] == nil:
				l.add(rr.targetPos, "%s.target: node %q does not exist%s", w, rel.Target, suggest(rel.Target, l.bp.NodeOrder))
			}
		}
		n.Relationships = append(n.Relationships, rel)
		if !rr.hasType {
			continue
		}
		rt := l.bp.Relationships[rel.Type]
		if rt == nil {
			l.add(rr.typePos, "%s.type: %q is not a defined relationship type%s%s", w, rel.Type, l.typesHint(rel.Type),
				suggest(rel.Type, slices.Collect(maps.Keys(l.bp.Relationships))))
			continue
		}
		if rt.Hierarchy == nil {
			continue
		}
		rel.TypeHierarchy = slices.Clone(rt.Hierarchy)
		rel.Properties = l.mergeProperties(rt.Properties, rr.props, rr.propPos, w, rel.Pos, "relationship type "+rt.Name)
		rel.SourceInterfaces = l.mergeInterfaces(rt.SourceInterfaces, rr.source, w+".source_interfaces", rel.Pos)
		rel.TargetInterfaces = l.mergeInterfaces(rt.TargetInterfaces, rr.target, w+".target_interfaces", rel.Pos)
		if rel.Is(RelContainedIn) {
			containers = append(containers, rel.Target)
		}
	}
	if len(containers) > 1 {
		l.add(n.Pos, "%s: a node can be contained in one node only, found %s", where, strings.Join(containers, ", "))
	}
}

func (l *loader) instances(rn *rawNode, where string) int {
	if rn.instances != nil {
		return *rn.instances
	}
	def, ok := rn.scalable["default_instances"]
	if !ok {
		def = 1
	}
	lo, ok := rn.scalable["min_instances"]
	if !ok {
		lo = 0
	}
	hi, ok := rn.scalable["max_instances"]
	if !ok {
		hi = -1
	}
	if def < 0 || lo < 0 || hi < -1 || def < lo || (hi != -1 && def > hi) {
		l.add(rn.scalePos, "%s.capabilities.scalable.properties: need 0 <= min_instances (%d) <= default_instances (%d) <= max_instances (%d, -1 = no limit)", where, lo, def, hi)
	}
	return def
}

// mergeProperties completes a template's properties from its type's schema.
func (l *loader) mergeProperties(schema map[string]*Input, given map[string]any, givenPos map[string]Pos, where string, owner Pos, typeName string) map[string]any {
	out := map[string]any{}
	declared := slices.Sorted(maps.Keys(schema))
	for _, k := range slices.Sorted(maps.Keys(given)) {
		v, s := given[k], schema[k]
		if s == nil {
			hint := " (it declares none)"
			if len(declared) > 0 {
				hint = suggest(k, declared)
			}
			l.add(givenPos[k], "%s.properties: %q is not a property of %s%s", where, k, typeName, hint)
			continue
		}
		if m, ok := v.(map[string]any); ok && s.mergeDefault {
			if d, ok := s.Default.(map[string]any); ok {
				v = mergeMaps(d, m)
			}
		}
		if s.Type != "" && len(Functions(v)) == 0 && v != nil {
			if _, err := checkType(s.Type, v, false); err != nil {
				l.add(givenPos[k], "%s.properties.%s: %v (the type says %s)", where, k, err, s.Type)
			}
		}
		out[k] = v
	}
	for _, k := range declared {
		s := schema[k]
		if _, ok := given[k]; ok {
			continue
		}
		switch {
		case s.HasDefault:
			out[k] = deepCopy(s.Default)
		case s.Required:
			l.add(owner, "%s: property %q is required by %s and has no default: give it under properties", where, k, typeName)
		}
	}
	return out
}

// mergeMaps returns over merged into a copy of base, recursively.
func mergeMaps(base, over map[string]any) map[string]any {
	out := deepCopy(base).(map[string]any)
	for k, v := range over {
		b, bok := out[k].(map[string]any)
		o, ook := v.(map[string]any)
		if bok && ook {
			out[k] = mergeMaps(b, o)
		} else {
			out[k] = v
		}
	}
	return out
}
