package helm

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// BusyError says another run is installing, upgrading or rolling back the
// release right now (its status is pending and recent). The caller retries
// after RetryAfter; by then the release is either done or treated as left by
// a killed run and recovered.
type BusyError struct {
	// Release is "<namespace>/<name>".
	Release string
	// Status is the pending status, e.g. "pending-upgrade".
	Status string
	// Since is when the pending revision was written.
	Since time.Time
	// StaleIn is how long until the pending revision counts as stale.
	StaleIn time.Duration
}

// Error says who holds the release and when it is recovered.
func (e *BusyError) Error() string {
	return fmt.Sprintf("helm release %s: another run has it %s since %s; if no run is active it is recovered after %s",
		e.Release, e.Status, e.Since.UTC().Format(time.RFC3339), e.StaleIn.Round(time.Second))
}

// RetryAfter is StaleIn, kept between 15s and 5m.
func (e *BusyError) RetryAfter() time.Duration {
	return min(max(e.StaleIn, 15*time.Second), 5*time.Minute)
}

// RetryReason says another run holds the release.
func (e *BusyError) RetryReason() string { return "another run holds the release" }

// NotReadyError says the release's resources did not become ready within
// the timeout. The release is marked failed; running Install again upgrades
// it again and waits anew.
type NotReadyError struct {
	// Release is "<namespace>/<name>".
	Release string
	// Timeout is the time waited.
	Timeout time.Duration
	// Err lists the resources not ready.
	Err error
}

// Error lists what was not ready.
func (e *NotReadyError) Error() string {
	return fmt.Sprintf("helm release %s: not ready after %s: %v", e.Release, e.Timeout, e.Err)
}

// Unwrap returns the cause.
func (e *NotReadyError) Unwrap() error { return e.Err }

// RetryAfter is how long to wait before running the install again.
func (e *NotReadyError) RetryAfter() time.Duration { return 15 * time.Second }

// RetryReason says the release is not ready yet.
func (e *NotReadyError) RetryReason() string { return "not ready yet" }

// ErrNotFound is returned by Get for a release that does not exist.
var ErrNotFound = errors.New("release not found")

// FetchError is a chart download that failed for a reason that may pass
// (network, server error); a retry may succeed.
type FetchError struct {
	// URL is the chart URL without credentials, query or fragment.
	URL string
	// Err is the cause.
	Err error
}

// Error returns "chart <url>: <cause>".
func (e *FetchError) Error() string { return "chart " + e.URL + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *FetchError) Unwrap() error { return e.Err }

// RetryAfter is how long to wait before downloading again.
func (e *FetchError) RetryAfter() time.Duration { return 30 * time.Second }

// RetryReason says the chart download failed.
func (e *FetchError) RetryReason() string { return "chart download failed" }

// outcome turns an error of a helm action into ours: a wait that ran out of
// time becomes a NotReadyError, a cancelled ctx says so first.
func outcome(ctx context.Context, ref string, timeout time.Duration, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("helm release %s: interrupted: %w (run again to converge: %v)", ref, context.Cause(ctx), err)
	case errors.Is(err, context.DeadlineExceeded):
		return &NotReadyError{Release: ref, Timeout: timeout, Err: err}
	}
	return fmt.Errorf("helm release %s: %w", ref, err)
}
