package blueprint

import (
	"os"
	"path/filepath"
	"strings"
)

// childComponent is a Component or ServiceComponent node and the child
// deployment it creates (shared/cloudify-compat.md 6).
type childComponent struct {
	node         string
	blueprintID  string
	deploymentID string // "" when only the run time knows it
	// main is the child blueprint's main file: blueprint_archive relative
	// to this blueprint, or the folder named like the blueprint id next to
	// it, as chaosops local resolves them. "" when neither exists.
	main string
}

// componentsOf lists a blueprint's components by node name, and the nodes
// whose child blueprint is not a folder here.
func componentsOf(bp *Blueprint) (comps map[string]*childComponent, unresolved []string) {
	comps = map[string]*childComponent{}
	for _, name := range bp.NodeOrder {
		n := bp.Nodes[name]
		if !n.Is(TypeComponent) {
			continue
		}
		rc := n.Properties["resource_config"]
		get := func(keys ...any) string {
			v, err := Lookup(rc, keys)
			if err != nil {
				return ""
			}
			out, err := Evaluate(v, Scope{Self: name}, &StaticResolver{Blueprint: bp})
			s, _ := out.(string)
			if err != nil {
				return ""
			}
			return s
		}
		c := &childComponent{node: name, blueprintID: get("blueprint", "id"), deploymentID: get("deployment", "id")}
		archive, mainName := get("blueprint", "blueprint_archive"), get("blueprint", "main_file_name")
		switch {
		case archive != "" && !strings.Contains(archive, "://"):
			c.main = MainFile(filepath.Join(bp.Dir, archive), mainName)
		case c.blueprintID != "":
			c.main = MainFile(filepath.Join(filepath.Dir(bp.Dir), c.blueprintID), mainName)
		}
		if c.main != "" {
			if info, err := os.Stat(c.main); err != nil || info.IsDir() {
				c.main = ""
			}
		}
		if c.main == "" {
			unresolved = append(unresolved, name)
		}
		comps[name] = c
	}
	return comps, unresolved
}

// composition checks what a blueprint reads from its children and from
// the blueprints that deploy it.
func (k *check) composition() {
	comps, unresolved := componentsOf(k.bp)
	for _, name := range unresolved {
		c := comps[name]
		if c.blueprintID == "" {
			continue // a blueprint id only the run time knows
		}
		k.warnings.add(k.bp.Nodes[name].Pos, "node_templates.%s: blueprint %q is not a folder next to this one (%s), so what this blueprint reads from it is not checked; it must be uploaded before install",
			name, c.blueprintID, filepath.Dir(k.bp.Dir))
	}
	var parents []*Blueprint
	parentsRead := false
	for _, f := range k.bp.funcs {
		list := asList(f.Args)
		switch f.Name {
		case FuncGetCapability:
			if name, ok := list[1].(string); ok {
				k.childExports(f, k.childOf(list[0], comps), "capabilities", name)
			}
		case FuncGetAttribute:
			// [component, deployment, capabilities|outputs, name]: what
			// the component stores of its deployment.
			if len(list) < 4 || list[1] != "deployment" {
				continue
			}
			node, _ := list[0].(string)
			kind, _ := list[2].(string)
			name, ok := list[3].(string)
			if ok && (kind == "capabilities" || kind == "outputs") {
				k.childExports(f, comps[node], kind, name)
			}
		case FuncGetEnvironmentCapability:
			name, ok := list[0].(string)
			if !ok {
				continue
			}
			if !parentsRead {
				parents, parentsRead = k.parents(), true
			}
			for _, p := range parents {
				if p.Capabilities[name] == nil {
					k.problems.add(f.Pos, "%s: get_environment_capability: %s deploys this blueprint but has no capability %q%s",
						f.Path, p.MainFile, name, exported(name, p.CapabilityOrder))
				}
			}
		}
	}
}

// childOf finds the component whose deployment a get_capability names:
// by a literal or static deployment id, or by the component's own record
// of it ({get_attribute: [node, deployment, id]}, {get_property: [node,
// resource_config, deployment, id]}).
func (k *check) childOf(dep any, comps map[string]*childComponent) *childComponent {
	if name, args, isCall := call(dep); isCall {
		l := asList(args)
		node, _ := l[0].(string)
		switch {
		case name == FuncGetAttribute && len(l) == 3 && l[1] == "deployment" && l[2] == "id":
			return comps[node]
		case name == FuncGetProperty && len(l) == 4 && l[1] == "resource_config" && l[2] == "deployment" && l[3] == "id":
			return comps[node]
		}
	}
	id, ok := k.staticString(dep, Scope{})
	if !ok || id == "" {
		return nil
	}
	for _, name := range k.bp.NodeOrder {
		if c := comps[name]; c != nil && c.deploymentID == id {
			return c
		}
	}
	return nil
}

// childExports reports a capability (or output) the child's blueprint
// does not have.
func (k *check) childExports(f FuncRef, c *childComponent, kind, name string) {
	if c == nil || c.main == "" {
		return
	}
	child := k.load(c.main).bp
	if child == nil {
		k.warnings.add(f.Pos, "%s: %s: cannot check %q: %s does not load (lint it)", f.Path, f.Name, name, c.main)
		return
	}
	defs, order := child.Capabilities, child.CapabilityOrder
	if kind == "outputs" {
		defs, order = child.Outputs, child.OutputOrder
	}
	if defs[name] == nil {
		k.problems.add(f.Pos, "%s: %s: %s, the blueprint of node %s, has no %s %q%s",
			f.Path, f.Name, c.main, c.node, singular[kind], name, exported(name, order))
	}
}

var singular = map[string]string{"capabilities": "capability", "outputs": "output"}

// exported lists what a blueprint exports, for a message.
func exported(name string, names []string) string {
	if len(names) == 0 {
		return " (it exports none)"
	}
	return suggest(name, names)
}

// parents lists the blueprints next to this one that deploy it as a
// component: get_environment_capability reads their capabilities.
func (k *check) parents() []*Blueprint {
	self, _ := filepath.Abs(k.bp.MainFile)
	root := filepath.Dir(k.bp.Dir)
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var out []*Blueprint
	for _, e := range entries {
		main := filepath.Join(root, e.Name(), "blueprint.yaml")
		if abs, _ := filepath.Abs(main); abs == self {
			continue
		}
		if _, err := os.Stat(main); err != nil {
			continue
		}
		bp := k.load(main).bp
		if bp == nil {
			continue
		}
		comps, _ := componentsOf(bp)
		for _, name := range bp.NodeOrder {
			if c := comps[name]; c != nil && c.main != "" {
				if abs, _ := filepath.Abs(c.main); abs == self {
					out = append(out, bp)
					break
				}
			}
		}
	}
	return out
}
