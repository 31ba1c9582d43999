package api

import (
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// TestMain starts (or reuses) the shared control plane of
// scripts/testenv.sh, which has the pinned CRDs installed; with -short only
// the unit tests run.
func TestMain(m *testing.M) { testenv.Main(m) }
