package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestRun(t *testing.T) {
	t.Run("bad command lines are rejected before connecting", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{nil, "--kubeconfig is required"},
			{[]string{"--kubeconfig", "/nonexistent/kubeconfig"}, "--kubeconfig /nonexistent/kubeconfig:"},
			{[]string{"--resync", "often"}, `invalid value "often" for flag -resync`},
		} {
			err := run(t.Context(), tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		}
	})

	t.Run("it writes the ready file, and a cancel stops it and removes the file", func(t *testing.T) {
		kubeconfig := testenv.Kubeconfig(t)
		ready := filepath.Join(t.TempDir(), "standin.ready")
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error, 1)
		// An instance no namespace is assigned to, so that nothing is touched.
		go func() {
			done <- run(ctx, []string{"--kubeconfig", kubeconfig, "--ready-file", ready, "--instance", "cmd-test-nobody"})
		}()

		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := os.Stat(ready); err == nil {
				break
			}
			select {
			case err := <-done:
				t.Fatalf("run ended before it was ready: %v", err)
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatal("no ready file after 30s")
			}
		}
		start := time.Now()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run after cancel: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return within 10s of the cancel")
		}
		t.Logf("stopped %v after the cancel", time.Since(start).Round(time.Millisecond))
		if _, err := os.Stat(ready); !os.IsNotExist(err) {
			t.Errorf("ready file still there: %v", err)
		}
	})
}
