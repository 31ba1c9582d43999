package operation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

// Options tune Execute; zero values mean the defaults.
type Options struct {
	Inputs cloudify.Inputs // default: the environment
	// Environ is scanned for variables whose names suggest secrets (token,
	// kubeconfig, ...): their values are masked everywhere. Default os.Environ().
	Environ   []string
	SocketURL string
	Stderr    io.Writer
	// Watchdog is the interval of the proxy ping that detects an orphaned
	// operation (spec 5). Default 3 s.
	Watchdog time.Duration
	// Grace bounds cleanup after cancellation before the process gives up
	// waiting for the handler, unless the handler's CancelGrace asks for
	// longer. Default 20 s.
	Grace time.Duration
}

// Exit codes of operation mode. Cloudify ignores the code once abort or
// retry was requested (spec 1.2.6); they only help a human reading a shell.
const (
	ExitOK        = 0
	ExitFailed    = 1
	ExitRetry     = 75  // EX_TEMPFAIL
	ExitCancelled = 143 // 128+SIGTERM, as a shell reports a terminated command
	// ExitCleanupIncomplete: the operation was cancelled and its cleanup
	// left something behind (an error marked with CleanupIncomplete), as
	// the CLI's exit 8.
	ExitCleanupIncomplete = 8
)

// Execute runs the operation that Cloudify started this process for.
// ctx is cancelled by the caller on SIGTERM/SIGINT.
func Execute(ctx context.Context, reg *Registry, opt Options) int {
	if opt.Stderr == nil {
		opt.Stderr = io.Discard
	}
	if opt.Inputs.Lookup == nil {
		opt.Inputs = cloudify.EnvInputs()
	}
	if opt.Watchdog == 0 {
		opt.Watchdog = 3 * time.Second
		if d, err := time.ParseDuration(os.Getenv("CHAOSOPS_WATCHDOG_INTERVAL")); err == nil && d > 0 {
			opt.Watchdog = d
		}
	}
	if opt.Grace == 0 {
		opt.Grace = 20 * time.Second
	}
	client, err := cloudify.NewClient(opt.SocketURL)
	if err != nil {
		fmt.Fprintln(opt.Stderr, "chaosops:", err)
		return ExitFailed // no proxy: nobody can be told anything better
	}
	cx := cloudify.Context{C: client}
	red := &redact.Redactor{}
	if opt.Environ == nil {
		opt.Environ = os.Environ()
	}
	for _, kv := range opt.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok && redact.SensitiveName(k) {
			red.Add(v)
		}
	}
	log := slog.New(red.Handler(newCtxHandler(cx, opt.Stderr, slog.LevelDebug)))

	fullName, err := cx.OperationName(ctx)
	if err != nil {
		return finish(ctx, cx, log, red, nil, fmt.Errorf("read the operation name: %w", err))
	}
	name, err := Resolve(fullName, opt.Inputs.String(OperationInput, ""))
	if err != nil {
		return finish(ctx, cx, log, red, nil, err)
	}
	h, err := reg.Lookup(name)
	if err != nil {
		return finish(ctx, cx, log, red, nil, err)
	}
	for _, in := range h.Inputs {
		if v, ok := opt.Inputs.Raw(in.Name); ok && (in.Sensitive || redact.SensitiveName(in.Name)) {
			red.Add(v)
		}
	}
	op := &Op{Name: name, FullName: fullName, Inputs: opt.Inputs, Ctx: cx, Log: log, Redactor: red}

	timeout := h.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if d, derr := opt.Inputs.Duration("chaosops_timeout", timeout); derr == nil {
		timeout = d
	} else {
		return finish(ctx, cx, log, red, op, derr)
	}
	runCtx, cancelRun := context.WithCancelCause(ctx)
	defer cancelRun(nil)
	runCtx, cancelDeadline := context.WithTimeoutCause(runCtx, timeout,
		fmt.Errorf("operation %s reached its deadline of %s (input chaosops_timeout)", name, timeout))
	defer cancelDeadline()
	grace := opt.Grace
	if h.CancelGrace != nil {
		grace = max(grace, h.CancelGrace(opt.Inputs))
	}
	stopWatchdog := watchdog(runCtx, cx, opt.Watchdog, cancelRun)
	defer stopWatchdog()

	done := make(chan error, 1)
	go func() {
		// A panic must not become a bare non-zero exit, which Cloudify
		// would retry blindly: report it as a failure with its cause.
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("internal error in %s: %v (please report it)", name, p)
			}
		}()
		done <- h.Run(runCtx, op)
	}()
	var runErr error
	select {
	case runErr = <-done:
	case <-runCtx.Done():
		// Give the handler a bounded grace to clean up after itself.
		select {
		case runErr = <-done:
		case <-time.After(grace):
			runErr = CleanupIncomplete(fmt.Errorf("%w: cleanup did not finish within %s", context.Cause(runCtx), grace))
		}
	}
	// A handler that returned nil finished its work, even when the signal
	// came meanwhile: its result stands (a chaos run that recorded verdict
	// pass is not reported cancelled).
	if runErr != nil && runCtx.Err() != nil {
		if cause := context.Cause(runCtx); !errors.Is(runErr, cause) && (errors.Is(cause, ErrCancelled) || errors.Is(cause, cloudify.ErrProxyGone)) {
			runErr = fmt.Errorf("%w: %w", cause, runErr)
		}
	}
	return finish(ctx, cx, log, red, op, runErr)
}

