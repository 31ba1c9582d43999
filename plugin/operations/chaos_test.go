package operations_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/chaosdaemon"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// demoNamespace makes a namespace opted in to Chaos Mesh with a Running
// one-pod app=demo Deployment.
func demoNamespace(t *testing.T) (string, dynamic.Interface) {
	t.Helper()
	return chaosNamespace(t, testenv.Config(t), 1)
}

func chaosLeft(t *testing.T, dyn dynamic.Interface, ns string) int {
	n := 0
	for _, k := range api.Kinds() {
		l, err := dyn.Resource(k.GroupVersionResource()).Namespace(ns).List(context.WithoutCancel(t.Context()), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n += len(l.Items)
	}
	return n
}

func runChaosOp(t *testing.T, ctx context.Context, op string, inputs map[string]any, mode scriptrunner.CancelMode) (*scriptrunner.Result, *scriptrunner.State) {
	t.Helper()
	state := &scriptrunner.State{
		Operation: scriptrunner.Operation{Name: op}, Node: scriptrunner.Node{ID: "chaos", Type: "chaosops.nodes.Chaos"},
		Instance: scriptrunner.Instance{ID: "chaos_" + strings.ToLower(t.Name()[len(t.Name())-6:])}, DeploymentID: "dep-" + inputs["namespace"].(string),
		BlueprintID: "Python-Prometheus", ExecutionID: "exec-" + time.Now().Format("150405.000000"), WorkflowID: "RunHTTPChaos",
	}
	p, err := scriptrunner.NewProxy(state)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(ctx, scriptrunner.Spec{Executable: chaosbin.Path(t), Inputs: inputs, Dir: t.TempDir(), Cancel: mode, Grace: 30 * time.Second,
		Env: append(os.Environ(), "CHAOSOPS_WATCHDOG_INTERVAL=500ms")})
	if err != nil {
		t.Fatal(err)
	}
	return res, state
}

func chaosLogs(res *scriptrunner.Result) string {
	var b strings.Builder
	for _, l := range res.Logs {
		b.WriteString(l.Level + " " + l.Message + "\n")
	}
	return b.String()
}

func TestRunHTTPChaosOperation(t *testing.T) {
	kubeconfig, err := os.ReadFile(testenv.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a run passes, logs each step and records the verdict", func(t *testing.T) {
		ns, dyn := demoNamespace(t)
		res, state := runChaosOp(t, t.Context(), "chaos_actions.run_http_chaos", map[string]any{
			"kubeconfig": string(kubeconfig), "namespace": ns, "selector": "app=demo", "duration": "2s", "port": int64(8080),
		}, scriptrunner.Orphan)
		if res.Outcome != scriptrunner.Success {
			t.Fatalf("outcome %s: %s\n%s", res.Outcome, res.Message, chaosLogs(res))
		}
		rp := state.Instance.RuntimeProperties
		last, _ := rp["chaos_last_run"].(map[string]any)
		if rp["chaos_verdict"] != "pass" || last["verdict"] != "pass" || rp["chaos_current"] != "" {
			t.Errorf("runtime properties: %v", rp)
		}
		for _, want := range []string{"created (duration 2s)", "selected 1 target", "all targets injected after", "(1 target)", "all targets recovered", "deleted", "verdict pass"} {
			if !strings.Contains(chaosLogs(res), want) {
				t.Errorf("log lacks %q:\n%s", want, chaosLogs(res))
			}
		}
		if strings.Contains(chaosLogs(res)+toJSON(rp), "BEGIN RSA") || strings.Contains(toJSON(res.Calls), "client-key-data: ") {
			t.Error("kubeconfig material leaked")
		}
		if n := chaosLeft(t, dyn, ns); n != 0 {
			t.Errorf("%d chaos objects left", n)
		}
	})
	t.Run("a bad value (duration over max_duration) fails before connecting, without retry or verdict", func(t *testing.T) {
		ns, dyn := demoNamespace(t)
		res, state := runChaosOp(t, t.Context(), "chaos_actions.run_http_chaos", map[string]any{
			"kubeconfig": string(kubeconfig), "namespace": ns, "selector": "app=demo", "duration": "20m",
		}, scriptrunner.Orphan)
		if res.Outcome != scriptrunner.Abort || !strings.Contains(res.Message, "duration") || !strings.Contains(res.Message, "max_duration") {
			t.Fatalf("outcome %s: %s", res.Outcome, res.Message)
		}
		if v, ok := state.Instance.RuntimeProperties["chaos_verdict"]; ok {
			t.Errorf("a refused input set verdict %v", v)
		}
		if n := chaosLeft(t, dyn, ns); n != 0 {
			t.Errorf("%d chaos objects left", n)
		}
	})
	t.Run("a guardrail refusing a well-formed run is precheck_failed and creates nothing", func(t *testing.T) {
		ns, dyn := demoNamespace(t)
		res, state := runChaosOp(t, t.Context(), "chaos_actions.run_http_chaos", map[string]any{
			"kubeconfig": string(kubeconfig), "namespace": ns, "selector": "app=demo", "duration": "20s", "allowed_namespaces": []any{"elsewhere"},
		}, scriptrunner.Orphan)
		if res.Outcome != scriptrunner.Abort || !strings.Contains(res.Message, "verdict precheck_failed") || !strings.Contains(res.Message, "allowed_namespaces") {
			t.Fatalf("outcome %s: %s", res.Outcome, res.Message)
		}
		if state.Instance.RuntimeProperties["chaos_verdict"] != "precheck_failed" {
			t.Errorf("verdict property %v", state.Instance.RuntimeProperties["chaos_verdict"])
		}
		if n := chaosLeft(t, dyn, ns); n != 0 {
			t.Errorf("%d chaos objects left", n)
		}
	})
	for _, mode := range []struct {
		name string
		mode scriptrunner.CancelMode
	}{{"an orphaned operation (proxy gone, as on a Cloudify cancel)", scriptrunner.Orphan}} {
		t.Run(mode.name+" mid-run deletes the chaos object", func(t *testing.T) {
			ns, dyn := demoNamespace(t)
			ctx, cancel := context.WithCancel(t.Context())
			go cancelWhenInjected(ctx, cancel, dyn, ns)
			res, _ := runChaosOp(t, ctx, "chaos_actions.run_http_chaos", map[string]any{
				"kubeconfig": string(kubeconfig), "namespace": ns, "selector": "app=demo", "duration": "5m",
			}, mode.mode)
			if res.Outcome != scriptrunner.Cancelled || res.Signaled {
				t.Fatalf("outcome %s, signaled %v\n%s", res.Outcome, res.Signaled, chaosLogs(res))
			}
			// The orphan's log lines are lost with its proxy; the cluster shows the cleanup.
			for deadline := time.Now().Add(30 * time.Second); chaosLeft(t, dyn, ns) != 0; time.Sleep(200 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%d chaos objects left after cancel", chaosLeft(t, dyn, ns))
				}
			}
		})
	}
	t.Run("SIGTERM mid-run deletes the chaos object and reports cancelled", func(t *testing.T) {
		ns, dyn := demoNamespace(t)
		ctx, cancel := context.WithCancel(t.Context())
		go cancelWhenInjected(ctx, cancel, dyn, ns)
		res, _ := runChaosOp(t, ctx, "chaos_actions.run_http_chaos", map[string]any{
			"kubeconfig": string(kubeconfig), "namespace": ns, "selector": "app=demo", "duration": "5m",
		}, scriptrunner.Signal)
		if res.Outcome != scriptrunner.Cancelled || res.Signaled {
			t.Fatalf("outcome %s, signaled %v\n%s", res.Outcome, res.Signaled, chaosLogs(res))
		}
		if !strings.Contains(chaosLogs(res), "cancelled") || !strings.Contains(chaosLogs(res), "deleted") {
			t.Errorf("log does not show the cleanup:\n%s", chaosLogs(res))
		}
		if n := chaosLeft(t, dyn, ns); n != 0 {
			t.Errorf("%d chaos objects left after cancel", n)
		}
	})
}

