// Package progress makes every long wait say what it waits for: a ticker
// logs, at least every DefaultInterval, the wait's description, the
// objects not done yet with the reason for each, and the time left before
// the wait's deadline. Waits in kube, helm, chaos and terraform use it, so
// that a wait is never silent for long.
package progress

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// DefaultInterval is how often a wait reports when no interval is set
// with WithInterval.
const DefaultInterval = 10 * time.Second

// maxListed bounds the objects named in one line; the rest are counted.
const maxListed = 10

type intervalKey struct{}

// WithInterval returns a context whose waits report every d instead of
// DefaultInterval (tests use a short one to see lines without waiting).
func WithInterval(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, intervalKey{}, d)
}

// Interval is the reporting interval of ctx's waits.
func Interval(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(intervalKey{}).(time.Duration); ok && d > 0 {
		return d
	}
	return DefaultInterval
}

// Start logs a line for the wait what every Interval(ctx) until stop is
// called or ctx ends: "<what>: still waiting after <d>: <pending>;
// <left> left". pending, which may be nil, returns what is not done yet, each
// entry with its reason (e.g. "Deployment/demo/web: InProgress: 0 of 1
// replicas available"); it is called from another goroutine. The time left
// is ctx's deadline. stop waits until no line is being logged.
func Start(ctx context.Context, log *slog.Logger, what string, pending func() []string) (stop func()) {
	start := time.Now()
	return every(ctx, log, func() {
		var p []string
		if pending != nil {
			p = pending()
		}
		log.Info(Line(what, p, time.Since(start), deadlineLeft(ctx)))
	})
}

// WhenSilent is Start for a command that reports its own progress
// (terraform): it logs "<what>: still running, no output for <d>; <left>
// left" only when last, the time of the command's last output, is at
// least Interval(ctx) ago.
func WhenSilent(ctx context.Context, log *slog.Logger, what string, last func() time.Time) (stop func()) {
	return every(ctx, log, func() {
		if quiet := time.Since(last()); quiet >= Interval(ctx) {
			line := fmt.Sprintf("%s: still running, no output for %s", what, quiet.Round(time.Second))
			if left := deadlineLeft(ctx); left >= 0 {
				line += fmt.Sprintf("; %s left", left.Round(time.Second))
			}
			log.Info(line)
		}
	})
}

// every calls tick every Interval(ctx) until stop is called or ctx ends;
// stop returns once no tick runs.
func every(ctx context.Context, log *slog.Logger, tick func()) (stop func()) {
	if log == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(Interval(ctx))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				tick()
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// deadlineLeft is the time until ctx's deadline, or -1 without one.
func deadlineLeft(ctx context.Context) time.Duration {
	d, ok := ctx.Deadline()
	if !ok {
		return -1
	}
	return max(time.Until(d), 0)
}

// Line renders one progress line: what, how long it has waited, the
// pending entries (at most maxListed, then a count) and the time left
// (left < 0: no deadline).
func Line(what string, pending []string, waited, left time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: still waiting after %s", what, waited.Round(time.Second))
	if len(pending) > 0 {
		shown := pending[:min(len(pending), maxListed)]
		fmt.Fprintf(&b, ": %s", strings.Join(shown, "; "))
		if n := len(pending) - len(shown); n > 0 {
			fmt.Fprintf(&b, "; and %d more", n)
		}
	}
	if left >= 0 {
		fmt.Fprintf(&b, "; %s left", left.Round(time.Second))
	}
	return b.String()
}
