package operation_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
)

// TestCancelGrace runs handlers in this process against the ctx proxy
// stand-in and cancels them as SIGTERM does: a handler's CancelGrace
// extends the runtime's grace, and a cleanup that left something behind
// exits 8 instead of 143.
func TestCancelGrace(t *testing.T) {
	// cleanup takes its input "cleanup" after the cancel, then returns
	// what its input "left" says.
	handler := operation.Handler{
		Name:   "test.cleanup",
		Inputs: []operation.Input{{Name: "cleanup"}, {Name: "left"}, {Name: "grace"}},
		CancelGrace: func(in cloudify.Inputs) time.Duration {
			d, _ := in.Duration("grace", 0)
			return d
		},
		Run: func(ctx context.Context, op *operation.Op) error {
			<-ctx.Done()
			d, _ := op.Inputs.Duration("cleanup", 0)
			time.Sleep(d)
			err := fmt.Errorf("cancelled: %w", context.Cause(ctx))
			if op.Inputs.String("left", "") == "true" {
				return operation.CleanupIncomplete(fmt.Errorf("%w; cleanup incomplete: held by finalizers [x]", err))
			}
			return err
		},
	}
	reg := operation.NewRegistry(handler)
	cases := []struct {
		name   string
		inputs map[string]string
		code   int
		abort  []string
		not    string
	}{
		{"a cleanup within the handler's CancelGrace is waited for, though longer than Options.Grace",
			map[string]string{"cleanup": "1s", "grace": "10s"}, operation.ExitCancelled, []string{"operation cancelled"}, "did not finish"},
		{"without CancelGrace the runtime stops waiting after Options.Grace and calls the cleanup incomplete",
			map[string]string{"cleanup": "3s"}, operation.ExitCleanupIncomplete, []string{"cleanup did not finish within 200ms"}, ""},
		{"a cleanup that left something behind exits 8 with its message",
			map[string]string{"cleanup": "0s", "left": "true", "grace": "10s"}, operation.ExitCleanupIncomplete, []string{"operation cancelled", "cleanup incomplete: held by finalizers [x]"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state := newState("test.cleanup")
			p, err := scriptrunner.NewProxy(state)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ctx, cancel := context.WithCancelCause(t.Context())
			time.AfterFunc(200*time.Millisecond, func() { cancel(fmt.Errorf("%w: received terminated", operation.ErrCancelled)) })
			code := operation.Execute(ctx, reg, operation.Options{
				Inputs: cloudify.MapInputs(tc.inputs), SocketURL: p.URL(), Environ: []string{}, Stderr: io.Discard,
				Watchdog: time.Hour, Grace: 200 * time.Millisecond,
			})
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			var aborts []string
			for _, c := range p.Calls() {
				if len(c) > 1 && c[0] == "abort_operation" {
					aborts = append(aborts, fmt.Sprint(c[1]))
				}
			}
			if len(aborts) != 1 {
				t.Fatalf("abort calls %q, want one", aborts)
			}
			for _, w := range tc.abort {
				if !strings.Contains(aborts[0], w) {
					t.Errorf("abort message %q lacks %q", aborts[0], w)
				}
			}
			if tc.not != "" && strings.Contains(aborts[0], tc.not) {
				t.Errorf("abort message %q says %q", aborts[0], tc.not)
			}
		})
	}
	if !errors.Is(operation.CleanupIncomplete(errors.New("x")), operation.ErrCleanupIncomplete) || operation.CleanupIncomplete(nil) != nil {
		t.Error("CleanupIncomplete does not mark its error, or turns nil into an error")
	}
}
