package operation

import (
	"errors"
	"fmt"
	"time"
)

// RetryError asks Cloudify to run the operation again after After
// (retry_operation, spec 2.5). Use it only for transient conditions.
type RetryError struct {
	Reason string
	After  time.Duration
	Err    error
}

func (e *RetryError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *RetryError) Unwrap() error { return e.Err }

// Retry returns a RetryError with a formatted reason.
func Retry(after time.Duration, format string, args ...any) error {
	return &RetryError{Reason: fmt.Sprintf(format, args...), After: after}
}

// AsRetry reports whether err asks for a retry.
func AsRetry(err error) (*RetryError, bool) {
	var r *RetryError
	ok := errors.As(err, &r)
	return r, ok
}

// ErrCancelled is the cause of the operation context when the process is
// told to stop (SIGTERM/SIGINT) or its ctx proxy disappears.
var ErrCancelled = errors.New("operation cancelled")

// ErrCleanupIncomplete marks the error of an operation whose cleanup left
// something behind (see CleanupIncomplete); a cancelled one then exits
// ExitCleanupIncomplete instead of ExitCancelled.
var ErrCleanupIncomplete = errors.New("cleanup incomplete")

// CleanupIncomplete marks err as a cleanup that left something behind,
// keeping its message; nil stays nil.
func CleanupIncomplete(err error) error {
	if err == nil {
		return nil
	}
	return &cleanupIncompleteError{err}
}

type cleanupIncompleteError struct{ err error }

func (e *cleanupIncompleteError) Error() string        { return e.err.Error() }
func (e *cleanupIncompleteError) Unwrap() error        { return e.err }
func (e *cleanupIncompleteError) Is(target error) bool { return target == ErrCleanupIncomplete }
