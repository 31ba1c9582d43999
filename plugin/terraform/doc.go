// Package terraform runs Terraform on one module for one deployment: it
// copies the module into a working directory that keeps the state (local
// backend) and the provider cache between runs, passes variables without
// putting sensitive ones into logs, arguments or lasting files, streams
// Terraform's progress to a logger and returns typed results: the planned
// changes per resource address and a summary of the state whose sensitive
// outputs are held apart as Secret values.
//
// One Workspace serves every verb (init, plan, apply, output, refresh,
// destroy), one file each. Terraform runs through
// github.com/hashicorp/terraform-exec with TF_IN_AUTOMATION set. Cancelling
// the context sends Terraform an interrupt; it is killed only when it has
// not stopped after Options.Grace, and a state lock it leaves behind is
// reported with the way to remove it.
//
// The package knows nothing of Cloudify or of the CLI: the operations and
// the tf command are thin adapters around it.
package terraform
