// Package realtest runs chaosops runs against the real Chaos Mesh
// controller-manager (CHAOSOPS_TESTENV_CHAOS=real, make test-real) with the
// chaos-daemon stand-in: daemon failures, stuck finalizers, cancel,
// pause/resume, reap and webhook denial. Every test skips on the default
// control plane (controller stand-in).
package realtest

import (
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
