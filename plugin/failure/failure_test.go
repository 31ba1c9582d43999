package failure

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// transient stands for a domain error that may pass.
type transient struct{ after time.Duration }

func (e transient) Error() string             { return "flaky" }
func (e transient) RetryAfter() time.Duration { return e.after }
func (e transient) RetryReason() string       { return "flaky" }

func TestInvalidError(t *testing.T) {
	for _, tt := range []struct{ name, got, want string }{
		{"an error names its field first", Invalidf("timeout", "%s is negative; use e.g. 5m", "-1s").Error(), "timeout: -1s is negative; use e.g. 5m"},
		{"an error without a field is its cause", Invalidf("", "unknown kind").Error(), "unknown kind"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("Error() = %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestIsInvalid(t *testing.T) {
	bad := Invalidf("port", "0 is not a port")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"no error is not invalid", nil, false},
		{"an InvalidError is invalid", bad, true},
		{"a wrapped InvalidError is invalid", fmt.Errorf("run: %w", bad), true},
		{"a plain error is not invalid", errors.New("boom"), false},
		{"joined errors are invalid when all are", errors.Join(bad, fmt.Errorf("x: %w", bad)), true},
		{"joined errors are not invalid when one is not", errors.Join(bad, transient{time.Second}), false},
		{"cancellation is never invalid", &InvalidError{Field: "wait", Err: context.Canceled}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsInvalid(tt.err); got != tt.want {
				t.Errorf("IsInvalid(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestAsTransient(t *testing.T) {
	if tr, ok := AsTransient(fmt.Errorf("wait: %w", transient{15 * time.Second})); !ok || tr.RetryAfter() != 15*time.Second {
		t.Errorf("a wrapped transient error: %v, %v; want it found", tr, ok)
	}
	if _, ok := AsTransient(transient{0}); ok {
		t.Error("an error that asks for no wait is not transient")
	}
	if _, ok := AsTransient(errors.New("boom")); ok {
		t.Error("a plain error is not transient")
	}
}
