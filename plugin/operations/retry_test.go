package operations

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/helm"
	"github.com/cloudify-chaos/chaosops/plugin/kube"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
	"github.com/cloudify-chaos/chaosops/plugin/terraform"
)

// outcome is what Cloudify is told: a retry with its reason and wait, or
// a failure (zero After).
type outcome struct {
	Reason string
	After  time.Duration
}

func outcomeOf(t *testing.T, in, got error) outcome {
	t.Helper()
	if in != nil && !errors.Is(got, in) {
		t.Errorf("the outcome %v does not wrap the error %v", got, in)
	}
	r, ok := operation.AsRetry(got)
	if !ok {
		return outcome{}
	}
	return outcome{Reason: r.Reason, After: r.After}
}

func TestRetryOrFail(t *testing.T) {
	fail := outcome{}
	obj := func(err error) error { return &kube.ObjectError{Ref: "ConfigMap/demo/a", Op: "apply", Err: err} }
	notReady := &kube.NotReadyError{Op: "wait", Timeout: time.Minute}
	busyAPI := outcome{"the API server is busy", 10 * time.Second}
	busy := func(staleIn time.Duration) error {
		return &helm.BusyError{Release: "demo/web", Status: "pending-upgrade", Since: time.Unix(0, 0), StaleIn: staleIn}
	}
	held := func(after time.Duration) outcome { return outcome{"another run holds the release", after} }
	tests := []struct {
		name string
		err  error
		want outcome
	}{
		{"no error is no outcome", nil, fail},
		{"kube invalid input fails", failure.Invalidf("timeout", "-1s is negative; use e.g. 5m"), fail},
		{"an object the API server rejects for good fails", obj(apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "a", nil)), fail},
		{"a manifest that does not parse fails", &manifest.Error{Origin: "app.yaml:3", Err: errors.New("yaml: bad")}, fail},
		{"objects not ready retry after 15s", notReady, outcome{"not ready yet", 15 * time.Second}},
		{"a manifest download that failed retries after 30s",
			&manifest.FetchError{URL: "https://example.com/a.yaml", Err: errors.New("503")}, outcome{"a manifest download failed", 30 * time.Second}},
		{"too many requests retries after 10s", apierrors.NewTooManyRequests("slow down", 1), busyAPI},
		{"a server timeout about an object retries after 10s", obj(apierrors.NewServerTimeout(schema.GroupResource{Resource: "configmaps"}, "get", 1)), busyAPI},
		{"an unavailable API server retries after 10s", apierrors.NewServiceUnavailable("etcd"), busyAPI},
		{"an internal error about an object retries after 10s", obj(apierrors.NewInternalError(errors.New("etcd"))), busyAPI},
		{"helm invalid input fails", failure.Invalidf("chart_sha256", "does not match"), fail},
		{"a busy release soon stale retries after at least 15s", busy(time.Second), held(15 * time.Second)},
		{"a busy release retries when it turns stale", busy(2 * time.Minute), held(2 * time.Minute)},
		{"a busy release retries after at most 5m", busy(time.Hour), held(5 * time.Minute)},
		{"a helm release not ready retries after 15s",
			&helm.NotReadyError{Release: "demo/web", Timeout: time.Minute, Err: context.DeadlineExceeded}, outcome{"not ready yet", 15 * time.Second}},
		{"a chart download that failed retries after 30s",
			&helm.FetchError{URL: "https://example.com/c.tgz", Err: errors.New("502")}, outcome{"chart download failed", 30 * time.Second}},
		{"a locked terraform state retries after 30s",
			&terraform.CommandError{Command: "apply", Dir: "/w", Lock: &terraform.LockInfo{ID: "1"}}, outcome{"the state is locked", 30 * time.Second}},
		{"a terraform connection that failed retries after 1m",
			&terraform.CommandError{Command: "init", Dir: "/w", Unreachable: true}, outcome{"a connection failed", time.Minute}},
		{"any other terraform failure fails", &terraform.CommandError{Command: "plan", Dir: "/w", Diagnostics: []string{"Invalid value"}}, fail},
		{"chaos invalid input fails", failure.Invalidf("probes", "probe %q: url: not set", "web"), fail},
		{"a chaos object that does not validate fails", &api.InvalidError{Fields: []api.FieldError{{Field: "spec.mode", Problem: "missing", Fix: "set one"}}}, fail},
		{"a cancelled operation never retries", fmt.Errorf("%w: %w", operation.ErrCancelled, notReady), fail},
		{"a cancelled context never retries", errors.Join(fmt.Errorf("helm: %w", context.Canceled), busy(time.Minute)), fail},
		{"a transient error wrapped with %w still retries", fmt.Errorf("kube.apply: %w", notReady), outcome{"not ready yet", 15 * time.Second}},
		{"a busy API server wrapped with %w still retries", fmt.Errorf("list: %w", apierrors.NewTooManyRequests("x", 1)), busyAPI},
		{"joined errors fail when every one is invalid",
			errors.Join(failure.Invalidf("a", "x"), obj(apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, "a", errors.New("conflict")))), fail},
		{"joined errors retry when one is transient",
			errors.Join(failure.Invalidf("a", "x"), fmt.Errorf("wait: %w", notReady)), outcome{"not ready yet", 15 * time.Second}},
		{"a failed download among invalid sources retries (manifest.Load joins one error per source)",
			errors.Join(&manifest.Error{Err: errors.New("y")}, errors.Join(&manifest.FetchError{URL: "u", Err: errors.New("z")})), outcome{"a manifest download failed", 30 * time.Second}},
		{"a plain error fails", errors.New("boom"), fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := outcomeOf(t, tt.err, retryOrFail(tt.err))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("retryOrFail(%v) (-want +got):\n%s", tt.err, diff)
			}
		})
	}
}

func TestTerraformOutcome(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want outcome
	}{
		{"a locked state names the operation, not the command", &terraform.CommandError{Command: "init", Dir: "/w", Lock: &terraform.LockInfo{ID: "1"}},
			outcome{"terraform apply: the state is locked", 30 * time.Second}},
		{"a failed connection names the operation", fmt.Errorf("apply: %w", &terraform.CommandError{Command: "apply", Dir: "/w", Unreachable: true}),
			outcome{"terraform apply: a connection failed", time.Minute}},
		{"a locked state after a cancel does not retry",
			fmt.Errorf("%w: %w", operation.ErrCancelled, &terraform.CommandError{Command: "apply", Dir: "/w", Lock: &terraform.LockInfo{ID: "1"}}), outcome{}},
		{"any other failure fails", &terraform.CommandError{Command: "apply", Dir: "/w"}, outcome{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := outcomeOf(t, tt.err, terraformOutcome("apply", tt.err))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("terraformOutcome(%v) (-want +got):\n%s", tt.err, diff)
			}
		})
	}
}
