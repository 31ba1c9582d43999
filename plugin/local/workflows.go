package local

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/blueprint"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

// Lifecycle operations in the order the install and uninstall workflows run
// them (Cloudify's built-in workflows).
var (
	installOps   = []string{"precreate", "create", "configure", "start", "poststart"}
	uninstallOps = []string{"prestop", "stop", "delete", "postdelete"}
)

const lifecycle = "cloudify.interfaces.lifecycle"

// executeOperationMapping is the built-in workflow our custom workflows map
// to (spec section 3, option A).
const executeOperationMapping = "default_workflows.cloudify.plugins.workflows.execute_operation"

// Install creates the deployment (or resumes a failed install of it) and
// runs the install workflow: every node's lifecycle in dependency order,
// independent nodes in parallel.
func (r *Runner) Install(ctx context.Context, opt InstallOptions) error {
	if err := r.init(); err != nil {
		return err
	}
	if err := CheckName(opt.Name); err != nil {
		return err
	}
	bp, err := loadBlueprint(opt.Blueprint)
	if err != nil {
		return err
	}
	d, err := r.Store.Load(opt.Name)
	switch {
	case errors.Is(err, ErrNotFound):
		if d, err = r.newDeployment(bp, opt); err != nil {
			return err
		}
	case err != nil:
		return err
	case d.Blueprint != bp.MainFile:
		return fmt.Errorf("deployment %s already exists from %s; uninstall it first or pick another name", opt.Name, d.Blueprint)
	}
	ex, err := r.startExecution(d, "install", nil)
	if err != nil {
		return err
	}
	return r.endExecution(ctx, d, ex, r.install(ctx, bp, d, ex))
}

func (r *Runner) newDeployment(bp *blueprint.Blueprint, opt InstallOptions) (*Deployment, error) {
	inputs, err := bp.ResolveInputs(opt.Inputs)
	if err != nil {
		return nil, &failure.InvalidError{Err: fmt.Errorf("deployment %s: %w", opt.Name, err)}
	}
	d := &Deployment{
		Name: opt.Name, Blueprint: bp.MainFile, BlueprintID: blueprintID(bp),
		Inputs: inputs, Labels: map[string][]string{}, Instances: map[string]*NodeInstance{},
		Created: time.Now().UTC(),
	}
	for k, vs := range bp.Labels {
		for _, v := range vs {
			d.Labels[k] = append(d.Labels[k], fmt.Sprint(v))
		}
	}
	for k, vs := range opt.Labels {
		d.Labels[k] = append(d.Labels[k], vs...)
	}
	if p := d.Labels["csys-obj-parent"]; len(p) > 0 {
		d.Parent = p[0]
	}
	if d.Schedules, err = newSchedules(bp, d.Created); err != nil {
		return nil, &failure.InvalidError{Err: fmt.Errorf("deployment %s: %w", opt.Name, err)}
	}
	for _, name := range bp.NodeOrder {
		n := bp.Nodes[name]
		if n.Instances != 1 {
			return nil, fmt.Errorf("%s: node %s asks for %d instances; chaosops local runs exactly one instance per node", n.Pos, name, n.Instances)
		}
		if err := checkRelationshipOps(n); err != nil {
			return nil, err
		}
		id := newID(name + "_")
		d.Instances[id] = &NodeInstance{ID: id, Node: name, State: "uninitialized", RuntimeProperties: map[string]any{}}
	}
	return d, r.save(d)
}

func blueprintID(bp *blueprint.Blueprint) string {
	dir := bp.Dir
	for i := len(dir) - 1; i >= 0; i-- {
		if dir[i] == '/' {
			return dir[i+1:]
		}
	}
	return dir
}

func (r *Runner) install(ctx context.Context, bp *blueprint.Blueprint, d *Deployment, ex *Execution) error {
	levels, err := bp.Order()
	if err != nil {
		return err
	}
	for _, level := range levels {
		err := r.parallel(ctx, level, func(ctx context.Context, node string) error {
			inst := d.instanceOf(node)
			if inst.State == "started" {
				return nil // resumed install: this node is done
			}
			if bp.Nodes[node].Is(componentType) {
				if err := r.installComponent(ctx, bp, d, ex, inst); err != nil {
					return err
				}
			} else {
				for _, op := range installOps {
					if err := r.runLifecycle(ctx, bp, d, ex, inst, op); err != nil {
						return err
					}
				}
			}
			return r.setState(d, inst, "started")
		})
		if err != nil {
			return err
		}
	}
	return r.evaluateOutputs(bp, d)
}

func (r *Runner) runLifecycle(ctx context.Context, bp *blueprint.Blueprint, d *Deployment, ex *Execution, inst *NodeInstance, op string) error {
	o := bp.Nodes[inst.Node].Interfaces[lifecycle][op]
	if o != nil && o.Kind != blueprint.ImplNone {
		if err := r.runOperation(ctx, bp, d, ex, inst, o, nil); err != nil {
			return err
		}
	}
	state := map[string]string{"create": "created", "configure": "configured", "start": "started", "stop": "stopped", "delete": "deleted"}[op]
	if state != "" {
		return r.setState(d, inst, state)
	}
	return nil
}

