package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Retries of transient API failures that client-go leaves to the caller.
// client-go itself retries a 429 or 5xx only when the answer carries
// Retry-After (priority and fairness does), and a dropped connection only
// for GET. An API server that is overloaded, restarting or behind a
// flaky load balancer answers 5xx without Retry-After or drops the
// connection mid-request; those are retried here with exponential backoff
// within retryBudget, then the last answer is returned.
const (
	retryFirstDelay = 200 * time.Millisecond
	retryMaxDelay   = 4 * time.Second
	// retryBudget bounds the waiting per request, so that a server that
	// keeps failing gives a clear error in bounded time.
	retryBudget = 15 * time.Second
)

// An API server that cannot be reached at all (refused, timed out, closed
// the connection before answering) is retried for longer: it is usually
// restarting. The retries go on until the request's context deadline (the
// operation's), or DefaultUnreachableWait when it has none, and then end
// in an *UnreachableError, which is transient.
const (
	unreachableFirstDelay = 500 * time.Millisecond
	unreachableMaxDelay   = 8 * time.Second
	// DefaultUnreachableWait bounds the retries of an unreachable API
	// server for a request whose context has no deadline.
	DefaultUnreachableWait = 30 * time.Second
)

// UnreachableError is an API server that could not be reached within the
// time allowed: the connection was refused, timed out, or closed before an
// answer. It is transient: the server may be restarting.
type UnreachableError struct {
	// Host is the API server URL.
	Host string
	// Reason names the failure in a few words, e.g. "connection refused".
	Reason string
	// Waited is how long the requests were retried.
	Waited time.Duration
	// Err is the last cause.
	Err error
}

// Error reads "API server <host> unreachable (<reason>) after retrying for
// <waited>: <cause>".
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("API server %s unreachable (%s) after retrying for %s: %v", e.Host, e.Reason, e.Waited.Round(time.Second), e.Err)
}

// Unwrap returns the last cause.
func (e *UnreachableError) Unwrap() error { return e.Err }

// RetryAfter is how long to wait before the next attempt.
func (e *UnreachableError) RetryAfter() time.Duration { return 30 * time.Second }

// RetryReason says the API server could not be reached.
func (e *UnreachableError) RetryReason() string { return "the API server is unreachable" }

// retryUntilKey carries a later end for the retries of an unreachable
// server than the request's own deadline (see withRetryUntil).
type retryUntilKey struct{}

// withRetryUntil lets requests made with the returned context report the
// time left until until, for a caller that repeats short requests (the
// connection probe) within a longer deadline.
func withRetryUntil(ctx context.Context, until time.Time) context.Context {
	return context.WithValue(ctx, retryUntilKey{}, until)
}

// retryUntil is when the retries of an unreachable server for ctx end.
func retryUntil(ctx context.Context, start time.Time) time.Time {
	if t, ok := ctx.Value(retryUntilKey{}).(time.Time); ok {
		return t
	}
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return start.Add(DefaultUnreachableWait)
}

// retryTransport retries requests whose answer is a 429 or 5xx without
// Retry-After, or that did not reach the API server. Every request
// chaosops makes may be repeated: server-side apply, get, list, watch and
// delete are idempotent, and the creates (chaos objects, TokenRequests)
// treat AlreadyExists or a second token as success.
type retryTransport struct {
	next http.RoundTripper
	host string
	log  *slog.Logger
	// quiet keeps parallel requests from repeating one retry line.
	quiet *logThrottle
}

func (rt *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return rt.next.RoundTrip(req) // the body cannot be sent twice
	}
	ctx := req.Context()
	start := time.Now()
	delay, waited := retryFirstDelay, time.Duration(0)
	down, downDelay := "", unreachableFirstDelay
	for {
		attempt := req
		if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			attempt = req.Clone(ctx)
			attempt.Body = body
		}
		resp, err := rt.next.RoundTrip(attempt)
		var wait time.Duration
		switch reason := unreachable(err); {
		case err != nil && ctx.Err() != nil:
			if down != "" && !errors.Is(ctx.Err(), context.Canceled) {
				return nil, &UnreachableError{Host: rt.host, Reason: down, Waited: time.Since(start), Err: err}
			}
			return nil, err
		case reason != "":
			down, wait = reason, downDelay
			left := time.Until(retryUntil(ctx, start))
			stop := left
			if d, ok := ctx.Deadline(); ok {
				stop = min(stop, time.Until(d))
			}
			if wait >= stop {
				return nil, &UnreachableError{Host: rt.host, Reason: reason, Waited: time.Since(start), Err: err}
			}
			if rt.quiet.ok() {
				rt.log.Warn(fmt.Sprintf("API server %s unreachable (%s); retrying in %s, %s left", rt.host, reason, wait, (left - wait).Round(time.Second)))
			}
			downDelay = min(2*downDelay, unreachableMaxDelay)
		case !transient(resp, err) || waited+delay > retryBudget:
			return resp, err
		default:
			wait = delay
			waited += delay
			delay = min(2*delay, retryMaxDelay)
		}
		if resp != nil {
			// Drain so the connection can be reused.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// transient says whether an answer is worth another try here. Answers
// with Retry-After are left to client-go, which retries them itself (up
// to 10 times).
func transient(resp *http.Response, err error) bool {
	if err != nil {
		return false
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return resp.Header.Get("Retry-After") == ""
	}
	return false
}

// unreachable names a failure to reach the API server at all, or a
// connection that broke before the answer: "" for anything else,
// including a context that ended.
func unreachable(err error) string {
	var ne net.Error
	switch {
	case err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return ""
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to host"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.As(err, &ne) && ne.Timeout():
		var op *net.OpError
		switch {
		case strings.Contains(err.Error(), "TLS handshake timeout"):
			return "TLS handshake timeout"
		case errors.As(err, &op) && op.Op == "dial":
			return "dial timeout"
		}
		return "i/o timeout"
	}
	return ""
}

// logThrottle lets one line through per second.
type logThrottle struct {
	mu   sync.Mutex
	last time.Time
}

func (l *logThrottle) ok() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.last) < time.Second {
		return false
	}
	l.last = time.Now()
	return true
}