// TestCancelledOperationWaitsAsLongAsDelete: a cancelled run's cleanup
// waits up to its delete_timeout, longer than the runtime's default grace
// of 20 s, for an object whose finalizer the controller holds (the
// chaos-daemon refuses to recover, chaosdaemon.FailRecoveryAnnotation).
func TestCancelledOperationWaitsAsLongAsDelete(t *testing.T) {
	kubeconfig := adminKubeconfig(t)
	manifest := `apiVersion: chaos-mesh.org/v1alpha1
kind: HTTPChaos
spec: {mode: one, selector: {labelSelectors: {app: demo}}, target: Request, port: 8080, abort: true, duration: 5m}
`
	// released runs the operation, cancels it once injected, and lets the
	// daemon recover 20 s after the cancel.
	released := func(t *testing.T, mode scriptrunner.CancelMode) (*scriptrunner.Result, *scriptrunner.State, string, dynamic.Interface) {
		ns, dyn := demoNamespace(t)
		t.Cleanup(func() { releaseChaos(t, dyn, ns) })
		testenv.AnnotateNamespace(t, testenv.Config(t), ns, chaosdaemon.FailRecoveryAnnotation, "true")
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			cancelWhenInjected(ctx, cancel, dyn, ns)
			time.Sleep(20 * time.Second)
			testenv.AnnotateNamespace(t, testenv.Config(t), ns, chaosdaemon.FailRecoveryAnnotation, "")
		}()
		res, state := opRun{Op: "chaos_actions.run", Deployment: "dep-" + ns, Cancel: mode, KillAfter: 3 * time.Minute,
			Inputs: map[string]any{"kubeconfig": kubeconfig, "namespace": ns, "manifest": manifest, "delete_timeout": "2m"}}.run(t, ctx)
		if res.Outcome != scriptrunner.Cancelled || res.Signaled {
			t.Fatalf("outcome %s, signaled %v: %s\n%s", res.Outcome, res.Signaled, res.Message, chaosLogs(res))
		}
		return res, state, ns, dyn
	}

	t.Run("SIGTERM, the finalizer released 20 s later: a clean cancel, exit 143", func(t *testing.T) {
		res, state, ns, dyn := released(t, scriptrunner.Signal)
		aborts := called(res, "abort_operation")
		if len(aborts) != 1 || !strings.Contains(aborts[0], "operation cancelled") || strings.Contains(aborts[0], "cleanup") {
			t.Fatalf("abort calls %q, want one saying cancelled, not the cleanup\n%s", aborts, chaosLogs(res))
		}
		if res.ExitCode != 143 {
			t.Errorf("exit %d, want 143", res.ExitCode)
		}
		rp := state.Instance.RuntimeProperties
		last, _ := rp["chaos_last_run"].(map[string]any)
		cl, _ := last["cleanup"].(map[string]any)
		if rp["chaos_verdict"] != "cancelled" || rp["chaos_current"] != "" || cl["outcome"] != "complete" {
			t.Errorf("verdict %v, chaos_current %q, cleanup %v; want cancelled, empty, complete", rp["chaos_verdict"], rp["chaos_current"], cl)
		}
		if n := chaosLeft(t, dyn, ns); n != 0 {
			t.Errorf("%d chaos objects left", n)
		}
	})

	t.Run("orphaned, the finalizer released 20 s later: the process waits, exits 143 and leaves nothing", func(t *testing.T) {
		res, _, ns, dyn := released(t, scriptrunner.Orphan)
		if res.ExitCode != 143 {
			t.Errorf("exit %d, want 143 (stderr: %s)", res.ExitCode, res.Stderr)
		}
		if n := chaosLeft(t, dyn, ns); n != 0 {
			t.Errorf("%d chaos objects left when the orphan exited (stderr: %s)", n, res.Stderr)
		}
	})

	t.Run("SIGTERM, the finalizer held for good: cleanup incomplete, exit 8, then reap with force_cleanup", func(t *testing.T) {
		ns, dyn := demoNamespace(t)
		t.Cleanup(func() { releaseChaos(t, dyn, ns) })
		testenv.AnnotateNamespace(t, testenv.Config(t), ns, chaosdaemon.FailRecoveryAnnotation, "true")
		ctx, cancel := context.WithCancel(t.Context())
		go cancelWhenInjected(ctx, cancel, dyn, ns)
		dep := "dep-" + ns
		res, state := opRun{Op: "chaos_actions.run", Deployment: dep, Cancel: scriptrunner.Signal,
			Inputs: map[string]any{"kubeconfig": kubeconfig, "namespace": ns, "manifest": manifest, "delete_timeout": "3s"}}.run(t, ctx)
		if res.Outcome != scriptrunner.Cancelled || res.Signaled {
			t.Fatalf("outcome %s, signaled %v: %s\n%s", res.Outcome, res.Signaled, res.Message, chaosLogs(res))
		}
		if res.ExitCode != 8 {
			t.Errorf("exit %d, want 8 (cleanup incomplete)", res.ExitCode)
		}
		aborts := called(res, "abort_operation")
		if len(aborts) != 1 {
			t.Fatalf("abort calls %q\n%s", aborts, chaosLogs(res))
		}
		for _, want := range []string{"operation cancelled", "cleanup incomplete", "held by finalizers [chaos-mesh/records]", "chaos_actions.reap with force_cleanup: true"} {
			if !strings.Contains(aborts[0], want) {
				t.Errorf("abort message lacks %q: %s", want, aborts[0])
			}
		}
		rp := state.Instance.RuntimeProperties
		last, _ := rp["chaos_last_run"].(map[string]any)
		cl, _ := last["cleanup"].(map[string]any)
		name, _ := rp["chaos_current"].(string)
		if name == "" || cl["outcome"] != "incomplete" {
			t.Fatalf("runtime properties keep neither the object's name nor the outcome: chaos_current %q, cleanup %v", name, cl)
		}

		reap, state := opRun{Op: "chaos_actions.reap", Deployment: dep, Inputs: map[string]any{"kubeconfig": kubeconfig, "namespace": ns, "force_cleanup": true}}.run(t, t.Context())
		if reap.Outcome != scriptrunner.Success {
			t.Fatalf("reap with force_cleanup: %s %s\n%s", reap.Outcome, reap.Message, chaosLogs(reap))
		}
		if got := toJSON(state.Instance.RuntimeProperties["chaos_reap_cleanup"]); !strings.Contains(got, `"outcome":"forced"`) {
			t.Errorf("chaos_reap_cleanup = %s, want outcome forced", got)
		}
		if n := chaosLeft(t, dyn, ns); n != 0 {
			t.Errorf("%d chaos objects left after reap", n)
		}
		if rules := rulesOf(t, dyn, ns, name); len(rules) > 0 {
			t.Errorf("PodHttpChaos rules of %s left after the forced reap: %v", name, rules)
		}
	})
}

