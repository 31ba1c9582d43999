package operation

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// SignalContext returns a context cancelled, with ErrCancelled as its cause,
// on the first SIGTERM or SIGINT; a second one exits at once. SIGPIPE is
// caught so that a stdout that lost its reader (an orphaned operation, spec
// 5) makes writes fail instead of killing the process before cleanup.
func SignalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	signal.Ignore(syscall.SIGPIPE)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig, ok := <-ch
		if !ok {
			return
		}
		cancel(fmt.Errorf("%w: received %s", ErrCancelled, sig))
		if _, ok := <-ch; ok {
			os.Exit(ExitCancelled)
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(ch)
		cancel(nil)
	}
}
