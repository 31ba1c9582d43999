package local

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/blueprint"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
)

// Local retry defaults where the blueprint gives none (a manager's are
// task_retries and task_retry_interval).
const (
	defaultMaxRetries    = 10
	defaultRetryInterval = 15 * time.Second
)

// runOperation runs one node operation through the script runner,
// retrying as Cloudify would (spec 1.2.6), and stores runtime properties
// after every attempt.
func (r *Runner) runOperation(ctx context.Context, bp *blueprint.Blueprint, d *Deployment, ex *Execution, inst *NodeInstance, o *blueprint.Operation, kwargs map[string]any) error {
	who := inst.ID + " " + o.FullName()
	exe, cleanup, err := r.implementation(bp, o)
	if err != nil {
		return err
	}
	defer cleanup()
	rr := &runtimeResolver{r: r, d: d, bp: bp}
	maxRetries := defaultMaxRetries
	if o.MaxRetries != nil {
		maxRetries = *o.MaxRetries
	}
	interval := defaultRetryInterval
	if o.RetryInterval != nil {
		interval = time.Duration(*o.RetryInterval) * time.Second
	}
	for attempt := 0; ; attempt++ {
		// Inputs are evaluated before each attempt, as on a manager.
		inputs, props, err := r.operationValues(rr, inst.Node, o, kwargs)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", o.Pos, o.FullName(), err)
		}
		r.event(d, ex, who, "INFO", fmt.Sprintf("starting (attempt %d)", attempt+1))
		res, err := r.attempt(ctx, bp, d, ex, inst, o, exe, inputs, props, attempt, maxRetries)
		if err != nil {
			return err
		}
		wait := interval
		switch res.Outcome {
		case scriptrunner.Success:
			r.event(d, ex, who, "INFO", "done")
			return nil
		case scriptrunner.Cancelled:
			return fmt.Errorf("%s: cancelled: %w", who, context.Cause(ctx))
		case scriptrunner.Abort:
			return fmt.Errorf("%s failed: %s", who, res.Message)
		case scriptrunner.Conflict:
			return fmt.Errorf("%s failed: the operation asked for more than one of returns/abort/retry", who)
		case scriptrunner.Retry:
			if res.RetryAfter > 0 {
				wait = time.Duration(res.RetryAfter) * time.Second
			}
		case scriptrunner.Recoverable:
			// A bare non-zero exit: Cloudify retries it blindly.
		}
		if maxRetries >= 0 && attempt >= maxRetries {
			return fmt.Errorf("%s failed after %d attempts: %s", who, attempt+1, lastLine(res))
		}
		wait = min(wait, r.MaxRetryWait)
		r.event(d, ex, who, "WARNING", fmt.Sprintf("%s; retrying in %s", lastLine(res), wait))
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: cancelled while waiting to retry: %w", who, context.Cause(ctx))
		case <-time.After(wait):
		}
	}
}

func lastLine(res *scriptrunner.Result) string {
	if res.Message != "" {
		return res.Message
	}
	s := strings.TrimSpace(res.Stderr)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return fmt.Sprintf("exit %d: %s", res.ExitCode, s)
}