func (r *Runner) setState(d *Deployment, inst *NodeInstance, state string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	inst.State = state
	return r.saveLocked(d)
}

func (d *Deployment) instanceOf(node string) *NodeInstance {
	for _, inst := range d.Instances {
		if inst.Node == node {
			return inst
		}
	}
	return nil
}

// parallel runs fn for every node of a level with bounded parallelism; the
// first error cancels the rest, and all errors are joined.
func (r *Runner) parallel(ctx context.Context, nodes []string, fn func(context.Context, string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, r.Parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if err := fn(ctx, n); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("node %s: %w", n, err))
				mu.Unlock()
				cancel()
			}
		}()
	}
	wg.Wait()
	if len(errs) == 0 && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return errors.Join(errs...)
}

// Uninstall runs stop/delete in reverse dependency order and removes the
// deployment's state. A node that fails to stop fails the uninstall and
// keeps the state, so it can be run again.
func (r *Runner) Uninstall(ctx context.Context, name string) error {
	if err := r.init(); err != nil {
		return err
	}
	d, err := r.Store.Load(name)
	if err != nil {
		return err
	}
	bp, err := loadBlueprint(d.Blueprint)
	if err != nil {
		return err
	}
	levels, err := bp.ReverseOrder()
	if err != nil {
		return err
	}
	ex, err := r.startExecution(d, "uninstall", nil)
	if err != nil {
		return err
	}
	for _, level := range levels {
		err = r.parallel(ctx, level, func(ctx context.Context, node string) error {
			inst := d.instanceOf(node)
			if inst.State == "deleted" || inst.State == "uninitialized" {
				return nil
			}
			if bp.Nodes[node].Is(componentType) {
				if err := r.uninstallComponent(ctx, d, ex, inst); err != nil {
					return err
				}
				return r.setState(d, inst, "deleted")
			}
			for _, op := range uninstallOps {
				if err := r.runLifecycle(ctx, bp, d, ex, inst, op); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			break
		}
	}
	if err := r.endExecution(ctx, d, ex, err); err != nil {
		return err
	}
	return r.Store.Delete(name)
}

// Execute runs a workflow of an installed deployment: install, uninstall,
// execute_operation, or a workflow of the blueprint mapped to
// execute_operation (spec section 3, option A).
func (r *Runner) Execute(ctx context.Context, name, workflow string, params map[string]any) error {
	if err := r.init(); err != nil {
		return err
	}
	d, release, err := r.acquire(name)
	if err != nil {
		return err
	}
	defer release()
	switch workflow {
	case "install":
		return r.Install(ctx, InstallOptions{Blueprint: d.Blueprint, Name: name})
	case "uninstall":
		return r.Uninstall(ctx, name)
	}
	bp, err := loadBlueprint(d.Blueprint)
	if err != nil {
		return err
	}
	w := bp.Workflows[workflow]
	if w == nil {
		names := make([]string, 0, len(bp.Workflows))
		for n := range bp.Workflows {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("deployment %s has no workflow %q; its workflows: %v", name, workflow, names)
	}
	if !w.Forwards && w.Mapping != executeOperationMapping && !(w.Builtin && w.Name == "execute_operation") {
		return fmt.Errorf("%s: workflow %s maps to %s; chaosops local runs workflows mapped to %s or to a script that starts with %q (see docs)", w.Pos, workflow, w.Mapping, executeOperationMapping, blueprint.ForwarderMarker)
	}
	resolved, err := w.ResolveParameters(params)
	if err != nil {
		return &failure.InvalidError{Err: fmt.Errorf("workflow %s: %w", workflow, err)}
	}
	run := resolved
	if w.Forwards {
		if run, err = forwardPlan(bp, d, resolved); err != nil {
			return &failure.InvalidError{Err: fmt.Errorf("workflow %s: %w", workflow, err)}
		}
	}
	ex, err := r.startExecution(d, workflow, resolved)
	if err != nil {
		return err
	}
	return r.endExecution(ctx, d, ex, r.executeOperation(ctx, bp, d, ex, run))
}

// forwardingParameters steer a forwarder workflow; they are not inputs.
var forwardingParameters = []string{"operation", "node_ids", "operation_kwargs", "script_path"}

// forwardPlan checks a forwarder workflow's targets as its script does,
// before anything runs, and returns the execute_operation parameters that
// do what the script does.
func forwardPlan(bp *blueprint.Blueprint, d *Deployment, resolved map[string]any) (map[string]any, error) {
	ids := strs(resolved["node_ids"])
	if len(ids) == 0 {
		return nil, fmt.Errorf("parameter node_ids: give the nodes to run on, e.g. [chaos]")
	}
	for _, id := range ids {
		if bp.Nodes[id] == nil {
			return nil, fmt.Errorf("parameter node_ids: the deployment has no node %s", id)
		}
	}
	p := forwardedParameters(resolved)
	if _, err := operationTargets(bp, d, p); err != nil {
		return nil, err
	}
	return p, nil
}

// forwardedParameters is what a forwarder workflow script
// (blueprint.ForwarderMarker) does, as execute_operation's parameters:
// every parameter that is set becomes an input of the same name, then
// operation_kwargs' keys, which win; the inputs may override the
// blueprint's.
func forwardedParameters(p map[string]any) map[string]any {
	kwargs := map[string]any{}
	for k, v := range p {
		if !slices.Contains(forwardingParameters, k) && !unset(v) {
			kwargs[k] = v
		}
	}
	old, _ := p["operation_kwargs"].(map[string]any)
	maps.Copy(kwargs, old)
	return map[string]any{
		"operation": p["operation"], "node_ids": p["node_ids"], "operation_kwargs": kwargs,
		"allow_kwargs_override": true,
	}
}

// unset is the forwarder's test for a parameter left empty.
func unset(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// executeOperation is Cloudify's execute_operation workflow.
func (r *Runner) executeOperation(ctx context.Context, bp *blueprint.Blueprint, d *Deployment, ex *Execution, p map[string]any) error {
	opName, _ := p["operation"].(string)
	kwargs, _ := p["operation_kwargs"].(map[string]any)
	allowOverride, _ := p["allow_kwargs_override"].(bool)
	byOrder, _ := p["run_by_dependency_order"].(bool)
	targets, err := operationTargets(bp, d, p)
	if err != nil {
		return err
	}
	run := func(ctx context.Context, node string) error {
		o := bp.Nodes[node].Operation(opName)
		if !allowOverride {
			for k := range kwargs {
				if _, clash := o.Inputs[k]; clash {
					return fmt.Errorf("operation_kwargs %s clashes with an input of %s declared in the blueprint; set allow_kwargs_override: true", k, opName)
				}
			}
		}
		return r.runOperation(ctx, bp, d, ex, d.instanceOf(node), o, kwargs)
	}
	if !byOrder {
		return r.parallel(ctx, targets, run)
	}
	levels, err := bp.Order()
	if err != nil {
		return err
	}
	for _, level := range levels {
		var sel []string
		for _, n := range level {
			if slices.Contains(targets, n) {
				sel = append(sel, n)
			}
		}
		if err := r.parallel(ctx, sel, run); err != nil {
			return err
		}
	}
	return nil
}

// operationTargets are the nodes execute_operation with parameters p runs
// its operation on, in blueprint order.
func operationTargets(bp *blueprint.Blueprint, d *Deployment, p map[string]any) ([]string, error) {
	opName, _ := p["operation"].(string)
	if opName == "" {
		return nil, fmt.Errorf("workflow parameter operation: give the full operation name, e.g. chaos_actions.run_http_chaos")
	}
	nodeIDs, typeNames, instanceIDs := strs(p["node_ids"]), strs(p["type_names"]), strs(p["node_instance_ids"])
	var targets []string
	for _, name := range bp.NodeOrder {
		n := bp.Nodes[name]
		inst := d.instanceOf(name)
		if len(nodeIDs) > 0 && !slices.Contains(nodeIDs, name) ||
			len(instanceIDs) > 0 && (inst == nil || !slices.Contains(instanceIDs, inst.ID)) ||
			len(typeNames) > 0 && !slices.ContainsFunc(typeNames, n.Is) {
			continue
		}
		if n.Operation(opName) == nil {
			if len(nodeIDs) > 0 {
				return nil, fmt.Errorf("node %s has no operation %s", name, opName)
			}
			continue // Cloudify skips nodes without the operation
		}
		targets = append(targets, name)
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("no node has operation %s (node_ids %v, type_names %v)", opName, nodeIDs, typeNames)
	}
	return targets, nil
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

// checkRelationshipOps refuses relationship operations (preconfigure,
// establish, ...) with an implementation: the local runner does not run
// them, and a construct it does not run must not be ignored silently.
func checkRelationshipOps(n *blueprint.NodeTemplate) error {
	for _, rel := range n.Relationships {
		for _, ifaces := range []map[string]map[string]*blueprint.Operation{rel.SourceInterfaces, rel.TargetInterfaces} {
			for _, ops := range ifaces {
				for _, o := range ops {
					if o != nil && o.Kind != blueprint.ImplNone {
						return fmt.Errorf("%s: node %s: relationship operation %s (to %s) is not supported by chaosops local; move it to a node operation", o.Pos, n.Name, o.FullName(), rel.Target)
					}
				}
			}
		}
	}
	return nil
}
