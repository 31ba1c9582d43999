package operations

import (
	"context"
	"fmt"
	goruntime "runtime"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/version"
)

// Info is chaosops.info, the smoke test of a new installation: it logs the
// executable's version and the operation context, sets the runtime
// property chaosops_version and returns the same facts.
func Info() operation.Handler {
	return operation.Handler{
		Name:    "chaosops.info",
		Summary: "Log the executable's version and operation context; set runtime property chaosops_version.",
		Run:     runInfo,
	}
}

func runInfo(ctx context.Context, op *operation.Op) error {
	facts := map[string]any{
		"version":   version.Version,
		"commit":    version.Commit,
		"go":        goruntime.Version(),
		"platform":  goruntime.GOOS + "/" + goruntime.GOARCH,
		"operation": op.FullName,
	}
	for key, get := range map[string]func(context.Context) (string, error){
		"deployment_id": op.Ctx.DeploymentID,
		"blueprint_id":  op.Ctx.BlueprintID,
		"execution_id":  op.Ctx.ExecutionID,
		"workflow_id":   op.Ctx.WorkflowID,
		"node_id":       op.Ctx.NodeID,
		"node_type":     op.Ctx.NodeType,
		"instance_id":   op.Ctx.InstanceID,
	} {
		v, err := get(ctx)
		if err != nil {
			return fmt.Errorf("chaosops.info: read %s: %w", key, err)
		}
		facts[key] = v
	}
	retry, err := op.Ctx.RetryNumber(ctx)
	if err != nil {
		return fmt.Errorf("chaosops.info: read retry number: %w", err)
	}
	facts["retry_number"] = retry
	op.Log.Info(fmt.Sprintf("%s on %s: operation %s of node %s (instance %s) in deployment %s, execution %s",
		version.String(), facts["platform"], op.FullName, facts["node_id"], facts["instance_id"], facts["deployment_id"], facts["execution_id"]))
	op.Log.Debug(fmt.Sprintf("built with %s", facts["go"]))
	op.SetProp("chaosops_version", version.Version)
	op.Return(facts)
	return nil
}
