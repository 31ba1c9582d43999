package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
)

// InvalidError is input that cannot work as given: a bad option value, an
// unknown kind, a cluster-scoped object with a namespace. Retrying does not
// help; the message names the field or object and the fix.
type InvalidError struct {
	// Field names the option at fault, if any (e.g. "timeout").
	Field string
	// Err says what is wrong.
	Err error
}

// Error returns "<field>: <cause>".
func (e *InvalidError) Error() string {
	if e.Field == "" {
		return e.Err.Error()
	}
	return e.Field + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *InvalidError) Unwrap() error { return e.Err }

func invalidf(field, format string, args ...any) *InvalidError {
	return &InvalidError{Field: field, Err: fmt.Errorf(format, args...)}
}

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

// IsInvalid reports whether every failure in err is invalid input or a
// permanent rejection by the API server (a validation error, an unknown
// kind, a field manager conflict, a missing namespace, forbidden), so that
// retrying the same input cannot succeed. Cancellation is not invalid.
func IsInvalid(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !IsInvalid(e) {
				return false
			}
		}
		return len(j.Unwrap()) > 0
	}
	var ie *InvalidError
	var me *manifest.Error
	if errors.As(err, &ie) || errors.As(err, &me) || meta.IsNoMatchError(err) {
		return true
	}
	var oe *ObjectError
	if errors.As(err, &oe) {
		e := oe.Err
		return apierrors.IsInvalid(e) || apierrors.IsBadRequest(e) || apierrors.IsConflict(e) ||
			apierrors.IsForbidden(e) || apierrors.IsMethodNotSupported(e) ||
			apierrors.IsUnsupportedMediaType(e) || apierrors.IsRequestEntityTooLargeError(e) ||
			(apierrors.IsNotFound(e) && hint(e) != "")
	}
	return false
}

// IsNotReady reports whether err includes a NotReadyError.
func IsNotReady(err error) bool {
	var nr *NotReadyError
	return errors.As(err, &nr)
}

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
