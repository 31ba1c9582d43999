package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestObjectError(t *testing.T) {
	conflict := apierrors.NewApplyConflict([]metav1.StatusCause{{Type: metav1.CauseTypeFieldManagerConflict, Message: `conflict with "kubectl": .data.k`, Field: ".data.k"}}, `Apply failed with 1 conflict: conflict with "kubectl": .data.k`)
	noNS := apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "nope")
	tests := []struct {
		name string
		err  *ObjectError
		want string
	}{
		{"an error begins with the ref and names the source and step",
			&ObjectError{Ref: "ConfigMap/demo/a", Origin: "app.yaml:4 (document 2)", Op: "apply", Err: errors.New("boom")},
			"ConfigMap/demo/a from app.yaml:4 (document 2): apply failed: boom"},
		{"a field manager conflict suggests force_conflicts",
			&ObjectError{Ref: "ConfigMap/demo/a", Op: "apply", Err: conflict},
			"use force_conflicts"},
		{"a missing namespace names it and suggests creating it",
			&ObjectError{Ref: "ConfigMap/nope/a", Op: "apply", Err: noNS},
			`namespaces "nope" not found; create the namespace first`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); !strings.Contains(got, tt.want) {
				t.Errorf("error %q does not contain %q", got, tt.want)
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	obj := func(err error) error { return &ObjectError{Ref: "ConfigMap/demo/a", Op: "apply", Err: err} }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"a manifest error is invalid", &manifest.Error{Origin: "a.yaml:1", Err: errors.New("yaml: bad")}, true},
		{"a bad option is invalid", failure.Invalidf("timeout", "negative"), true},
		{"an object the API server rejects as invalid is invalid", obj(apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "a", nil)), true},
		{"a field manager conflict is invalid until force_conflicts is set", obj(apierrors.NewApplyConflict(nil, "conflict")), true},
		{"a missing namespace is invalid", obj(apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "x")), true},
		{"a server error is worth a retry", obj(apierrors.NewInternalError(errors.New("etcd"))), false},
		{"a timeout waiting is worth a retry", &NotReadyError{Op: "wait"}, false},
		{"cancellation is never invalid", fmt.Errorf("apply interrupted: %w", context.Canceled), false},
		{"joined errors are invalid only when all are",
			errors.Join(obj(apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "a", nil)), obj(apierrors.NewInternalError(errors.New("x")))), false},
		{"joined invalid errors are invalid",
			errors.Join(failure.Invalidf("a", "x"), &manifest.Error{Err: errors.New("y")}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := failure.IsInvalid(tt.err); got != tt.want {
				t.Errorf("IsInvalid(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestNotReadyError(t *testing.T) {
	err := &NotReadyError{Op: "delete", Timeout: 30e9, Objects: []ObjectStatus{
		{Ref: "ConfigMap/demo/held", Status: "Present", Message: "held by finalizers example.com/hold", Finalizers: []string{"example.com/hold"}},
	}}
	want := "timed out after 30s waiting for 1 object(s) to be deleted:\n  ConfigMap/demo/held: Present: held by finalizers example.com/hold"
	if got := err.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
	if t2, ok := failure.AsTransient(fmt.Errorf("wrapped: %w", err)); !ok || t2.RetryAfter() != 15e9 || t2.RetryReason() != "not ready yet" {
		t.Error("a wrapped NotReadyError is not transient: retry after 15s, not ready yet")
	}
}

func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	echo := &ObjectError{Ref: "ConfigMap/demo/a", Op: "apply", Err: fmt.Errorf("Patch: %w", context.Canceled)}
	real := &ObjectError{Ref: "ConfigMap/demo/b", Op: "apply", Err: errors.New("rejected")}
	err := interrupted(ctx, "apply", errors.Join(echo, real))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%v does not wrap context.Canceled", err)
	}
	if got := err.Error(); !strings.HasPrefix(got, "apply interrupted: context canceled") || strings.Contains(got, "ConfigMap/demo/a") || !strings.Contains(got, "ConfigMap/demo/b") {
		t.Errorf("error = %q; want the cancellation first, the real failure kept and the echoes dropped", got)
	}
}
