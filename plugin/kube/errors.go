package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
)

// ObjectError is a failure about one object.
type ObjectError struct {
	// Ref is the object's Ref.
	Ref string
	// Origin says where the object came from; empty for inventory entries.
	Origin string
	// Op is the step that failed: "resolve", "apply", "delete", "get".
	Op string
	// Err is the cause, usually an API status error.
	Err error
}

// Error reads "<Ref> from <origin>: <op> failed: <cause>[; <hint>]".
func (e *ObjectError) Error() string {
	var b strings.Builder
	b.WriteString(e.Ref)
	if e.Origin != "" {
		b.WriteString(" from " + e.Origin)
	}
	b.WriteString(": ")
	if e.Op != "" {
		b.WriteString(e.Op + " failed: ")
	}
	b.WriteString(e.Err.Error())
	if h := hint(e.Err); h != "" {
		b.WriteString("; " + h)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *ObjectError) Unwrap() error { return e.Err }

// Invalid reports whether the object cannot work as given: its cause is
// bad input, or the API server refused it for good (a validation error, an
// unknown kind, a field manager conflict, a missing namespace, forbidden),
// so that retrying the same input cannot succeed.
func (e *ObjectError) Invalid() bool {
	c := e.Err
	return failure.IsInvalid(c) || meta.IsNoMatchError(c) ||
		apierrors.IsInvalid(c) || apierrors.IsBadRequest(c) || apierrors.IsConflict(c) ||
		apierrors.IsForbidden(c) || apierrors.IsMethodNotSupported(c) ||
		apierrors.IsUnsupportedMediaType(c) || apierrors.IsRequestEntityTooLargeError(c) ||
		(apierrors.IsNotFound(c) && hint(c) != "")
}

// hint suggests the fix for common API errors.
func hint(err error) string {
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		return ""
	}
	st := se.Status()
	switch {
	case apierrors.IsConflict(err) && strings.Contains(st.Message, "conflict"):
		return "another field manager owns these fields; use force_conflicts to take them over"
	case apierrors.IsNotFound(err) && st.Details != nil && st.Details.Kind == "namespaces":
		return "create the namespace first or add a Namespace object to the source"
	}
	return ""
}

// NotReadyError reports objects that did not reach the wanted state (ready,
// or gone) before the timeout, or that failed for good.
type NotReadyError struct {
	// Op is "wait" (readiness) or "delete" (until gone).
	Op string
	// Timeout is the time waited; zero when the wait ended early because an
	// object failed.
	Timeout time.Duration
	// Objects lists each object not done, with the reason from its status.
	Objects []ObjectStatus
}

// ObjectStatus is the state of one object at the end of a wait.
type ObjectStatus struct {
	// Ref is the object's Ref.
	Ref string `json:"ref"`
	// Status is the kstatus status (InProgress, Failed, Terminating,
	// NotFound, Current) or "Present" for an object still not deleted.
	Status string `json:"status"`
	// Message is the reason taken from the object's status.
	Message string `json:"message,omitempty"`
	// Finalizers lists the finalizers still holding a deleted object.
	Finalizers []string `json:"finalizers,omitempty"`
}

// String reads "<Ref>: <status>: <message>".
func (s ObjectStatus) String() string {
	out := s.Ref + ": " + s.Status
	if s.Message != "" {
		out += ": " + s.Message
	}
	return out
}

// Error lists every object on its own line.
func (e *NotReadyError) Error() string {
	var b strings.Builder
	what := "to become ready"
	if e.Op == "delete" {
		what = "to be deleted"
	}
	if e.Timeout > 0 {
		fmt.Fprintf(&b, "timed out after %s waiting for %d object(s) %s:", e.Timeout, len(e.Objects), what)
	} else {
		fmt.Fprintf(&b, "%d object(s) failed %s:", len(e.Objects), what)
	}
	for _, o := range e.Objects {
		b.WriteString("\n  " + o.String())
	}
	return b.String()
}

// RetryAfter is how long to wait before looking again.
func (e *NotReadyError) RetryAfter() time.Duration { return 15 * time.Second }

// RetryReason says the objects are not ready yet.
func (e *NotReadyError) RetryReason() string { return "not ready yet" }

// interrupted says that op was cancelled when ctx has ended, keeping the
// failures that are not just the cancellation echoed by each request.
func interrupted(ctx context.Context, op string, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	cause := context.Cause(ctx)
	var other []error
	for _, e := range leafErrors(err) {
		if !errors.Is(e, context.Canceled) && !errors.Is(e, context.DeadlineExceeded) {
			other = append(other, e)
		}
	}
	out := fmt.Errorf("%s interrupted: %w", op, cause)
	if len(other) > 0 {
		return errors.Join(append([]error{out}, other...)...)
	}
	return out
}

// leafErrors flattens errors.Join trees.
func leafErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leafErrors(e)...)
		}
		return out
	}
	return []error{err}
}
