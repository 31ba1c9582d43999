package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
)

// timeoutErr is a net.Error that timed out, as the dialer's and the TLS
// handshake's are.
type timeoutErr struct{ msg string }

func (e timeoutErr) Error() string   { return e.msg }
func (e timeoutErr) Timeout() bool   { return true }
func (e timeoutErr) Temporary() bool { return true }

func TestUnreachable(t *testing.T) {
	dial := func(err error) error {
		return &url.Error{Op: "Patch", URL: "https://10.0.0.1:6443/api", Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no error is not unreachable", nil, ""},
		{"a refused connection", dial(os.NewSyscallError("connect", syscall.ECONNREFUSED)), "connection refused"},
		{"no route to the host", dial(os.NewSyscallError("connect", syscall.EHOSTUNREACH)), "no route to host"},
		{"a dial that timed out", dial(timeoutErr{"i/o timeout"}), "dial timeout"},
		{"a TLS handshake that timed out", timeoutErr{"net/http: TLS handshake timeout"}, "TLS handshake timeout"},
		{"a read that timed out", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{"i/o timeout"}}, "i/o timeout"},
		{"a connection closed before the answer", fmt.Errorf("read: %w", io.EOF), "connection closed"},
		{"a connection reset", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, "connection reset"},
		{"a cancelled request is never retried", fmt.Errorf("dial: %w", context.Canceled), ""},
		{"a request past its deadline is not retried here", fmt.Errorf("dial: %w", context.DeadlineExceeded), ""},
		{"an unknown host is not retried (a typo, most likely)", &net.DNSError{Err: "no such host", Name: "api.example.invalid", IsNotFound: true}, ""},
		{"any other error is not retried", errors.New("x509: certificate signed by unknown authority"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unreachable(tt.err); got != tt.want {
				t.Errorf("unreachable(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}
