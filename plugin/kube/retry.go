package kube

import (
	"errors"
	"io"
	"net/http"
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

// retryTransport retries requests whose answer is a 429 or 5xx without
// Retry-After, or whose connection broke before an answer. Every request
// chaosops makes may be repeated: server-side apply, get, list, watch and
// delete are idempotent, and the creates (chaos objects, TokenRequests)
// treat AlreadyExists or a second token as success.
type retryTransport struct {
	next http.RoundTripper
}

func (rt *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return rt.next.RoundTrip(req) // the body cannot be sent twice
	}
	delay, waited := retryFirstDelay, time.Duration(0)
	for {
		attempt := req
		if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			attempt = req.Clone(req.Context())
			attempt.Body = body
		}
		resp, err := rt.next.RoundTrip(attempt)
		if !transient(req.Method, resp, err) || waited+delay > retryBudget {
			return resp, err
		}
		if resp != nil {
			// Drain so the connection can be reused.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		t := time.NewTimer(delay)
		select {
		case <-req.Context().Done():
			t.Stop()
			return nil, req.Context().Err()
		case <-t.C:
		}
		waited += delay
		delay = min(2*delay, retryMaxDelay)
	}
}

// transient says whether an answer is worth another try here. Answers
// with Retry-After, and GETs whose connection broke, are left to client-go,
// which retries them itself (up to 10 times).
func transient(method string, resp *http.Response, err error) bool {
	if err != nil {
		return method != http.MethodGet && errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
			errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return resp.Header.Get("Retry-After") == ""
	}
	return false
}
