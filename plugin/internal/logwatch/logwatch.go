// Package logwatch is a slog handler for tests that wait for a log line:
// it sends each message that contains a text on a channel, so a test can
// act when a line appears instead of sleeping.
package logwatch

import (
	"context"
	"log/slog"
	"strings"
)

// Handler sends the messages that contain Match on Seen (dropping them
// when Seen is full) and discards the rest.
type Handler struct {
	Match string
	Seen  chan string
}

// New returns a logger whose messages containing match arrive on the
// returned channel.
func New(match string) (*slog.Logger, <-chan string) {
	h := &Handler{Match: match, Seen: make(chan string, 100)}
	return slog.New(h), h.Seen
}

// Enabled is true for every level.
func (h *Handler) Enabled(context.Context, slog.Level) bool { return true }

// Handle sends a matching message on Seen.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.Match) {
		select {
		case h.Seen <- r.Message:
		default:
		}
	}
	return nil
}

// WithAttrs returns h: attributes are not matched.
func (h *Handler) WithAttrs([]slog.Attr) slog.Handler { return h }

// WithGroup returns h.
func (h *Handler) WithGroup(string) slog.Handler { return h }
