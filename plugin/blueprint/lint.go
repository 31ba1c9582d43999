package blueprint

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Lint returns warnings about what Load accepts but is likely a mistake or
// behaves differently on a manager: get_* keys that are not functions,
// script operations without an explicit executor, unused inputs, the URL
// form of the types.yaml import, functions where they are never evaluated,
// Compute nodes, Python workflow scripts, and execute_operation workflows
// naming an operation no node has. They are sorted by position.
func (bp *Blueprint) Lint() []*Error {
	c := &errs{files: bp.Files}
	for _, f := range bp.suspects {
		c.add(f.Pos, "%s: %q is not an intrinsic function, so this mapping is kept as data%s",
			f.Path, f.Name, suggest(f.Name, functionNames))
	}
	for _, p := range bp.officialTypesURL {
		c.add(p, "imports: the URL form of types.yaml depends on the manager's import resolver (and needs cloudify_dsl_1_5 there); import cloudify/types/types.yaml")
	}
	used := map[string]bool{}
	for _, f := range bp.funcs {
		if f.ctx == ctxInert {
			c.add(f.Pos, "%s: %s is never evaluated here", f.Path, f.Name)
		}
		if list := asList(f.Args); f.Name == FuncGetInput && len(list) > 0 {
			if name, ok := list[0].(string); ok {
				used[name] = true
			}
		}
	}
	for _, name := range bp.InputOrder {
		if !used[name] {
			c.add(bp.Inputs[name].Pos, "inputs.%s: declared but no get_input uses it", name)
		}
	}
	for _, name := range bp.NodeOrder {
		bp.lintNode(c, bp.Nodes[name])
	}
	for _, name := range slices.Sorted(maps.Keys(bp.Workflows)) {
		bp.lintWorkflow(c, bp.Workflows[name])
	}
	bp.lintSchedules(c)
	if err := c.err(); err != nil {
		return err.(ErrorList)
	}
	return nil
}

func (bp *Blueprint) lintNode(c *errs, n *NodeTemplate) {
	if n.Is(TypeCompute) {
		c.add(n.Pos, "node_templates.%s: %s needs a host with an agent; chaosops local creates no hosts", n.Name, TypeCompute)
	}
	for _, iface := range slices.Sorted(maps.Keys(n.Interfaces)) {
		for _, name := range slices.Sorted(maps.Keys(n.Interfaces[iface])) {
			op := n.Interfaces[iface][name]
			if op.Kind == ImplScript && op.Executor == "" {
				c.add(op.Pos, "operation %s: runs %s with executor auto; write executor: central_deployment_agent so that it runs on the manager", op.FullName(), op.Implementation)
			}
		}
	}
}

func (bp *Blueprint) lintWorkflow(c *errs, w *Workflow) {
	if w.Builtin {
		return
	}
	if w.Kind == ImplScript && !w.Forwards {
		c.add(w.Pos, "workflows.%s: a script mapping is run as Python by the manager; map the workflow to default_workflows.cloudify.plugins.workflows.execute_operation instead", w.Name)
	}
	if !strings.HasSuffix(w.Mapping, ".workflows.execute_operation") {
		return
	}
	p := w.Parameters["operation"]
	if p == nil {
		return
	}
	op, ok := p.Default.(string)
	if !ok || op == "" {
		return
	}
	nodes := bp.NodeOrder
	if ids, ok := defaultOf(w, "node_ids").([]any); ok && len(ids) > 0 {
		nodes = nil
		for _, id := range ids {
			if s, ok := id.(string); ok {
				if bp.Nodes[s] == nil {
					c.add(w.Parameters["node_ids"].Pos, "workflows.%s.parameters.node_ids: node %q does not exist", w.Name, s)
				}
				nodes = append(nodes, s)
			}
		}
	}
	for _, name := range nodes {
		if n := bp.Nodes[name]; n != nil && n.Operation(op) != nil {
			return
		}
	}
	c.add(p.Pos, "workflows.%s.parameters.operation: no node%s has operation %q", w.Name, nodeList(nodes, len(bp.NodeOrder)), op)
}

func defaultOf(w *Workflow, name string) any {
	if p := w.Parameters[name]; p != nil {
		return p.Default
	}
	return nil
}

func nodeList(nodes []string, all int) string {
	if len(nodes) == all {
		return ""
	}
	return fmt.Sprintf(" of %s", strings.Join(nodes, ", "))
}
