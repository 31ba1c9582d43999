package operations_test

import (
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
)

// An API server that cannot be reached is retried within the operation's
// deadline and then asks Cloudify for a retry_operation, never an abort:
// it is usually restarting.
func TestAnUnreachableAPIServerAsksForARetry(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connections are refused
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://%s"}}]
users: [{name: u, user: {token: not-used-123456}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, addr)
	_, file, _, _ := runtime.Caller(0)
	chart := filepath.Join(filepath.Dir(file), "..", "helm", "testdata", "demo")
	inventory := map[string]any{"kubernetes_inventory": map[string]any{"entries": []any{
		map[string]any{"group": "", "version": "v1", "kind": "ConfigMap", "namespace": "default", "name": "a"},
	}}}
	tests := []struct {
		op     string
		inputs map[string]any
		props  map[string]any
	}{
		{"kubernetes.apply", map[string]any{"manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n"}, nil},
		{"kubernetes.delete", map[string]any{}, inventory},
		{"helm.install", map[string]any{"release": "demo", "namespace": "default", "chart": chart}, nil},
		{"helm.uninstall", map[string]any{"release": "demo", "namespace": "default"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			t.Parallel()
			state := &scriptrunner.State{Operation: scriptrunner.Operation{Name: tt.op}, Node: scriptrunner.Node{ID: "n"},
				Instance: scriptrunner.Instance{ID: "n_1", RuntimeProperties: tt.props}, DeploymentID: "d", ExecutionID: "e"}
			p, err := scriptrunner.NewProxy(state)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			inputs := map[string]any{"kubeconfig": kubeconfig, "chaosops_timeout": "6s"}
			for k, v := range tt.inputs {
				inputs[k] = v
			}
			res, err := p.Run(t.Context(), scriptrunner.Spec{Executable: chaosbinPath(t), Inputs: inputs, Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != scriptrunner.Retry {
				t.Fatalf("outcome %s (%q), want a retry", res.Outcome, res.Message)
			}
			for _, want := range []string{"the API server is unreachable", "https://" + addr, "connection refused"} {
				if !strings.Contains(res.Message, want) {
					t.Errorf("retry message %q does not say %q", res.Message, want)
				}
			}
			retries := 0
			for _, line := range res.Logs {
				if strings.Contains(line.Message, "API server https://"+addr+" unreachable (connection refused); retrying in ") && strings.Contains(line.Message, " left") {
					retries++
				}
			}
			if retries == 0 {
				t.Errorf("no retry was logged; logs: %v", res.Logs)
			}
		})
	}
}
