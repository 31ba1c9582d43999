// Package failure is the error vocabulary the domain packages share with
// the edges. A domain error says what it is by its methods: Invalid (bad
// input the user must fix; never retried) or RetryAfter and RetryReason (a
// condition that may pass). The Cloudify operations and the CLI branch on
// these behaviours with errors.As, never on a package's own types, so each
// edge classifies once.
package failure

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Invalid is an error about input that cannot work as given.
type Invalid interface {
	error
	// Invalid reports whether the input must change before a run can
	// succeed.
	Invalid() bool
}

// Transient is an error a later attempt of the same input may not meet:
// an object not ready yet, a busy release, a failed download, a locked
// state, a connection that failed.
type Transient interface {
	error
	// RetryAfter is how long to wait before the next attempt; zero when
	// the error is not transient after all.
	RetryAfter() time.Duration
	// RetryReason says in a few words why a retry may help, e.g.
	// "not ready yet".
	RetryReason() string
}

// InvalidError is input that cannot work as given: a bad option value, an
// unknown kind, a chart that is not there. Retrying does not help; the
// message names the field and the fix.
type InvalidError struct {
	// Field names the option at fault, if any (e.g. "timeout").
	Field string
	// Err says what is wrong.
	Err error
}

// Error returns "<field>: <cause>", or the cause alone without a field.
func (e *InvalidError) Error() string {
	if e.Field == "" {
		return e.Err.Error()
	}
	return e.Field + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *InvalidError) Unwrap() error { return e.Err }

// Invalid reports true: the input must change.
func (e *InvalidError) Invalid() bool { return true }

// Invalidf returns an InvalidError for field with a formatted cause.
func Invalidf(field, format string, args ...any) *InvalidError {
	return &InvalidError{Field: field, Err: fmt.Errorf(format, args...)}
}

// IsInvalid reports whether every failure in err is bad input, so that
// retrying the same input cannot succeed: each error an errors.Join holds
// must be invalid, and for the rest the first error in the chain with an
// Invalid method decides. Cancellation is not invalid.
func IsInvalid(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		for _, e := range errs {
			if !IsInvalid(e) {
				return false
			}
		}
		return len(errs) > 0
	}
	var iv Invalid
	return errors.As(err, &iv) && iv.Invalid()
}

// AsTransient returns the first transient error in err's chain, if it
// asks for a retry.
func AsTransient(err error) (Transient, bool) {
	var t Transient
	if errors.As(err, &t) && t.RetryAfter() > 0 {
		return t, true
	}
	return nil, false
}
