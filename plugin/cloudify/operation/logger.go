package operation

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
	"github.com/cloudify-chaos/chaosops/plugin/logline"
)

// newCtxHandler sends log records to the execution's event log through
// the ctx logger (spec 2.3). When the proxy fails (cancelled operation),
// lines go to the fallback writer instead, which may itself be broken:
// that is why SIGPIPE is ignored.
func newCtxHandler(c cloudify.Context, fallback io.Writer, level slog.Level) slog.Handler {
	var mu sync.Mutex
	return logline.New(level, func(ctx context.Context, l slog.Level, msg string) error {
		lvl := cloudify.Info
		switch {
		case l >= slog.LevelError:
			lvl = cloudify.Error
		case l >= slog.LevelWarn:
			lvl = cloudify.Warning
		case l < slog.LevelInfo:
			lvl = cloudify.Debug
		}
		// The log line must go out even while the operation is being cancelled.
		if err := c.Log(context.WithoutCancel(ctx), lvl, msg); err != nil {
			mu.Lock()
			fmt.Fprintf(fallback, "%s %s\n", strings.ToUpper(string(lvl)), msg)
			mu.Unlock()
		}
		return nil
	})
}
