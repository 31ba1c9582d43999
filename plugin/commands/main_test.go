package commands_test

import (
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
