package logline

import (
	"context"
	"log/slog"
	"testing"
)

func TestLines(t *testing.T) {
	type line struct {
		level slog.Level
		text  string
	}
	var got []line
	h := New(slog.LevelInfo, func(_ context.Context, l slog.Level, s string) error {
		got = append(got, line{l, s})
		return nil
	})
	log := slog.New(h).With("ref", "HTTPChaos/demo/x")
	log.Debug("hidden")
	log.Info("created", "n", 2)
	log.WithGroup("g").Warn("slow")
	want := []line{{slog.LevelInfo, "created ref=HTTPChaos/demo/x n=2"}, {slog.LevelWarn, "slow ref=HTTPChaos/demo/x"}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %v, want %v", i, got[i], want[i])
		}
	}
}
