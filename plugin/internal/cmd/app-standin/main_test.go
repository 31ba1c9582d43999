package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "a subcommand is required: faultproxy or service"},
		{[]string{"--kubeconfig", "x"}, `unknown subcommand "--kubeconfig": use faultproxy or service`},
		{[]string{"faultproxy", "--port", "eighty"}, `invalid value "eighty" for flag -port`},
	} {
		err := run(t.Context(), tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// running is run in the background.
type running struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, args ...string) *running {
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	r := &running{t: t, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx, args) }()
	return r
}

// waitReady waits for the ready file and returns its lines as a map of
// first word to the rest.
func (r *running) waitReady(path string, timeout time.Duration) map[string]string {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if data, err := os.ReadFile(path); err == nil {
			fields := map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				k, v, _ := strings.Cut(line, " ")
				fields[k] = v
			}
			return fields
		}
		select {
		case err := <-r.done:
			r.t.Fatalf("run ended before it was ready: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("no ready file after %v", timeout)
		}
	}
}

// stop cancels run, which must return nil within 10s and remove the ready
// file.
func (r *running) stop(ready string) {
	r.t.Helper()
	start := time.Now()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		r.t.Fatal("run did not return within 10s of the cancel")
	}
	r.t.Logf("stopped %v after the cancel", time.Since(start).Round(time.Millisecond))
	if _, err := os.Stat(ready); !os.IsNotExist(err) {
		r.t.Errorf("ready file still there: %v", err)
	}
}
