package operations

import (
	"context"
	"errors"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// retryOrFail turns the error of a kube, helm, grafana or terraform
// operation into its Cloudify outcome, by behaviour alone: cancellation
// and bad input (failure.IsInvalid) fail; a transient condition
// (failure.Transient: not ready, a busy release, a failed download, a
// locked state, a failed connection) or a busy API server asks Cloudify to
// run the operation again after a while; everything else fails.
func retryOrFail(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled) || errors.Is(err, operation.ErrCancelled) || failure.IsInvalid(err):
		return err
	}
	if t, ok := failure.AsTransient(err); ok {
		return &operation.RetryError{Reason: t.RetryReason(), After: t.RetryAfter(), Err: err}
	}
	if apiBusy(err) {
		return &operation.RetryError{Reason: "the API server is busy", After: 10 * time.Second, Err: err}
	}
	return err
}

// apiBusy reports whether the API server turned a request away for now
// (429, 504 server timeout, 503, 500).
func apiBusy(err error) bool {
	return apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err)
}
