//go:build tools

// Package tools pins the Chaos Mesh controller-manager that
// scripts/testenv.sh builds and runs against the test control plane when
// CHAOSOPS_TESTENV_CHAOS=real. The build tag keeps it out of every build; it
// exists so that `go mod tidy` keeps the requirement in go.mod.
package tools

import (
	_ "github.com/chaos-mesh/chaos-mesh/cmd/chaos-controller-manager"
)
