package chaosdaemon

import (
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// TestMain starts (or reuses) the shared control plane of
// scripts/testenv.sh (kwok makes pods Running and gives their containers
// ids); with -short only the unit tests run.
func TestMain(m *testing.M) { testenv.Main(m) }
