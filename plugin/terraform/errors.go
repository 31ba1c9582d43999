package terraform

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// CommandError is a terraform command that failed. Its text is Terraform's
// own error diagnostics on one line; the full output is in the log.
type CommandError struct {
	Command string // init, plan, apply, ...
	Dir     string
	// Diagnostics are Terraform's error messages ("summary: detail").
	Diagnostics []string
	// Lock is set when the command could not acquire the state lock.
	Lock *LockInfo
	// Unreachable is set when the command could not connect to a registry,
	// provider API or backend.
	Unreachable bool
	Err         error
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("terraform %s in %s failed", e.Command, e.Dir)
	if len(e.Diagnostics) > 0 {
		msg += ": " + strings.Join(e.Diagnostics, "; ")
	} else if e.Err != nil {
		msg += ": " + oneLine(e.Err.Error())
	}
	if e.Lock != nil {
		msg += "; " + e.Lock.Hint()
	}
	return msg
}

func (e *CommandError) Unwrap() error { return e.Err }

// Is matches ErrStateLocked when the state lock could not be acquired and
// ErrUnreachable when Terraform could not connect to a registry, provider
// API or backend.
func (e *CommandError) Is(target error) bool {
	switch target {
	case ErrStateLocked:
		return e.Lock != nil
	case ErrUnreachable:
		return e.Unreachable
	}
	return false
}

// How long to wait before running again a command that could not acquire
// the state lock held by another run, or could not connect to a registry,
// provider API or backend.
const (
	lockRetry    = 30 * time.Second
	networkRetry = time.Minute
)

// RetryAfter is how long to wait before running again: a while for a
// locked state or a failed connection, zero (no retry) otherwise.
func (e *CommandError) RetryAfter() time.Duration {
	switch {
	case e.Lock != nil:
		return lockRetry
	case e.Unreachable:
		return networkRetry
	}
	return 0
}

// RetryReason says what a retry waits for.
func (e *CommandError) RetryReason() string {
	if e.Lock != nil {
		return "the state is locked"
	}
	return "a connection failed"
}

// ErrUnreachable is matched (errors.Is) by a CommandError whose command
// could not connect to something it needed: the provider registry, a
// provider's API or the backend. Retrying later may help.
var ErrUnreachable = errors.New("terraform could not connect")

// unreachableSigns are what Terraform's diagnostics say about a network
// failure.
var unreachableSigns = []string{"could not connect to", "dial tcp", "i/o timeout", "TLS handshake timeout", "connection refused", "connection reset by peer", "no such host"}

// newCommandError builds the error of a failed command from the JSON
// diagnostics it printed, or else from its stderr (which terraform-exec
// puts into err).
func newCommandError(command, dir string, err error, diags []diagnostic) *CommandError {
	ce := &CommandError{Command: command, Dir: dir, Err: err}
	const lockSummary = "Error acquiring the state lock"
	for _, d := range diags {
		if strings.Contains(d.Summary, lockSummary) {
			// The lock's hint says it better than Terraform's detail.
			ce.Lock = parseLockDiagnostic(d.Detail, dir)
			ce.Diagnostics = append(ce.Diagnostics, d.Summary)
			continue
		}
		ce.Diagnostics = append(ce.Diagnostics, d.text())
	}
	if len(diags) == 0 && err != nil {
		text := err.Error()
		ce.Diagnostics = stderrDiagnostics(text)
		if strings.Contains(text, lockSummary) {
			ce.Lock = parseLockDiagnostic(text, dir)
			for i, d := range ce.Diagnostics {
				if strings.HasPrefix(d, lockSummary) {
					ce.Diagnostics[i] = lockSummary
				}
			}
		}
	}
	all := strings.Join(ce.Diagnostics, " ")
	for _, sign := range unreachableSigns {
		if strings.Contains(all, sign) {
			ce.Unreachable = true
		}
	}
	return ce
}

// stderrDiagnostics picks the "Error: ..." blocks out of plain-text
// output (one string each: "summary: detail"), without Terraform's frame
// characters. Warnings are left out.
func stderrDiagnostics(text string) []string {
	var out, cur []string
	flush := func() {
		if len(cur) > 0 {
			d := cur[0]
			if len(cur) > 1 {
				d += ": " + strings.Join(cur[1:], " ")
			}
			out = append(out, d)
		}
		cur = nil
	}
	for _, raw := range strings.Split(text, "\n") {
		line := stripBox(raw)
		switch {
		case strings.HasPrefix(strings.TrimSpace(raw), "╵"):
			flush()
		case strings.HasPrefix(line, "Error: "):
			flush()
			cur = []string{strings.TrimPrefix(line, "Error: ")}
		case strings.HasPrefix(line, "Warning: "):
			flush()
		case cur != nil && line != "":
			cur = append(cur, line)
		}
	}
	flush()
	return out
}

// killed reports whether terraform was killed (its grace ran out).
func killed(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
