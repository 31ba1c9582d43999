package blueprint

import (
	"path/filepath"
	"slices"
	"strings"
)

// ExecuteOperationMapping is the mapping of Cloudify's generic workflow,
// the one a bundle's workflows use (shared/cloudify-compat.md 3).
const ExecuteOperationMapping = "default_workflows.cloudify.plugins.workflows.execute_operation"

// executeOperationParameters are the parameters execute_operation takes.
// Cloudify calls a workflow's mapping with the declared parameters only,
// and the function has no default for any of them; anything else lands in
// its **kwargs and is dropped.
var executeOperationParameters = []string{
	"operation", "operation_kwargs", "allow_kwargs_override", "run_by_dependency_order",
	"type_names", "node_ids", "node_instance_ids",
}

// workflows checks the blueprint's own workflows.
func (k *check) workflows() {
	for _, name := range sortedKeys(k.bp.Workflows) {
		w := k.bp.Workflows[name]
		if w.Builtin {
			continue
		}
		if slices.Contains(k.opt.Catalog.Implementations, filepath.ToSlash(filepath.Clean(w.Mapping))) {
			k.promoted[w.Pos] = true
			k.problems.add(w.Pos, "workflows.%s.mapping: the manager runs a workflow's script as Python, so %s cannot be a mapping; map the workflow to %s with parameter operation",
				name, w.Mapping, ExecuteOperationMapping)
			continue
		}
		if w.Forwards {
			k.forwarder(w)
			continue
		}
		if w.Mapping != ExecuteOperationMapping {
			continue
		}
		var missing []string
		for _, p := range executeOperationParameters {
			if w.Parameters[p] == nil {
				missing = append(missing, p)
			}
		}
		if len(missing) > 0 {
			k.problems.add(w.Pos, "workflows.%s.parameters: execute_operation needs %s, which the workflow does not declare; Cloudify passes only declared parameters, so the execution fails: declare each with a default (e.g. %s: {default: []})",
				name, strings.Join(missing, ", "), missing[len(missing)-1])
		}
		for _, p := range w.ParameterOrder {
			if !slices.Contains(executeOperationParameters, p) {
				k.problems.add(w.Parameters[p].Pos, "workflows.%s.parameters.%s: execute_operation never reads this parameter, so a value given at start is dropped; remove it, or pass the value to the operation inside operation_kwargs",
					name, p)
			}
		}
		// An execute_operation that finds no node with the operation does
		// nothing and succeeds: Blueprint.Lint's findings are problems here.
		found := &errs{}
		k.bp.lintWorkflow(found, w)
		for _, e := range found.list {
			k.promoted[e.Pos] = true
			k.problems.list = append(k.problems.list, e)
		}
		k.operationKwargs(w)
	}
}

// operationKwargs checks the default operation_kwargs against the inputs
// of the operation the workflow runs on each node it targets.
func (k *check) operationKwargs(w *Workflow) {
	op, _ := defaultOf(w, "operation").(string)
	kwargs, _ := defaultOf(w, "operation_kwargs").(map[string]any)
	if op == "" || len(kwargs) == 0 {
		return
	}
	nodes := k.bp.NodeOrder
	if ids := splitList(defaultOf(w, "node_ids")); len(ids) > 0 {
		nodes = ids
	}
	for _, name := range nodes {
		n := k.bp.Nodes[name]
		if n == nil || n.Operation(op) == nil || !k.runsExecutable(n.Operation(op)) {
			continue
		}
		o := n.Operation(op)
		handler, ok := k.handler(o, Scope{Self: name})
		spec, known := k.opt.Catalog.Operations[handler]
		if !ok || !known {
			continue // reported with the operation
		}
		override, _ := defaultOf(w, "allow_kwargs_override").(bool)
		override = override || w.Forwards // the forwarder always allows it
		for _, in := range sortedKeys(kwargs) {
			_, clash := o.Inputs[in]
			switch {
			case !slices.Contains(spec.Inputs, in):
				k.problems.add(w.Parameters["operation_kwargs"].Pos, "workflows.%s.parameters.operation_kwargs: %q is not an input of %s (operation %s of node %s)%s",
					w.Name, in, handler, op, name, suggest(in, spec.Inputs))
			case clash && !override:
				k.problems.add(w.Parameters["operation_kwargs"].Pos, "workflows.%s.parameters.operation_kwargs: %q is also an input of operation %s of node %s, and Cloudify refuses the clash unless allow_kwargs_override defaults to true",
					w.Name, in, op, name)
			}
		}
	}
}

// forwarderSteering are the parameters the forwarder script reads itself;
// every other parameter that is set becomes an operation input.
var forwarderSteering = []string{"operation", "node_ids", "operation_kwargs"}

// forwarder checks a workflow mapped to a forwarder script
// (ForwarderMarker): it names its operation and nodes by default, each
// node has the operation, and each parameter it forwards is an input the
// operation's handler reads on every node.
func (k *check) forwarder(w *Workflow) {
	where := "workflows." + w.Name + ".parameters"
	if p := w.Parameters["script_path"]; p != nil {
		k.problems.add(p.Pos, "%s.script_path: Cloudify's parser refuses this parameter on a workflow mapped to a script (it sets script_path to %s itself); rename it", where, w.Mapping)
	}
	op, _ := defaultOf(w, "operation").(string)
	if op == "" {
		k.problems.add(paramPos(w, "operation"), "%s.operation: %s runs the operation this parameter names, so it needs a string default (e.g. operation: {type: string, default: chaos_actions.run})", where, w.Mapping)
	}
	ids, isList := defaultOf(w, "node_ids").([]any)
	if !isList || len(ids) == 0 {
		k.problems.add(paramPos(w, "node_ids"), "%s.node_ids: %s runs the operation on the nodes this parameter lists, so it needs a list default that names them (e.g. node_ids: {type: list, item_type: string, default: [chaos]})", where, w.Mapping)
	}
	if op == "" {
		return
	}
	for _, id := range ids {
		name, _ := id.(string)
		n := k.bp.Nodes[name]
		switch {
		case n == nil:
			k.problems.add(paramPos(w, "node_ids"), "%s.node_ids: node %s does not exist%s", where, show(id), suggest(name, k.bp.NodeOrder))
			continue
		case n.Operation(op) == nil:
			k.problems.add(paramPos(w, "operation"), "%s.operation: node %s has no operation %q, and %s fails on a node without it", where, name, op, w.Mapping)
			continue
		case !k.runsExecutable(n.Operation(op)):
			continue
		}
		handler, ok := k.handler(n.Operation(op), Scope{Self: name})
		spec, known := k.opt.Catalog.Operations[handler]
		if !ok || !known {
			continue // reported with the operation
		}
		for _, p := range w.ParameterOrder {
			if slices.Contains(forwarderSteering, p) || p == "script_path" || slices.Contains(spec.Inputs, p) {
				continue
			}
			k.problems.add(w.Parameters[p].Pos, "%s.%s: forwarded as an input of %s (operation %s of node %s), which does not read it%s",
				where, p, handler, op, name, suggest(p, spec.Inputs))
		}
	}
	k.operationKwargs(w)
}

// paramPos is where a workflow declares a parameter, else the workflow.
func paramPos(w *Workflow, name string) Pos {
	if p := w.Parameters[name]; p != nil {
		return p.Pos
	}
	return w.Pos
}
