package operation_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
)

func newState(op string) *scriptrunner.State {
	return &scriptrunner.State{
		Operation:    scriptrunner.Operation{Name: op, MaxRetries: 3},
		Node:         scriptrunner.Node{ID: "app", Type: "chaos.nodes.Demo", TypeHierarchy: []string{"cloudify.nodes.Root", "chaos.nodes.Demo"}},
		Instance:     scriptrunner.Instance{ID: "app_x1y2z3"},
		DeploymentID: "dep1", BlueprintID: "bp1", ExecutionID: "exec-1234", WorkflowID: "install", TenantName: "default_tenant",
	}
}

// run launches the real executable through the ctx proxy stand-in.
func run(t *testing.T, ctx context.Context, state *scriptrunner.State, inputs map[string]any, mode scriptrunner.CancelMode) *scriptrunner.Result {
	t.Helper()
	p, err := scriptrunner.NewProxy(state)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(ctx, scriptrunner.Spec{
		Executable: chaosbin.Path(t),
		Inputs:     inputs,
		Env:        append(os.Environ(), "CHAOSOPS_WATCHDOG_INTERVAL=200ms"),
		Dir:        t.TempDir(),
		Cancel:     mode,
		Grace:      10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func logText(res *scriptrunner.Result) string {
	var b strings.Builder
	for _, l := range res.Logs {
		b.WriteString(l.Level + " " + l.Message + "\n")
	}
	return b.String()
}

func TestOperationOutcomes(t *testing.T) {
	version := chaosbin.Version(t)
	nested := map[string]any{"list": []any{int64(1), "two", map[string]any{"deep": true}}, "ratio": 1.5, "none": nil}
	cases := []struct {
		name     string
		op       string
		inputs   map[string]any
		outcome  scriptrunner.Outcome
		message  string // substring of the abort/retry message
		props    map[string]any
		returned any
		retryIn  int
		logsHave []string
	}{
		{
			name: "chaosops.info succeeds, sets chaosops_version and returns the context",
			op:   "chaosops.info", outcome: scriptrunner.Success,
			props:    map[string]any{"chaosops_version": version},
			logsHave: []string{"info chaosops " + version, "debug built with go", "node app (instance app_x1y2z3) in deployment dep1, execution exec-1234"},
		},
		{
			name: "a lifecycle operation names its handler with chaosops_operation",
			op:   "cloudify.interfaces.lifecycle.create", inputs: map[string]any{"chaosops_operation": "chaosops.info"},
			outcome: scriptrunner.Success, props: map[string]any{"chaosops_version": version},
		},
		{
			name: "chaosops_operation overrides a custom operation's own name",
			op:   "chaos_actions.nonexistent", inputs: map[string]any{"chaosops_operation": "chaosops.info"},
			outcome: scriptrunner.Success, props: map[string]any{"chaosops_version": version},
		},
		{
			name: "nested input values round-trip into runtime properties and the return value",
			op:   "chaosops.selftest", inputs: map[string]any{"echo": nested},
			outcome:  scriptrunner.Success,
			props:    map[string]any{"selftest_state": "done", "selftest": map[string]any{"echo": nested, "outcome": "success"}},
			returned: map[string]any{"echo": nested, "outcome": "success"},
			logsHave: []string{"debug selftest: debug line", "info selftest: outcome=success", "warning selftest: warning line"},
		},
		{
			name: "a transient condition asks for a retry with the interval",
			op:   "chaosops.selftest", inputs: map[string]any{"outcome": "retry", "retry_after": int64(7)},
			outcome: scriptrunner.Retry, message: "retry requested", retryIn: 7,
			props: map[string]any{"selftest_state": "done", "selftest": map[string]any{"echo": nil, "outcome": "retry"}},
		},
		{
			name: "a failure aborts without retry and keeps staged properties",
			op:   "chaosops.selftest", inputs: map[string]any{"outcome": "fail"},
			outcome: scriptrunner.Abort, message: "failure requested by input outcome=fail",
			props:    map[string]any{"selftest_state": "done", "selftest": map[string]any{"echo": nil, "outcome": "fail"}},
			logsHave: []string{"error selftest: failure requested"},
		},
		{
			name: "an unknown operation fails with the list of known ones",
			op:   "chaos_actions.nope", outcome: scriptrunner.Abort,
			message: `unknown operation "chaos_actions.nope"; known operations: chaos_actions.dashboard_token, chaos_actions.halt_all, chaos_actions.pause`,
		},
		{
			name: "a lifecycle operation without chaosops_operation says which input to set",
			op:   "cloudify.interfaces.lifecycle.start", outcome: scriptrunner.Abort,
			message: "set its input chaosops_operation",
		},
		{
			name: "a bad input names the field and the fix",
			op:   "chaosops.selftest", inputs: map[string]any{"hold": "2x"}, outcome: scriptrunner.Abort,
			message: `hold: "2x" is not a duration; use e.g. 2m or 120 (seconds)`,
		},
		{
			name: "a null input is treated as unset",
			op:   "chaosops.selftest", inputs: map[string]any{"hold": nil, "outcome": nil},
			outcome:  scriptrunner.Success,
			props:    map[string]any{"selftest_state": "done", "selftest": map[string]any{"echo": nil, "outcome": "success"}},
			returned: map[string]any{"echo": nil, "outcome": "success"},
		},
		{
			name: "a message with a percent sign reaches the log intact",
			op:   "chaosops.selftest", inputs: map[string]any{"outcome": "100%s"},
			outcome: scriptrunner.Abort, message: `input outcome: "100%s" is not one of`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state := newState(tc.op)
			res := run(t, t.Context(), state, tc.inputs, scriptrunner.Orphan)
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %s, want %s; message %q\nlogs:\n%s", res.Outcome, tc.outcome, res.Message, logText(res))
			}
			if !strings.Contains(res.Message, tc.message) {
				t.Errorf("message %q does not contain %q", res.Message, tc.message)
			}
			if tc.retryIn != 0 && res.RetryAfter != tc.retryIn {
				t.Errorf("retry after %d s, want %d", res.RetryAfter, tc.retryIn)
			}
			if tc.returned != nil {
				if d := cmp.Diff(tc.returned, res.Returned); d != "" {
					t.Errorf("returned (-want +got):\n%s", d)
				}
			}
			for _, want := range tc.logsHave {
				if !strings.Contains(logText(res), want) {
					t.Errorf("logs lack %q:\n%s", want, logText(res))
				}
			}
			if res.Stdout != "" {
				t.Errorf("operation mode wrote to stdout (Cloudify would log it as <out>): %q", res.Stdout)
			}
			if tc.props == nil {
				tc.props = map[string]any{}
			}
			if d := cmp.Diff(tc.props, state.Instance.RuntimeProperties); d != "" {
				t.Errorf("runtime properties (-want +got):\n%s", d)
			}
		})
	}
}
