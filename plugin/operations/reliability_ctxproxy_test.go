package operations_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/cmd/reliability/trial"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// TestTrialCtxProxyGoneMidOperation makes the ctx proxy refuse connections after
// a number of calls, at different points of an operation (while it reads
// its inputs, records intent, logs progress, writes results): the process
// must notice, say so on stderr, clean up (no chaos object left) and exit
// 143 within a bound, never hang or die of a signal.
func TestTrialCtxProxyGoneMidOperation(t *testing.T) {
	cfg := testenv.Config(t)
	ns, dyn := chaosNamespace(t, cfg, 1)
	kubeconfig := adminKubeconfig(t)
	manifest := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: %s}\ndata: {a: \"1\"}\n", ns)
	cases := []struct {
		op        string
		failAfter int
		inputs    map[string]any
	}{
		{"chaos_actions.run", 2, map[string]any{"manifest": httpChaosManifest(ns, 3*time.Second)}},
		{"chaos_actions.run", 8, map[string]any{"manifest": httpChaosManifest(ns, 3*time.Second)}},
		{"chaos_actions.run", 12, map[string]any{"manifest": httpChaosManifest(ns, 3*time.Second)}},
		{"chaos_actions.run", 16, map[string]any{"manifest": httpChaosManifest(ns, 3*time.Second)}},
		{"kubernetes.apply", 3, map[string]any{"manifest": manifest}},
		{"kubernetes.apply", 6, map[string]any{"manifest": manifest}},
	}
	if trial.Long() {
		for n := 4; n <= 20; n += 2 {
			cases = append(cases, struct {
				op        string
				failAfter int
				inputs    map[string]any
			}{"chaos_actions.run", n, map[string]any{"manifest": httpChaosManifest(ns, 3*time.Second)}})
		}
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%s with the proxy gone after %d calls", tc.op, tc.failAfter), func(t *testing.T) {
			dep := fmt.Sprintf("rel-ctxgone-%d", i)
			tc.inputs["kubeconfig"], tc.inputs["namespace"] = kubeconfig, ns
			start := time.Now()
			res, _ := opRun{Op: tc.op, Deployment: dep, Inputs: tc.inputs,
				OnStart: func(p *scriptrunner.Proxy) { p.FailAfter = tc.failAfter }}.run(t, t.Context())
			took := time.Since(start)
			t.Logf("stderr:\n%s", res.Stderr)
			if res.Signaled || res.ExitCode != 143 {
				t.Errorf("exit %d (signaled %v), want 143 after the proxy went away\nstderr:\n%s", res.ExitCode, res.Signaled, res.Stderr)
			}
			if !strings.Contains(res.Stderr, "ctx proxy is gone") {
				t.Errorf("stderr does not say that the ctx proxy went away:\n%s", res.Stderr)
			}
			if took > 45*time.Second {
				t.Errorf("took %s to end after the proxy went away", took)
			}
			left := deploymentObjects(t, dyn, ns, dep)
			if left != 0 {
				t.Errorf("%d chaos objects left\nstderr:\n%s", left, res.Stderr)
			}
			trial.Record(t, trial.Outcome{Kind: "ctx proxy gone mid-operation", Outcome: fmt.Sprintf("exit %d", res.ExitCode), ObjectsLeft: left, Seconds: took.Seconds()})
		})
	}
}
