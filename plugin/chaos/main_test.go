package chaos_test

import (
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// The control plane comes with the Chaos Mesh CRDs, Chaos Mesh's real
// controller-manager and webhooks, the chaos-daemon stand-in and a kwok
// node (scripts/testenv.sh start).
func TestMain(m *testing.M) { testenv.Main(m) }
