package blueprint

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// rawNode is a node template as written, before it is completed from its
// type. Positions of property keys are kept for error messages.
type rawNode struct {
	tpl       *NodeTemplate
	typePos   Pos
	props     map[string]any
	propPos   map[string]Pos
	ifaces    ifaceMap
	rels      []*rawRel
	instances *int // instances.deploy
	scalable  map[string]int
	scalePos  Pos
}

type rawRel struct {
	rel                *Relationship
	typePos            Pos
	targetPos          Pos
	props              map[string]any
	propPos            map[string]Pos
	source, target     ifaceMap
	hasType, hasTarget bool
}

var nodeTemplateKeys = []string{"type", "properties", "interfaces", "relationships", "instances", "capabilities"}

func (r *reader) nodeTemplates(n *yaml.Node) {
	pairs, _ := r.mapping(n, "node_templates")
	for _, p := range pairs {
		where := "node_templates." + p.key
		rn := &rawNode{tpl: &NodeTemplate{Name: p.key, Pos: r.pos(p.k)}, props: map[string]any{}, propPos: map[string]Pos{}}
		np, _ := r.mapping(p.v, where)
		r.checkKeys(np, where, nodeTemplateKeys...)
		for _, q := range np {
			w := where + "." + q.key
			switch q.key {
			case "type":
				rn.tpl.Type, _ = r.str(q.v, w)
				rn.typePos = r.pos(q.v)
			case "properties":
				rn.props, rn.propPos = r.propertyValues(q.v, w, ctxNode)
			case "interfaces":
				rn.ifaces = r.interfaces(q.v, w, false, ctxNode)
			case "relationships":
				items, _ := r.sequence(q.v, w)
				for i, item := range items {
					rn.rels = append(rn.rels, r.relationship(item, fmt.Sprintf("%s[%d]", w, i)))
				}
			case "instances":
				ip, _ := r.mapping(q.v, w)
				r.checkKeys(ip, w, "deploy")
				for _, d := range ip {
					if i, ok := r.integer(d.v, w+".deploy"); ok {
						if i < 0 {
							r.add(r.pos(d.v), "%s.deploy: %d is negative", w, i)
						}
						rn.instances = &i
					}
				}
			case "capabilities":
				rn.scalable, rn.scalePos = r.scalable(q.v, w)
			}
		}
		if rn.tpl.Type == "" {
			r.add(rn.tpl.Pos, "%s: type is missing", where)
		}
		if rn.instances != nil && rn.scalable != nil {
			r.add(rn.scalePos, "%s: instances.deploy (deprecated) and capabilities.scalable cannot both be given; keep capabilities.scalable.properties.default_instances", where)
		}
		if r.define("node template", p.key, rn.tpl.Pos) {
			r.nodes[p.key] = rn
			r.bp.NodeOrder = append(r.bp.NodeOrder, p.key)
		}
	}
}

// scalable reads capabilities.scalable.properties.
func (r *reader) scalable(n *yaml.Node, where string) (map[string]int, Pos) {
	out := map[string]int{}
	cp, _ := r.mapping(n, where)
	r.checkKeys(cp, where, "scalable")
	for _, c := range cp {
		sp, _ := r.mapping(c.v, where+".scalable")
		r.checkKeys(sp, where+".scalable", "properties")
		for _, s := range sp {
			w := where + ".scalable.properties"
			props, _ := r.mapping(s.v, w)
			r.checkKeys(props, w, "default_instances", "min_instances", "max_instances")
			for _, p := range props {
				if deref(p.v).Kind == yaml.MappingNode {
					r.add(r.pos(p.v), "%s.%s: chaosops local needs a literal integer here", w, p.key)
					continue
				}
				if i, ok := r.integer(p.v, w+"."+p.key); ok {
					out[p.key] = i
				}
			}
		}
		return out, r.pos(c.k)
	}
	return out, r.pos(n)
}

func (r *reader) propertyValues(n *yaml.Node, where string, fc funcContext) (map[string]any, map[string]Pos) {
	props, pos := map[string]any{}, map[string]Pos{}
	pairs, _ := r.mapping(n, where)
	for _, p := range pairs {
		props[p.key] = r.value(p.v, where+"."+p.key, fc)
		pos[p.key] = r.pos(p.k)
	}
	return props, pos
}

var relationshipKeys = []string{"type", "target", "properties", "source_interfaces", "target_interfaces"}

func (r *reader) relationship(n *yaml.Node, where string) *rawRel {
	rr := &rawRel{rel: &Relationship{Pos: r.pos(n)}, props: map[string]any{}, propPos: map[string]Pos{}}
	pairs, _ := r.mapping(n, where)
	r.checkKeys(pairs, where, relationshipKeys...)
	for _, p := range pairs {
		w := where + "." + p.key
		switch p.key {
		case "type":
			rr.rel.Type, rr.hasType = r.str(p.v, w)
			rr.typePos = r.pos(p.v)
		case "target":
			rr.rel.Target, rr.hasTarget = r.str(p.v, w)
			rr.targetPos = r.pos(p.v)
		case "properties":
			rr.props, rr.propPos = r.propertyValues(p.v, w, ctxPlain)
		case "source_interfaces":
			rr.source = r.interfaces(p.v, w, false, ctxRelationship)
		case "target_interfaces":
			rr.target = r.interfaces(p.v, w, false, ctxRelationship)
		}
	}
	if !rr.hasType {
		r.add(rr.rel.Pos, "%s: type is missing", where)
	}
	if !rr.hasTarget {
		r.add(rr.rel.Pos, "%s: target is missing", where)
	}
	return rr
}
