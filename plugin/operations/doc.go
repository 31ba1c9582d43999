// Package operations adapts domain packages to Cloudify operations: each
// handler reads its inputs, builds the domain's options, calls it, and turns
// the typed result into runtime properties, a return value and log lines.
// No business logic lives here: the chaos inputs are derived from package
// runopts and read by its reader (inputsource.go), and every error becomes
// a retry or a failure in one place, by behaviour (retry.go).
package operations

import "github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"

// Registry returns the table of every operation chaosops serves.
func Registry() *operation.Registry {
	hs := []operation.Handler{
		Info(),
		SelfTest(),
		TerraformInit(),
		TerraformPlan(),
		TerraformApply(),
		TerraformOutput(),
		TerraformRefresh(),
		TerraformDestroy(),
	}
	hs = append(hs, Kube()...)
	hs = append(hs, Chaos()...)
	hs = append(hs, Helm()...)
	hs = append(hs, Grafana()...)
	return operation.NewRegistry(hs...)
}
