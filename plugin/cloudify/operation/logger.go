package operation

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
)

// ctxHandler sends log records to the execution's event log through the
// ctx logger (spec 2.3). When the proxy fails (cancelled operation), lines
// go to the fallback writer instead, which may itself be broken: that is
// why SIGPIPE is ignored.
type ctxHandler struct {
	ctx      cloudify.Context
	fallback io.Writer
	level    slog.Level
	attrs    []slog.Attr
	mu       *sync.Mutex
}

func newCtxHandler(c cloudify.Context, fallback io.Writer, level slog.Level) *ctxHandler {
	return &ctxHandler{ctx: c, fallback: fallback, level: level, mu: &sync.Mutex{}}
}

func (h *ctxHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Resolve())
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	msg := b.String()
	lvl := cloudify.Info
	switch {
	case r.Level >= slog.LevelError:
		lvl = cloudify.Error
	case r.Level >= slog.LevelWarn:
		lvl = cloudify.Warning
	case r.Level < slog.LevelInfo:
		lvl = cloudify.Debug
	}
	// The log line must go out even while the operation is being cancelled.
	if err := h.ctx.Log(context.WithoutCancel(ctx), lvl, msg); err != nil {
		h.mu.Lock()
		fmt.Fprintf(h.fallback, "%s %s\n", strings.ToUpper(string(lvl)), msg)
		h.mu.Unlock()
	}
	return nil
}

func (h *ctxHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *ctxHandler) WithGroup(string) slog.Handler { return h }
