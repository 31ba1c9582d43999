package manifest

import (
	"fmt"
	"time"
)

// Error is invalid input found while reading a source: a missing or
// unreadable file, a checksum mismatch, a template or syntax error, or an
// object without kind or name. Retrying does not help.
type Error struct {
	// Origin says where: source, line and document, as far as known.
	Origin string
	// Err is the cause.
	Err error
}

// Error returns "<origin>: <cause>".
func (e *Error) Error() string {
	if e.Origin == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("%s: %v", e.Origin, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Invalid reports true: the source must change.
func (e *Error) Invalid() bool { return true }

func errorf(origin string, format string, args ...any) *Error {
	return &Error{Origin: origin, Err: fmt.Errorf(format, args...)}
}

// FetchError is a url source whose download failed for a cause that may
// pass (network, timeout, HTTP 408, 429 or 5xx) after every attempt: unlike
// Error, a later retry of the operation may succeed.
type FetchError struct {
	// URL is the address without user info, query or fragment.
	URL string
	// Err is the cause, with the fix.
	Err error
}

// Error returns "<url>: <cause>".
func (e *FetchError) Error() string { return e.URL + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *FetchError) Unwrap() error { return e.Err }

// RetryAfter is how long to wait before downloading again.
func (e *FetchError) RetryAfter() time.Duration { return 30 * time.Second }

// RetryReason says a manifest download failed.
func (e *FetchError) RetryReason() string { return "a manifest download failed" }