func (r *Runner) attempt(ctx context.Context, bp *blueprint.Blueprint, d *Deployment, ex *Execution, inst *NodeInstance, o *blueprint.Operation, exe string, inputs, props map[string]any, attempt, maxRetries int) (*scriptrunner.Result, error) {
	r.mu.Lock()
	runtimeProps, _ := deepCopy(inst.RuntimeProperties).(map[string]any)
	before, _ := deepCopy(runtimeProps).(map[string]any) // the proxy updates runtimeProps in place
	r.mu.Unlock()
	node := bp.Nodes[inst.Node]
	state := &scriptrunner.State{
		Operation:    scriptrunner.Operation{Name: o.FullName(), RetryNumber: attempt, MaxRetries: maxRetries},
		Node:         scriptrunner.Node{ID: node.Name, Type: node.Type, TypeHierarchy: node.TypeHierarchy, Properties: props},
		Instance:     scriptrunner.Instance{ID: inst.ID, RuntimeProperties: runtimeProps},
		DeploymentID: d.Name, BlueprintID: d.BlueprintID, ExecutionID: ex.ID, WorkflowID: ex.Workflow,
		TenantName: "default_tenant", TaskID: newID("task-"),
	}
	p, err := scriptrunner.NewProxy(state)
	if err != nil {
		return nil, err
	}
	p.ResourceDir = bp.Dir
	who := inst.ID + " " + o.FullName()
	res, err := p.Run(ctx, scriptrunner.Spec{
		Executable: exe,
		Inputs:     inputs,
		Env:        r.Env,
		Dir:        bp.Dir,
		Cancel:     scriptrunner.Signal, // locally we own the process: signal it so it cleans up
		Grace:      30 * time.Second,
		OnLine: func(l scriptrunner.LogLine) {
			r.event(d, ex, who, strings.ToUpper(l.Level), l.Message)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", who, err)
	}
	// Runtime properties survive every attempt, as Cloudify stores them.
	// Only what this operation changed is written back: an operation of
	// another execution may have changed other keys meanwhile.
	r.mu.Lock()
	inst.RuntimeProperties = mergeChanges(inst.RuntimeProperties, before, state.Instance.RuntimeProperties)
	serr := r.saveLocked(d)
	r.mu.Unlock()
	return res, serr
}

// operationValues evaluates the operation's inputs (plus workflow kwargs)
// and the node's properties.
func (r *Runner) operationValues(rr *runtimeResolver, node string, o *blueprint.Operation, kwargs map[string]any) (inputs, props map[string]any, err error) {
	res := rr.resolver()
	scope := blueprint.Scope{Self: node}
	iv, err := blueprint.Evaluate(o.Inputs, scope, res)
	if err != nil {
		return nil, nil, fmt.Errorf("inputs: %w", err)
	}
	inputs, _ = iv.(map[string]any)
	if inputs == nil {
		inputs = map[string]any{}
	}
	for k, v := range kwargs {
		inputs[k] = v
	}
	pv, err := blueprint.Evaluate(rr.bp.Nodes[node].Properties, scope, res)
	if err != nil {
		return nil, nil, fmt.Errorf("properties of %s: %w", node, err)
	}
	props, _ = pv.(map[string]any)
	return inputs, props, nil
}

// implementation finds what to run. The bundled chaosops executable (or
// its launcher) runs as this runner's own executable; another script file
// of the blueprint runs as the script plugin would run it.
func (r *Runner) implementation(bp *blueprint.Blueprint, o *blueprint.Operation) (string, func(), error) {
	noop := func() {}
	switch o.Kind {
	case blueprint.ImplScript:
	case blueprint.ImplPlugin:
		return "", noop, fmt.Errorf("%s: %s: plugin task %s is not supported by chaosops local; use the bundled executable (implementation: bin/chaosops.sh)", o.Pos, o.FullName(), o.Implementation)
	default:
		return "", noop, fmt.Errorf("%s: %s: a %s implementation is not supported by chaosops local; put the script in the blueprint folder", o.Pos, o.FullName(), o.Kind)
	}
	src := filepath.Join(bp.Dir, o.Implementation)
	if strings.HasPrefix(filepath.Base(o.Implementation), "chaosops") {
		if r.Executable == "" {
			return "", noop, fmt.Errorf("no chaosops executable configured for %s", o.FullName())
		}
		return r.Executable, noop, nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return "", noop, fmt.Errorf("%s: %s: implementation %s: %w", o.Pos, o.FullName(), o.Implementation, err)
	}
	// A private copy, like script_runner's download (spec 1.2 step 1).
	dir, err := os.MkdirTemp("", "chaosops-op-")
	if err != nil {
		return "", noop, err
	}
	exe := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", noop, err
	}
	return exe, func() { os.RemoveAll(dir) }, nil
}

// mergeChanges applies to current the keys that changed from before to
// after: set or changed keys take after's value, removed keys go.
func mergeChanges(current, before, after map[string]any) map[string]any {
	out := maps.Clone(current)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range after {
		if old, ok := before[k]; !ok || !reflect.DeepEqual(old, v) {
			out[k] = v
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			delete(out, k)
		}
	}
	return out
}
