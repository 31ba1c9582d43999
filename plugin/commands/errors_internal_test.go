package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/helm"
	"github.com/cloudify-chaos/chaosops/plugin/kube"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
)

// TestUsageIfInvalid checks the exit code of a domain call's error as
// chaos run and the helm commands return it: bad input of any family is a
// usage error, everything else keeps its code.
func TestUsageIfInvalid(t *testing.T) {
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	probeErr := failure.Invalidf(`probe "web": url`, "not set; give the URL to probe")
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want int
	}{
		{"no error exits 0", t.Context(), nil, ExitOK},
		{"chaos invalid input is a usage error", t.Context(), &failure.InvalidError{Field: "probes", Err: probeErr}, ExitUsage},
		{"a chaos object that does not validate is a usage error", t.Context(),
			&api.InvalidError{Fields: []api.FieldError{{Field: "spec.mode", Problem: "missing", Fix: "set one"}}}, ExitUsage},
		{"helm invalid input is a usage error", t.Context(), failure.Invalidf("chart_sha256", "does not match"), ExitUsage},
		{"kube invalid input is a usage error", t.Context(), &kube.ObjectError{Ref: "ConfigMap/demo/a", Op: "resolve", Err: failure.Invalidf("", "unknown kind")}, ExitUsage},
		{"a manifest error is a usage error", t.Context(), &manifest.Error{Origin: "a.yaml:1", Err: errors.New("yaml: bad")}, ExitUsage},
		{"invalid input wrapped with %w is a usage error", t.Context(), fmt.Errorf("run: %w", probeErr), ExitUsage},
		{"joined invalid input is a usage error", t.Context(), errors.Join(probeErr, failure.Invalidf("namespace", "not set")), ExitUsage},
		{"invalid input joined with another failure is a failure", t.Context(), errors.Join(probeErr, errors.New("boom")), ExitError},
		{"a busy release is a failure", t.Context(), &helm.BusyError{Release: "demo/web", Status: "pending-install", StaleIn: time.Minute}, ExitError},
		{"a release not ready is a failure", t.Context(), &helm.NotReadyError{Release: "demo/web", Timeout: time.Minute, Err: context.DeadlineExceeded}, ExitError},
		{"a plain error is a failure", t.Context(), errors.New("boom"), ExitError},
		{"invalid input after a cancel exits cancelled", cancelled, probeErr, ExitCancelled},
		{"a cancelled operation exits cancelled", t.Context(), fmt.Errorf("%w: helm install", operation.ErrCancelled), ExitCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.ctx, usageIfInvalid(tt.err), io.Discard); got != tt.want {
				t.Errorf("exit code of %v = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}
