package chaos_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

type ctxT = context.Context

var errGate = errors.New("success rate 40% < 99%")

func ctxWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}

func httpSpec(o *chaos.RunOptions) *api.HTTPChaosSpec {
	s, _ := api.SpecAs[*api.HTTPChaosSpec](o.Object)
	return s
}

func setMode(o *chaos.RunOptions, mode, value string) {
	s := httpSpec(o)
	s.Mode, s.Value = api.Mode(mode), value
}

func setNamespaces(o *chaos.RunOptions, ns ...string) { httpSpec(o).Selector.Namespaces = ns }

func setLabels(o *chaos.RunOptions, l map[string]string) { httpSpec(o).Selector.LabelSelectors = l }
