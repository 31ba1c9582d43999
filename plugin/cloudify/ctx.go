package cloudify

import (
	"context"
	"fmt"
	"strings"
)

// Context is the typed view of the ctx proxy calls chaosops uses (spec 2.3).
type Context struct {
	C *Client
}

func (x Context) str(ctx context.Context, args ...any) (string, error) {
	v, err := x.C.Call(ctx, args...)
	if err != nil {
		return "", err
	}
	if v == nil {
		return "", nil
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	return fmt.Sprint(v), nil
}

func (x Context) integer(ctx context.Context, args ...any) (int, error) {
	v, err := x.C.Call(ctx, args...)
	if err != nil {
		return 0, err
	}
	switch n := v.(type) {
	case int64:
		return int(n), nil
	case float64:
		return int(n), nil
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("ctx %v: expected a number, got %T", args, v)
}

// OperationName is the full operation name, e.g.
// cloudify.interfaces.lifecycle.create or chaos_actions.run_http_chaos.
func (x Context) OperationName(ctx context.Context) (string, error) {
	return x.str(ctx, "operation", "name")
}

// RetryNumber is the 0-based attempt number of this operation.
func (x Context) RetryNumber(ctx context.Context) (int, error) {
	return x.integer(ctx, "operation", "retry_number")
}

// MaxRetries is the operation's retry budget (-1 = unlimited).
func (x Context) MaxRetries(ctx context.Context) (int, error) {
	return x.integer(ctx, "operation", "max_retries")
}

// NodeID returns the node id (the node template's name).
func (x Context) NodeID(ctx context.Context) (string, error) { return x.str(ctx, "node", "id") }

// NodeName returns the node name.
func (x Context) NodeName(ctx context.Context) (string, error) { return x.str(ctx, "node", "name") }

// NodeType returns the node's most derived type.
func (x Context) NodeType(ctx context.Context) (string, error) { return x.str(ctx, "node", "type") }

// NodeProperties returns all node properties.
func (x Context) NodeProperties(ctx context.Context) (map[string]any, error) {
	return x.dict(ctx, "node", "properties")
}

// InstanceID returns the node instance id.
func (x Context) InstanceID(ctx context.Context) (string, error) {
	return x.str(ctx, "instance", "id")
}

// RuntimeProperties returns all runtime properties of the instance.
func (x Context) RuntimeProperties(ctx context.Context) (map[string]any, error) {
	return x.dict(ctx, "instance", "runtime_properties")
}

// dict calls a ctx path that returns a dict; none is an empty one.
func (x Context) dict(ctx context.Context, path ...any) (map[string]any, error) {
	v, err := x.C.Call(ctx, path...)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// SetRuntimeProperty sets one dotted path; missing parents are created by
// the proxy (spec 2.4). The value is kept in memory by Cloudify until the
// operation ends or Update is called.
func (x Context) SetRuntimeProperty(ctx context.Context, path string, value any) error {
	_, err := x.C.Call(ctx, "instance", "runtime_properties", path, value)
	return err
}

// Update persists runtime properties now (spec 2.3 "persist now").
func (x Context) Update(ctx context.Context) error {
	_, err := x.C.Call(ctx, "instance", "update")
	return err
}

// DeploymentID returns the deployment id.
func (x Context) DeploymentID(ctx context.Context) (string, error) {
	return x.str(ctx, "deployment", "id")
}

// BlueprintID returns the blueprint id.
func (x Context) BlueprintID(ctx context.Context) (string, error) {
	return x.str(ctx, "blueprint", "id")
}

// ExecutionID returns the execution id; it is also the watchdog's ping.
func (x Context) ExecutionID(ctx context.Context) (string, error) {
	return x.str(ctx, "execution-id")
}

// WorkflowID returns the workflow id (install, RunHTTPChaos, ...).
func (x Context) WorkflowID(ctx context.Context) (string, error) {
	return x.str(ctx, "workflow-id")
}

// DownloadResource fetches a file of the blueprint to a local path and
// returns that path (spec 2.3, 4). target may be empty.
func (x Context) DownloadResource(ctx context.Context, path, target string) (string, error) {
	args := []any{"download-resource", path}
	if target != "" {
		args = append(args, target)
	}
	return x.str(ctx, args...)
}

// Log writes one line to the execution's event log. The proxy treats the
// message as a %-format string with no arguments (spec 2.3), so a lone %
// is doubled.
func (x Context) Log(ctx context.Context, level Level, msg string) error {
	_, err := x.C.Call(ctx, "logger", string(level), strings.ReplaceAll(msg, "%", "%%"))
	return err
}

// Returns sets the operation's result. A map needs a trailing empty object,
// or the proxy would take it as keyword arguments (spec 2.2 rule 3, 2.4).
func (x Context) Returns(ctx context.Context, v any) error {
	args := []any{"returns", v}
	if _, isMap := v.(map[string]any); isMap {
		args = append(args, map[string]any{})
	}
	_, err := x.C.Call(ctx, args...)
	if err == ErrStopOperation {
		return nil
	}
	return err
}

// Abort fails the operation without retry (spec 1.2.6, 2.5). The proxy
// answers stop_operation, which is the expected outcome here.
func (x Context) Abort(ctx context.Context, msg string) error {
	_, err := x.C.Call(ctx, "abort_operation", msg)
	if err == ErrStopOperation {
		return nil
	}
	return err
}

// Retry asks Cloudify to run the operation again after seconds (spec 2.5:
// seconds as a JSON number).
func (x Context) Retry(ctx context.Context, msg string, seconds int) error {
	_, err := x.C.Call(ctx, "retry_operation", msg, seconds)
	if err == ErrStopOperation {
		return nil
	}
	return err
}

// Level is an event-log level.
type Level string

// Event-log levels of the ctx logger.
const (
	Debug   Level = "debug"
	Info    Level = "info"
	Warning Level = "warning"
	Error   Level = "error"
)
