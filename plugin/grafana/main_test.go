package grafana

import (
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// TestMain starts (or reuses) the shared control plane of
// scripts/testenv.sh for the dashboard provisioning tests; with -short
// only the unit tests run.
func TestMain(m *testing.M) { testenv.Main(m) }
