package operation_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
)

// waitForProp polls the stand-in's state until the operation has recorded
// its intent; it reads the state under no lock, so only after an update.
func cancelWhenHolding(t *testing.T, state *scriptrunner.State) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		deadline := time.After(20 * time.Second)
		for {
			select {
			case <-deadline:
				cancel()
				return
			case <-time.After(20 * time.Millisecond):
				if state.Instance.Updates > 0 {
					cancel()
					return
				}
			}
		}
	}()
	t.Cleanup(cancel)
	return ctx
}

func TestCancellation(t *testing.T) {
	// Build the executable first (without CHAOSOPS_BIN): on a loaded
	// machine the build would eat the 20 s before the cancel.
	chaosbin.Path(t)
	cases := []struct {
		name        string
		mode        scriptrunner.CancelMode
		markerCause string
		wantAbort   bool // the outcome is reported when the proxy still answers
	}{
		{"SIGTERM mid-operation runs the cleanup and reports cancelled, never a retry", scriptrunner.Signal, "operation cancelled: received terminated", true},
		{"an orphaned operation notices its proxy is gone and cleans up", scriptrunner.Orphan, "ctx proxy is gone", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "cleanup")
			state := newState("chaosops.selftest")
			start := time.Now()
			res := run(t, cancelWhenHolding(t, state), state, map[string]any{"hold": "5m", "cleanup_marker": marker}, tc.mode)
			if res.Outcome != scriptrunner.Cancelled {
				t.Fatalf("outcome %s, want cancelled\n%s", res.Outcome, logText(res))
			}
			if elapsed := time.Since(start); elapsed > time.Minute {
				t.Fatalf("the operation did not stop within its cleanup bound: %s", elapsed)
			}
			got, err := os.ReadFile(marker)
			if err != nil {
				t.Fatalf("cleanup did not run: %v\n%s", err, logText(res))
			}
			if !strings.Contains(string(got), tc.markerCause) {
				t.Errorf("cleanup marker %q lacks the cause %q", got, tc.markerCause)
			}
			var aborted, retried bool
			for _, c := range res.Calls {
				if len(c) > 0 && c[0] == "abort_operation" {
					aborted = true
					if !strings.Contains(c[1].(string), "cancelled") {
						t.Errorf("abort message %q does not say cancelled", c[1])
					}
				}
				retried = retried || (len(c) > 0 && c[0] == "retry_operation")
			}
			if retried {
				t.Error("a cancelled operation asked for a retry")
			}
			if aborted != tc.wantAbort {
				t.Errorf("abort_operation called: %v, want %v", aborted, tc.wantAbort)
			}
			if tc.wantAbort && state.Instance.RuntimeProperties["selftest_state"] != "cleaned_up" {
				t.Errorf("selftest_state = %v, want cleaned_up", state.Instance.RuntimeProperties["selftest_state"])
			}
			if res.Signaled {
				t.Errorf("the process died of a signal (exit %d) instead of exiting after cleanup", res.ExitCode)
			}
		})
	}
}

func TestSecretsNeverLeave(t *testing.T) {
	const token = "tok-SECRET-8f2a9c71d0e4"
	kubeconfig := "apiVersion: v1\nusers:\n- name: admin\n  user:\n    token: kc-SECRET-5d1b7e9f3a2c6b80\n"
	state := newState("chaosops.selftest")
	res := run(t, t.Context(), state, map[string]any{
		"token":      token,
		"kubeconfig": kubeconfig,
		"echo":       map[string]any{"leak": token, "nested": []any{"Bearer " + token, "kc-SECRET-5d1b7e9f3a2c6b80"}},
		"outcome":    "fail",
	}, scriptrunner.Orphan)
	var seen strings.Builder
	seen.WriteString(logText(res) + res.Message + res.Stderr + res.Stdout)
	for _, c := range res.Calls {
		for _, a := range c {
			seen.WriteString(" " + toString(a))
		}
	}
	seen.WriteString(toString(state.Instance.RuntimeProperties))
	for _, secret := range []string{token, "kc-SECRET-5d1b7e9f3a2c6b80"} {
		if strings.Contains(seen.String(), secret) {
			t.Errorf("secret %q appeared in logs, calls or runtime properties", secret)
		}
	}
	if !strings.Contains(seen.String(), "[REDACTED]") {
		t.Error("expected the masked value to appear in place of the secret")
	}
}
