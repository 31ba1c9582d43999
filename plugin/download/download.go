// Package download fetches the files an operation reads at run time over
// https (Helm charts, chart repository indexes, manifests by URL): TLS
// verified, each attempt bounded by a timeout, transient failures
// (connection errors, timeouts, HTTP 408, 429 and 5xx) retried a bounded
// number of times with backoff, and every error naming the URL without
// credentials.
package download

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

const (
	// DefaultTimeout bounds one attempt, from the request to the last byte,
	// when Options.Timeout is zero.
	DefaultTimeout = 2 * time.Minute
	// DefaultAttempts is how many times a transient failure is tried when
	// Options.Attempts is zero.
	DefaultAttempts = 3
	// DefaultBackoff is the wait before the second attempt when
	// Options.Backoff is zero; it doubles before each further one.
	DefaultBackoff = 2 * time.Second
	// DefaultMaxBytes bounds a body when Options.MaxBytes is zero.
	DefaultMaxBytes = 64 << 20
	// maxRedirects is net/http's own limit, kept when we check redirects.
	maxRedirects = 10
)

// Options tunes Get. The zero value takes every default.
type Options struct {
	// Client does the requests. Nil means NewClient(""): the system's
	// trusted roots, TLS verified.
	Client *http.Client
	// Timeout bounds each attempt; default DefaultTimeout.
	Timeout time.Duration
	// Attempts bounds the tries of a transient failure; default
	// DefaultAttempts.
	Attempts int
	// Backoff is the wait before the second attempt, doubled before each
	// further one; default DefaultBackoff.
	Backoff time.Duration
	// MaxBytes bounds the body; default DefaultMaxBytes.
	MaxBytes int64
	// Log receives one line per retry; nil discards.
	Log *slog.Logger
}

// Error is a download that failed: permanently (HTTP 404, an untrusted
// certificate, a body over the limit) or after every attempt failed
// transiently.
type Error struct {
	// URL is the address without user info, query or fragment.
	URL string
	// Status is the HTTP status code of the last answer, 0 when none came.
	Status int
	// Attempts is how many requests were made.
	Attempts int
	// Transient says the cause may pass (network, timeout, 408, 429, 5xx):
	// a later run may succeed where the attempts made here did not.
	Transient bool
	// Err is the cause, with the number of attempts when there were several.
	Err error
}

// Error returns "<url>: <cause>".
func (e *Error) Error() string { return e.URL + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Get returns the body at u, an https URL. A cancelled ctx stops the
// request or the wait between attempts at once; the error then wraps
// ctx's cause and is no *Error.
func Get(ctx context.Context, u *url.URL, opts Options) ([]byte, error) {
	name := redact.URL(u)
	if u.Scheme != "https" || u.Host == "" {
		return nil, &Error{URL: name, Err: errors.New("only https:// URLs with a host are fetched")}
	}
	opts = opts.withDefaults()
	client := checkedRedirects(opts.Client)
	wait := opts.Backoff
	for attempt := 1; ; attempt++ {
		data, status, err := get(ctx, client, u, opts)
		if err == nil {
			return data, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: download interrupted: %w", name, context.Cause(ctx))
		}
		transient := isTransient(status, err)
		if !transient || attempt >= opts.Attempts {
			if attempt > 1 {
				err = fmt.Errorf("%w (%d attempts)", err, attempt)
			}
			return nil, &Error{URL: name, Status: status, Attempts: attempt, Transient: transient, Err: err}
		}
		opts.Log.Warn(fmt.Sprintf("download %s: %v (attempt %d of %d); retrying in %s", name, err, attempt, opts.Attempts, wait))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%s: download interrupted: %w", name, context.Cause(ctx))
		case <-t.C:
		}
		wait *= 2
	}
}

func (o Options) withDefaults() Options {
	if o.Client == nil {
		o.Client, _ = NewClient("")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// get makes one attempt, bounded by opts.Timeout. The error never repeats
// the URL (which may carry credentials).
func get(ctx context.Context, client *http.Client, u *url.URL, opts Options) ([]byte, int, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, opts.Timeout, errAttemptTimeout{opts.Timeout})
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, errors.New("not a valid request URL")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, cause(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused by the retry.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		return nil, resp.StatusCode, fmt.Errorf("HTTP %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, opts.MaxBytes+1))
	if err != nil {
		return nil, resp.StatusCode, cause(ctx, err)
	}
	if int64(len(data)) > opts.MaxBytes {
		return nil, resp.StatusCode, &tooLargeError{opts.MaxBytes}
	}
	return data, resp.StatusCode, nil
}

// errAttemptTimeout is the cause of an attempt's context running out.
type errAttemptTimeout struct{ d time.Duration }

func (e errAttemptTimeout) Error() string { return fmt.Sprintf("no complete answer within %s", e.d) }

type tooLargeError struct{ max int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("the body is larger than the limit of %d bytes", e.max)
}

// cause drops *url.Error's copy of the URL and names an attempt timeout.
func cause(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var to errAttemptTimeout
	if c := context.Cause(ctx); errors.As(c, &to) {
		return to
	}
	return err
}

// isTransient says whether a failed attempt may succeed when tried again.
func isTransient(status int, err error) bool {
	switch {
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		return true
	case status != 0 && status != http.StatusOK:
		return false
	}
	var tooLarge *tooLargeError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var header tls.RecordHeaderError
	var redirect *redirectError
	switch {
	case errors.As(err, &tooLarge), errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid),
		errors.As(err, &verify), errors.As(err, &header), errors.As(err, &redirect):
		return false
	}
	// Connection refused or reset, DNS, an attempt timeout, a body cut
	// short: the network or the server may recover.
	return true
}

// redirectError is a redirect Get does not follow.
type redirectError struct{ msg string }

func (e *redirectError) Error() string { return e.msg }

// checkedRedirects returns a copy of c that follows redirects only to
// https, so that TLS cannot be lost on the way.
func checkedRedirects(c *http.Client) *http.Client {
	cc := *c
	next := c.CheckRedirect
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" {
			return &redirectError{fmt.Sprintf("redirected to %s, which is not https", redact.URL(req.URL))}
		}
		if len(via) >= maxRedirects {
			return &redirectError{fmt.Sprintf("stopped after %d redirects", maxRedirects)}
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &cc
}
