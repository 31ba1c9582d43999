package helm

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/internal/logwatch"
	"github.com/cloudify-chaos/chaosops/plugin/progress"
)

// TestWaitProgress checks that Helm's waits, silent in the SDK, say what
// they wait for: the release's objects not ready yet and why.
func TestWaitProgress(t *testing.T) {
	c := newCluster(t)
	tests := []struct {
		name string
		run  func(ctx context.Context, log *slog.Logger) error
		want string
	}{
		{"an install waiting for its resources names the Deployment that is not available",
			func(ctx context.Context, log *slog.Logger) error {
				r := c.release(unschedulable)
				r.Wait, r.Timeout = true, time.Hour
				_, err := Install(ctx, c.cfg, r, log)
				return err
			},
			"helm release " + c.ns + "/demo: install: still waiting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, seen := logwatch.New("Deployment/" + c.ns + "/demo-web: InProgress")
			ctx, cancel := context.WithCancel(progress.WithInterval(t.Context(), 100*time.Millisecond))
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- tt.run(ctx, log) }()
			var line string
			select {
			case line = <-seen:
			case err := <-done:
				t.Fatalf("the wait ended without a progress line naming the Deployment: %v", err)
			}
			cancel()
			<-done
			for _, want := range []string{tt.want, "left"} {
				if !strings.Contains(line, want) {
					t.Errorf("progress line %q does not say %q", line, want)
				}
			}
		})
	}
}
