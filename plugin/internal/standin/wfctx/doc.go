// Package wfctx is a STAND-IN for the workflow side of a Cloudify manager:
// it evaluates a blueprint's workflow script with python3, as the script
// plugin's execute_workflow does (script_runner/tasks.py in
// cloudify-cosmo/cloudify-common), against a recording stand-in of
// cloudify.workflows (ctx, parameters), and returns the operations the
// script asked for. Only the calls our forwarder makes are provided, with
// the signatures of cloudify/workflows/workflow_context.py.
package wfctx
