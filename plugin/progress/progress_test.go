package progress

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	many := make([]string, 12)
	for i := range many {
		many[i] = fmt.Sprintf("Pod/demo/p%d: Pending", i)
	}
	tests := []struct {
		name    string
		pending []string
		left    time.Duration
		want    string
	}{
		{"names what it waits for, each object with its reason, and the time left",
			[]string{"Deployment/demo/web: InProgress: 0 of 1 replicas available"}, 90 * time.Second,
			"wait for readiness: still waiting after 12s: Deployment/demo/web: InProgress: 0 of 1 replicas available; 1m30s left"},
		{"without a pending list it still says what it waits for",
			nil, time.Minute, "wait for readiness: still waiting after 12s; 1m0s left"},
		{"without a deadline it says no time left",
			nil, -1, "wait for readiness: still waiting after 12s"},
		{"a long list is cut after ten, with a count of the rest",
			many, time.Second, "wait for readiness: still waiting after 12s: " + strings.Join(many[:10], "; ") + "; and 2 more; 1s left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line("wait for readiness", tt.pending, 12*time.Second, tt.left); got != tt.want {
				t.Errorf("Line() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// lines collects log messages and signals each one.
type lines struct {
	slog.Handler
	mu   sync.Mutex
	got  []string
	seen chan struct{}
}

func (l *lines) Enabled(context.Context, slog.Level) bool { return true }
func (l *lines) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.got = append(l.got, r.Message)
	l.mu.Unlock()
	select {
	case l.seen <- struct{}{}:
	default:
	}
	return nil
}
func (l *lines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *lines) WithGroup(string) slog.Handler      { return l }

func TestStart(t *testing.T) {
	t.Run("a wait reports what is pending until stopped, and not after", func(t *testing.T) {
		h := &lines{seen: make(chan struct{}, 1)}
		ctx, cancel := context.WithTimeout(WithInterval(t.Context(), 10*time.Millisecond), time.Hour)
		defer cancel()
		stop := Start(ctx, slog.New(h), "helm release demo/web: uninstall", func() []string { return []string{"Deployment/demo/web: held by finalizers foregroundDeletion"} })
		<-h.seen
		stop()
		h.mu.Lock()
		n, first := len(h.got), h.got[0]
		h.mu.Unlock()
		for _, want := range []string{"helm release demo/web: uninstall: still waiting", "Deployment/demo/web: held by finalizers foregroundDeletion", "left"} {
			if !strings.Contains(first, want) {
				t.Errorf("line %q does not say %q", first, want)
			}
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if len(h.got) != n {
			t.Errorf("%d line(s) logged after stop returned", len(h.got)-n)
		}
	})
	t.Run("without a logger nothing runs", func(t *testing.T) {
		Start(t.Context(), nil, "x", nil)()
	})
	t.Run("the default interval is at most 10s", func(t *testing.T) {
		if d := Interval(t.Context()); d <= 0 || d > 10*time.Second {
			t.Errorf("Interval = %s", d)
		}
	})
}

func TestWhenSilent(t *testing.T) {
	tests := []struct {
		name string
		// last is the command's last output relative to now.
		last     time.Duration
		wantLine bool
	}{
		{"a command silent for longer than the interval is reported", -time.Hour, true},
		{"a command that keeps printing is left to speak for itself", time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &lines{seen: make(chan struct{}, 1)}
			ctx, cancel := context.WithTimeout(WithInterval(t.Context(), 10*time.Millisecond), time.Hour)
			defer cancel()
			last := time.Now().Add(tt.last)
			ticked := make(chan struct{}, 1)
			stop := WhenSilent(ctx, slog.New(h), "terraform apply in /w", func() time.Time {
				select {
				case ticked <- struct{}{}:
				default:
				}
				return last
			})
			<-ticked // one tick has asked for the last output
			<-ticked // and the line of that tick, if any, is logged
			stop()
			h.mu.Lock()
			defer h.mu.Unlock()
			if got := len(h.got) > 0; got != tt.wantLine {
				t.Fatalf("lines %q, want a line: %v", h.got, tt.wantLine)
			}
			if tt.wantLine && !strings.HasPrefix(h.got[0], "terraform apply in /w: still running, no output for ") {
				t.Errorf("line %q", h.got[0])
			}
		})
	}
}
