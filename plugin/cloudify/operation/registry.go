// Package operation runs one Cloudify operation inside the chaosops process:
// it finds the operation name, dispatches to a registered handler, stages
// runtime properties, and turns the handler's result into the outcome the
// script plugin understands (shared/cloudify-compat.md sections 1.2, 2, 5).
package operation

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
)

// Input documents one operation input; Sensitive inputs are registered with
// the redactor before the handler runs.
type Input struct {
	Name        string
	Description string
	Default     string
	Sensitive   bool
}

// Handler is one operation, e.g. kubernetes.apply.
type Handler struct {
	Name    string // interface.operation, e.g. kubernetes.apply
	Summary string // one line, for help and the README table
	Inputs  []Input
	// Timeout is the operation's hard deadline, so an orphaned process never
	// runs forever (spec 5). Zero means DefaultTimeout.
	Timeout time.Duration
	// CancelGrace, when set, says from the operation's inputs how long
	// the handler may take to clean up after a cancel (e.g. a chaos run's
	// delete_timeout and a margin); Execute waits the longer of it and
	// Options.Grace before it reports without the handler. A process
	// Cloudify orphans on a cancel is not killed, so its cleanup may take
	// that long (spec 5).
	CancelGrace func(in cloudify.Inputs) time.Duration
	Run         func(ctx context.Context, op *Op) error
}

// DefaultTimeout bounds operations that do not set their own.
const DefaultTimeout = 30 * time.Minute

// Registry is the one table of operations.
type Registry struct {
	handlers map[string]*Handler
}

// NewRegistry returns a registry holding hs; a duplicate name panics since
// it is a programming error.
func NewRegistry(hs ...Handler) *Registry {
	r := &Registry{handlers: map[string]*Handler{}}
	for i := range hs {
		h := hs[i]
		if _, dup := r.handlers[h.Name]; dup {
			panic("runtime: duplicate operation " + h.Name)
		}
		r.handlers[h.Name] = &h
	}
	return r
}

// Names lists the operation names in order.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.handlers))
	for n := range r.handlers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Handlers lists handlers in name order.
func (r *Registry) Handlers() []*Handler {
	out := make([]*Handler, 0, len(r.handlers))
	for _, n := range r.Names() {
		out = append(out, r.handlers[n])
	}
	return out
}

// Has reports whether name is registered.
func (r *Registry) Has(name string) bool { _, ok := r.handlers[name]; return ok }

// Lookup finds a handler; the error lists the known operations.
func (r *Registry) Lookup(name string) (*Handler, error) {
	if h, ok := r.handlers[name]; ok {
		return h, nil
	}
	return nil, fmt.Errorf("unknown operation %q; known operations: %s", name, strings.Join(r.Names(), ", "))
}

// OperationInput names the input that selects the handler for lifecycle
// operations and overrides the operation name when given.
const OperationInput = "chaosops_operation"

// Resolve picks the handler name for a full operation name and the
// chaosops_operation input (which wins when both are present).
func Resolve(fullName, override string) (string, error) {
	if override != "" {
		return override, nil
	}
	if strings.HasPrefix(fullName, "cloudify.interfaces.") {
		return "", fmt.Errorf("operation %s is a lifecycle operation: set its input %s to the chaosops operation to run (e.g. kubernetes.apply)", fullName, OperationInput)
	}
	if fullName == "" {
		return "", fmt.Errorf("the ctx proxy returned no operation name; set the input %s", OperationInput)
	}
	return fullName, nil
}
