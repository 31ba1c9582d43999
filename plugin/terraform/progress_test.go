package terraform

import (
	"context"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/progress"
)

// A command that prints nothing for a while (a local-exec sleeping, a
// provider waiting on a slow API) is reported as still running, with its
// folder, so a long apply is never silent.
func TestSilentCommandIsReported(t *testing.T) {
	log, logs := newLogger(t)
	dir := t.TempDir()
	w, err := Open(t.Context(), Options{Module: fixture("slow"), WorkDir: dir, Vars: map[string]any{"seconds": 30}, Binary: terraformBinary(t)}, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(progress.WithInterval(t.Context(), 200*time.Millisecond))
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := w.Apply(ctx)
		done <- err
	}()
	waitForLog(t, logs, "terraform apply in "+dir+": still running, no output for ", time.Minute)
	cancel()
	<-done
}
