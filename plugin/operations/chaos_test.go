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
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/controllerstandin"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/standin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// demoNamespace makes a namespace with a Running one-pod app=demo Deployment.
func demoNamespace(t *testing.T) (string, dynamic.Interface) {
	t.Helper()
	cfg := testenv.Config(t)
	ns := testenv.Namespace(t, cfg)
	return ns, testenv.DemoApp(t, cfg, ns, 1)
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

func runChaosOp(t *testing.T, ctx context.Context, op string, inputs map[string]any, mode standin.CancelMode) (*standin.Result, *standin.State) {
	t.Helper()
	state := &standin.State{
		Operation: standin.Operation{Name: op}, Node: standin.Node{ID: "chaos", Type: "chaosops.nodes.Chaos"},
		Instance: standin.Instance{ID: "chaos_" + strings.ToLower(t.Name()[len(t.Name())-6:])}, DeploymentID: "dep-" + inputs["namespace"].(string),
		BlueprintID: "Python-Prometheus", ExecutionID: "exec-" + time.Now().Format("150405.000000"), WorkflowID: "RunHTTPChaos",
	}
	p, err := standin.NewProxy(state)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(ctx, standin.Spec{Executable: chaosbin.Path(t), Inputs: inputs, Dir: t.TempDir(), Cancel: mode, Grace: 30 * time.Second,
		Env: append(os.Environ(), "CHAOSOPS_WATCHDOG_INTERVAL=500ms")})
	if err != nil {
		t.Fatal(err)
	}
	return res, state
}

func chaosLogs(res *standin.Result) string {
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
		}, standin.Orphan)
		if res.Outcome != standin.Success {
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
	t.Run("a guardrail violation fails without retry and creates nothing", func(t *testing.T) {
		ns, dyn := demoNamespace(t)
		res, state := runChaosOp(t, t.Context(), "chaos_actions.run_http_chaos", map[string]any{
			"kubeconfig": string(kubeconfig), "namespace": ns, "selector": "app=demo", "duration": "20m",
		}, standin.Orphan)
		if res.Outcome != standin.Abort || !strings.Contains(res.Message, "verdict precheck_failed") || !strings.Contains(res.Message, "max_duration") {
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
		mode standin.CancelMode
	}{{"an orphaned operation (proxy gone, as on a Cloudify cancel)", standin.Orphan}} {
		t.Run(mode.name+" mid-run deletes the chaos object", func(t *testing.T) {
			ns, dyn := demoNamespace(t)
			ctx, cancel := context.WithCancel(t.Context())
			go cancelWhenInjected(ctx, cancel, dyn, ns)
			res, _ := runChaosOp(t, ctx, "chaos_actions.run_http_chaos", map[string]any{
				"kubeconfig": string(kubeconfig), "namespace": ns, "selector": "app=demo", "duration": "5m",
			}, mode.mode)
			if res.Outcome != standin.Cancelled || res.Signaled {
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
		}, standin.Signal)
		if res.Outcome != standin.Cancelled || res.Signaled {
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

func TestCancelledOperationWithAHeldFinalizer(t *testing.T) {
	kubeconfig, err := os.ReadFile(testenv.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	ns, dyn := demoNamespace(t)
	t.Cleanup(func() { releaseChaos(t, dyn, ns) })
	manifest := fmt.Sprintf(`apiVersion: chaos-mesh.org/v1alpha1
kind: HTTPChaos
metadata:
  annotations: {%q: "true"}
spec: {mode: one, selector: {labelSelectors: {app: demo}}, target: Request, port: 8080, abort: true, duration: 5m}
`, controllerstandin.StickyFinalizerAnnotation)
	ctx, cancel := context.WithCancel(t.Context())
	go cancelWhenInjected(ctx, cancel, dyn, ns)
	res, state := runChaosOp(t, ctx, "chaos_actions.run", map[string]any{
		"kubeconfig": string(kubeconfig), "namespace": ns, "manifest": manifest, "delete_timeout": "3s",
	}, standin.Signal)
	if res.Outcome != standin.Cancelled || res.Signaled {
		t.Fatalf("outcome %s, signaled %v: %s\n%s", res.Outcome, res.Signaled, res.Message, chaosLogs(res))
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
	if rp["chaos_current"] == "" || cl["outcome"] != "incomplete" {
		t.Errorf("runtime properties keep neither the object's name nor the outcome: chaos_current %q, cleanup %v", rp["chaos_current"], cl)
	}
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