// finish writes staged properties and reports the outcome (spec 1.2.6, 2.5).
func finish(ctx context.Context, cx cloudify.Context, log *slog.Logger, red *redact.Redactor, op *Op, err error) int {
	// The outcome must be reported even when the operation was cancelled.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if op != nil {
		if ferr := op.flush(ctx); ferr != nil && err == nil {
			err = fmt.Errorf("write runtime properties: %w", ferr)
		}
	}
	if err == nil {
		if op != nil && op.hasRet {
			if rerr := cx.Returns(ctx, red.Value(op.returned)); rerr != nil {
				log.Error("could not set the return value", "error", rerr)
				return ExitFailed
			}
		}
		return ExitOK
	}
	msg := red.String(oneLine(err))
	if errors.Is(err, cloudify.ErrProxyGone) {
		// Nobody is listening any more: the line falls back to stderr, where
		// the worker's log or a person running the process still sees why
		// it stopped.
		log.Warn(msg)
		return cancelledExit(err)
	}
	if errors.Is(err, ErrCancelled) {
		log.Warn(msg)
		// A cancelled operation must not be retried.
		_ = cx.Abort(ctx, msg)
		return cancelledExit(err)
	}
	if r, ok := AsRetry(err); ok {
		secs := int(r.After / time.Second)
		if secs < 1 {
			secs = 1
		}
		log.Warn("retrying: " + msg)
		if cx.Retry(ctx, msg, secs) == nil {
			return ExitRetry
		}
		return ExitFailed
	}
	if detail := red.String(err.Error()); detail != msg {
		log.Error(detail)
	}
	log.Error(msg)
	if aerr := cx.Abort(ctx, msg); aerr != nil {
		return ExitFailed
	}
	return ExitFailed
}

// cancelledExit is the exit code of a cancelled operation: 143 when its
// cleanup was complete, 8 when it left something behind.
func cancelledExit(err error) int {
	if errors.Is(err, ErrCleanupIncomplete) {
		return ExitCleanupIncomplete
	}
	return ExitCancelled
}

// oneLine shortens an error to a single line for the failure cause.
func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " (details in the log)"
	}
	const max = 600
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// watchdog pings the proxy; a refused connection means the operation's
// runner is gone and the process has been orphaned (spec 5).
func watchdog(ctx context.Context, cx cloudify.Context, every time.Duration, cancel context.CancelCauseFunc) func() {
	ctx, stop := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := cx.ExecutionID(ctx); errors.Is(err, cloudify.ErrProxyGone) {
					cancel(cloudify.ErrProxyGone)
					return
				}
			}
		}
	}()
	return stop
}
