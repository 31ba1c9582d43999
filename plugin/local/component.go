package local

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/cloudify-chaos/chaosops/plugin/blueprint"
)

// componentType covers cloudify.nodes.Component and ServiceComponent.
const componentType = "cloudify.nodes.Component"

// installComponent creates and installs the child deployment a
// ServiceComponent describes (spec 6) as a nested local deployment.
// The child's blueprint is resource_config.blueprint.blueprint_archive (a
// folder or YAML file relative to this blueprint) or, for an uploaded
// blueprint id, the sibling folder of that name.
func (r *Runner) installComponent(ctx context.Context, bp *blueprint.Blueprint, d *Deployment, ex *Execution, inst *NodeInstance) error {
	rr := &runtimeResolver{r: r, d: d, bp: bp}
	pv, err := blueprint.Evaluate(bp.Nodes[inst.Node].Properties, blueprint.Scope{Self: inst.Node}, rr.resolver())
	if err != nil {
		return fmt.Errorf("properties of %s: %w", inst.Node, err)
	}
	props, _ := pv.(map[string]any)
	bpCfg, _ := dig(props, []any{"resource_config", "blueprint"})
	depCfg, _ := dig(props, []any{"resource_config", "deployment"})
	bpm, _ := bpCfg.(map[string]any)
	dm, _ := depCfg.(map[string]any)
	archive, _ := bpm["blueprint_archive"].(string)
	id, _ := bpm["id"].(string)
	main, _ := bpm["main_file_name"].(string)
	var path string
	switch {
	case archive != "":
		path = blueprint.MainFile(filepath.Join(bp.Dir, archive), main)
	case id != "":
		path = blueprint.MainFile(filepath.Join(filepath.Dir(bp.Dir), id), main)
	default:
		return fmt.Errorf("%s: node %s: set resource_config.blueprint.id or blueprint_archive", bp.Nodes[inst.Node].Pos, inst.Node)
	}
	child, _ := dm["id"].(string)
	if child == "" {
		child = inst.ID
	}
	inputs, _ := dm["inputs"].(map[string]any)
	labels := map[string][]string{"csys-obj-parent": {d.Name}}
	if ls, ok := dm["labels"].([]any); ok {
		for _, l := range ls {
			if m, ok := l.(map[string]any); ok {
				for k, v := range m {
					labels[k] = append(labels[k], fmt.Sprint(v))
				}
			}
		}
	}
	r.event(d, ex, inst.ID, "INFO", fmt.Sprintf("installing component deployment %s from %s", child, path))
	// Record intent first, so uninstall finds the child even if install fails.
	r.mu.Lock()
	inst.RuntimeProperties["deployment"] = map[string]any{"id": child}
	inst.RuntimeProperties["blueprint"] = map[string]any{"id": id}
	err = r.saveLocked(d)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	if err := r.Install(ctx, InstallOptions{Blueprint: path, Name: child, Inputs: inputs, Labels: labels}); err != nil {
		return fmt.Errorf("component %s: %w", child, err)
	}
	cd, err := r.Store.Load(child)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	inst.RuntimeProperties["deployment"] = map[string]any{"id": child, "outputs": cd.Outputs, "capabilities": cd.Capabilities}
	return r.saveLocked(d)
}

func (r *Runner) uninstallComponent(ctx context.Context, d *Deployment, ex *Execution, inst *NodeInstance) error {
	child, _ := dig(inst.RuntimeProperties, []any{"deployment", "id"})
	name, _ := child.(string)
	if name == "" {
		return nil
	}
	if _, err := r.Store.Load(name); err != nil {
		return nil // already gone
	}
	r.event(d, ex, inst.ID, "INFO", "uninstalling component deployment "+name)
	return r.Uninstall(ctx, name)
}

// evaluateOutputs stores outputs and capabilities after install.
func (r *Runner) evaluateOutputs(bp *blueprint.Blueprint, d *Deployment) error {
	rr := &runtimeResolver{r: r, d: d, bp: bp}
	eval := func(names []string, defs map[string]*blueprint.Output) (map[string]any, error) {
		out := map[string]any{}
		for _, n := range names {
			v, err := blueprint.Evaluate(defs[n].Value, blueprint.Scope{}, rr.resolver())
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", defs[n].Pos, n, err)
			}
			out[n] = v
		}
		return out, nil
	}
	outs, err := eval(bp.OutputOrder, bp.Outputs)
	if err != nil {
		return err
	}
	caps, err := eval(bp.CapabilityOrder, bp.Capabilities)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	d.Outputs, d.Capabilities = outs, caps
	return r.saveLocked(d)
}

// Outputs re-evaluates and returns a deployment's outputs and capabilities.
func (r *Runner) Outputs(name string) (outputs, capabilities map[string]any, err error) {
	if err := r.init(); err != nil {
		return nil, nil, err
	}
	d, err := r.Store.Load(name)
	if err != nil {
		return nil, nil, err
	}
	bp, err := loadBlueprint(d.Blueprint)
	if err != nil {
		return nil, nil, err
	}
	if err := r.evaluateOutputs(bp, d); err != nil {
		return nil, nil, err
	}
	return r.redactor.Value(d.Outputs).(map[string]any), r.redactor.Value(d.Capabilities).(map[string]any), nil
}