// rulesOf lists the PodHttpChaos rules in ns that the experiment name put
// there (source ns/name), as pod: port.
func rulesOf(t *testing.T, dyn dynamic.Interface, ns, name string) []string {
	t.Helper()
	l, err := dyn.Resource(api.GroupVersion.WithResource("podhttpchaos")).Namespace(ns).List(context.WithoutCancel(t.Context()), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, u := range l.Items {
		rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
		for _, r := range rules {
			if m, ok := r.(map[string]any); ok && m[api.SourceField] == api.RuleSource(ns, name) {
				out = append(out, fmt.Sprintf("%s: %v", u.GetName(), m["port"]))
			}
		}
	}
	return out
}

// releaseChaos removes what a test left held by a finalizer.
func releaseChaos(t *testing.T, dyn dynamic.Interface, ns string) {
	ctx := context.WithoutCancel(t.Context())
	for _, k := range api.Kinds() {
		l, _ := dyn.Resource(k.GroupVersionResource()).Namespace(ns).List(ctx, metav1.ListOptions{})
		for _, u := range l.Items {
			_, _ = dyn.Resource(k.GroupVersionResource()).Namespace(ns).Patch(ctx, u.GetName(), types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		}
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func chaosbinPath(t *testing.T) string { return chaosbin.Path(t) }

// cancelWhenInjected cancels once the namespace's HTTPChaos is injected.
func cancelWhenInjected(ctx context.Context, cancel context.CancelFunc, dyn dynamic.Interface, ns string) {
	defer cancel()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		l, err := dyn.Resource(schema.GroupVersionResource{Group: "chaos-mesh.org", Version: "v1alpha1", Resource: "httpchaos"}).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err == nil && len(l.Items) == 1 {
			if st, _ := api.ConditionOf(&l.Items[0], api.ConditionAllInjected); st == "True" {
				return
			}
		}
	}
}
