package operations

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/operation"
)

// SelfTest is chaosops.selftest: a protocol check an administrator runs on
// a manager to see how its script plugin treats each outcome of ours:
// nested values round-tripping, a retry, a non-retriable failure, and a
// long hold that can be cancelled to watch the cleanup path.
func SelfTest() operation.Handler {
	return operation.Handler{
		Name:    "chaosops.selftest",
		Summary: "Protocol self-test: echo nested inputs, then succeed, retry or fail; optionally hold to test cancel and cleanup.",
		Inputs: []operation.Input{
			{Name: "outcome", Default: "success", Description: "success, retry or fail"},
			{Name: "echo", Description: "any value; stored as runtime property selftest.echo and returned"},
			{Name: "hold", Default: "0", Description: "how long to wait before finishing (e.g. 30s); cancel during it to test cleanup"},
			{Name: "retry_after", Default: "5", Description: "seconds Cloudify waits before the retry when outcome is retry"},
			{Name: "cleanup_marker", Description: "file the cleanup writes after a cancel (proves cleanup ran even when the proxy is gone)"},
		},
		Timeout: time.Hour,
		Run:     runSelfTest,
	}
}

func runSelfTest(ctx context.Context, op *operation.Op) error {
	outcome := op.Inputs.String("outcome", "success")
	if outcome != "success" && outcome != "retry" && outcome != "fail" {
		return fmt.Errorf("input outcome: %q is not one of success, retry, fail", outcome)
	}
	hold, err := op.Inputs.Duration("hold", 0)
	if err != nil {
		return err
	}
	retryAfter, err := op.Inputs.Duration("retry_after", 5*time.Second)
	if err != nil {
		return err
	}
	echo, _ := op.Inputs.Value("echo")
	marker := op.Inputs.String("cleanup_marker", "")

	op.Log.Debug("selftest: debug line")
	op.Log.Info(fmt.Sprintf("selftest: outcome=%s hold=%s", outcome, hold))
	op.Log.Warn("selftest: warning line")
	if hold > 0 {
		// Intent first: a crash during the hold leaves this trace behind.
		if err := op.SetPropNow(ctx, "selftest_state", "holding"); err != nil {
			return fmt.Errorf("selftest: record intent: %w", err)
		}
		select {
		case <-time.After(hold):
		case <-ctx.Done():
			return cleanupSelfTest(ctx, op, marker)
		}
	}
	op.SetProp("selftest_state", "done")
	op.SetProp("selftest", map[string]any{"echo": echo, "outcome": outcome})
	switch outcome {
	case "retry":
		return operation.Retry(retryAfter, "selftest: retry requested (attempt will run again in %s)", retryAfter)
	case "fail":
		return fmt.Errorf("selftest: failure requested by input outcome=fail")
	}
	op.Return(map[string]any{"echo": echo, "outcome": outcome})
	return nil
}

// cleanupSelfTest runs after cancellation under its own short deadline.
func cleanupSelfTest(ctx context.Context, op *operation.Op, marker string) error {
	cause := context.Cause(ctx)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if marker != "" {
		if err := os.WriteFile(marker, []byte("cleaned up after: "+cause.Error()+"\n"), 0o600); err != nil {
			return fmt.Errorf("selftest cleanup: write %s: %w", marker, err)
		}
	}
	op.Log.Warn("selftest: cleanup ran after: " + cause.Error())
	_ = op.SetPropNow(cctx, "selftest_state", "cleaned_up") // the proxy may be gone
	return fmt.Errorf("selftest: %w", cause)
}
