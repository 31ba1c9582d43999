// Package logline is a slog.Handler that renders each record as one line,
// the message then its attributes as key=value, and hands the line to a
// function: the Cloudify event log and a terminal both take lines.
package logline

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// Emit takes one rendered line (no newline) at its level.
type Emit func(ctx context.Context, level slog.Level, line string) error

// Handler renders records at or above its level as lines for Emit.
type Handler struct {
	level slog.Level
	emit  Emit
	attrs []slog.Attr
}

// New returns a Handler of records at level and above.
func New(level slog.Level, emit Emit) *Handler {
	return &Handler{level: level, emit: emit}
}

// Enabled reports whether l is at or above the handler's level.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

// Handle renders r and emits it.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Resolve())
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	return h.emit(ctx, r.Level, b.String())
}

// WithAttrs returns a Handler that adds as to every line.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

// WithGroup returns h: the lines are flat.
func (h *Handler) WithGroup(string) slog.Handler { return h }
