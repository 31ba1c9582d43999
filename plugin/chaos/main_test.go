package chaos_test

import (
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// The control plane comes with the Chaos Mesh CRDs, the controller stand-in
// and kwok nodes (scripts/testenv.sh start).
func TestMain(m *testing.M) { testenv.Main(m) }
