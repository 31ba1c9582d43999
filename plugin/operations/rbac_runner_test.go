package operations_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/standin"
	"github.com/cloudify-chaos/chaosops/plugin/cmd/reliability/trial"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// runnerManifest is the shipped RBAC of the chaos runner.
func runnerManifest(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "manifests", "rbac", "chaos-runner.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	gvrHTTPChaos   = api.GroupVersion.WithResource("httpchaos")
	gvrSchedules   = api.GroupVersion.WithResource("schedules")
	gvrSecrets     = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	gvrPods        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrNamespaces  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	gvrDeployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrRoles       = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}
)

// access is one request made with a restricted identity and whether it
// must be allowed. Creates are server-side dry runs: authorization is
// checked all the same, nothing is stored.
type access struct {
	what  string
	allow bool
	do    func(ctx context.Context, dyn dynamic.Interface) error
}

func dryCreate(gvr schema.GroupVersionResource, ns string, obj map[string]any) func(context.Context, dynamic.Interface) error {
	return func(ctx context.Context, dyn dynamic.Interface) error {
		obj := &unstructured.Unstructured{Object: obj}
		obj.SetNamespace(ns)
		_, err := dyn.Resource(gvr).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	}
}

func list(gvr schema.GroupVersionResource, ns string) func(context.Context, dynamic.Interface) error {
	return func(ctx context.Context, dyn dynamic.Interface) error {
		_, err := dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
		return err
	}
}

func get(gvr schema.GroupVersionResource, ns, name string) func(context.Context, dynamic.Interface) error {
	return func(ctx context.Context, dyn dynamic.Interface) error {
		_, err := dyn.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil // authorized; there is just nothing
		}
		return err
	}
}

func del(gvr schema.GroupVersionResource, ns, name string) func(context.Context, dynamic.Interface) error {
	return func(ctx context.Context, dyn dynamic.Interface) error {
		err := dyn.Resource(gvr).Namespace(ns).Delete(ctx, name, metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
}

func httpChaosObject(ns, name string) map[string]any {
	return map[string]any{"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "HTTPChaos",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{"mode": "one", "selector": map[string]any{"namespaces": []any{ns}, "labelSelectors": map[string]any{"app": "demo"}},
			"target": "Request", "port": int64(8080), "abort": true, "duration": "1m"}}
}

// waitAllowed waits until every request is allowed: the authorizer sees
// new Roles and bindings through its informers, a moment after they are
// created.
func waitAllowed(t *testing.T, dyn dynamic.Interface, requests ...func(context.Context, dynamic.Interface) error) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var errs []error
		for _, r := range requests {
			if err := r(t.Context(), dyn); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bindings are not in effect after 15s: %v", errs)
		}
	}
}

// checkAccess makes each request with dyn and compares the answer.
func checkAccess(t *testing.T, dyn dynamic.Interface, table []access) {
	t.Helper()
	for _, a := range table {
		err := a.do(t.Context(), dyn)
		switch {
		case a.allow && err != nil:
			t.Errorf("%s: want allowed, got %v", a.what, err)
		case !a.allow && !apierrors.IsForbidden(err):
			t.Errorf("%s: want 403 Forbidden, got %v", a.what, err)
		}
	}
}

// TestChaosRunnerRoleIsLeastPrivilege applies manifests/rbac/chaos-runner.yaml
// with kubernetes.apply and checks on the real API server, as the
// ServiceAccount (impersonated), that it can do what a run needs in the app
// namespace and nothing else; then runs chaos and manages it with a token of
// that ServiceAccount.
func TestChaosRunnerRoleIsLeastPrivilege(t *testing.T) {
	cfg := testenv.Config(t)
	ns := testenv.Namespace(t, cfg)
	other := testenv.Namespace(t, cfg)
	testenv.DemoApp(t, cfg, ns, 1)
	admin := adminKubeconfig(t)
	chaosNS := chaos.DefaultChaosNamespace

	applied, state := opRun{Op: "kubernetes.apply", Deployment: "dep-rbac", Inputs: map[string]any{
		"kubeconfig": admin, "manifest": runnerManifest(t), "values": map[string]any{"namespace": ns, "chaos_namespace": chaosNS},
	}}.run(t, t.Context())
	if applied.Outcome != standin.Success {
		t.Fatalf("apply the runner RBAC: %s %s\n%s", applied.Outcome, applied.Message, chaosLogs(applied))
	}
	t.Cleanup(func() {
		// The Role in the Chaos Mesh namespace and the ClusterRole outlive
		// the test namespace: delete the inventory.
		res, _ := opRun{Op: "kubernetes.delete", Deployment: "dep-rbac", Inputs: map[string]any{"kubeconfig": admin, "timeout": "60s"},
			Props: state.Instance.RuntimeProperties}.run(t, context.WithoutCancel(t.Context()))
		if res.Outcome != standin.Success {
			t.Errorf("delete the runner RBAC: %s %s", res.Outcome, res.Message)
		}
	})
	user := "system:serviceaccount:" + ns + ":chaosops-runner"

	t.Run("impersonated, the runner can do what a run needs and nothing more", func(t *testing.T) {
		imp := rest.CopyConfig(cfg)
		imp.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}
		dyn, err := dynamic.NewForConfig(imp)
		if err != nil {
			t.Fatal(err)
		}
		waitAllowed(t, dyn, list(gvrHTTPChaos, ns), get(gvrNamespaces, "", ns))
		checkAccess(t, dyn, []access{
			{"create HTTPChaos in the app namespace", true, dryCreate(gvrHTTPChaos, ns, httpChaosObject(ns, "rbac-check"))},
			{"get HTTPChaos in the app namespace", true, get(gvrHTTPChaos, ns, "rbac-check")},
			{"list HTTPChaos in the app namespace", true, list(gvrHTTPChaos, ns)},
			{"delete HTTPChaos in the app namespace", true, del(gvrHTTPChaos, ns, "rbac-check")},
			{"create HTTPChaos in another namespace", false, dryCreate(gvrHTTPChaos, other, httpChaosObject(other, "rbac-check"))},
			{"list HTTPChaos in another namespace", false, list(gvrHTTPChaos, other)},
			{"list HTTPChaos in every namespace", false, list(gvrHTTPChaos, "")},
			{"create a Schedule (experiments on a timer)", false, dryCreate(gvrSchedules, ns, map[string]any{"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "Schedule", "metadata": map[string]any{"name": "s"}})},
			{"read Secrets", false, get(gvrSecrets, ns, "any")},
			{"list Secrets", false, list(gvrSecrets, ns)},
			{"list Pods in the app namespace (preflight)", true, list(gvrPods, ns)},
			{"create Pods", false, dryCreate(gvrPods, ns, map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p"},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "x"}}}})},
			{"delete Pods", false, del(gvrPods, ns, "any")},
			{"create Roles (no escalation)", false, dryCreate(gvrRoles, ns, map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": map[string]any{"name": "r"}})},
			{"list Deployments of the app", false, list(gvrDeployments, ns)},
			{"get its own namespace (opt-in annotation)", true, get(gvrNamespaces, "", ns)},
			{"get another namespace", false, get(gvrNamespaces, "", other)},
			{"list namespaces", false, list(gvrNamespaces, "")},
			{"get the Chaos Mesh controller Deployment", true, get(gvrDeployments, chaosNS, "chaos-controller-manager")},
			{"get another Deployment of the Chaos Mesh namespace", false, get(gvrDeployments, chaosNS, "chaos-dashboard")},
			{"list Pods of the Chaos Mesh namespace (chaos-daemon)", true, list(gvrPods, chaosNS)},
			{"list Pods of another namespace", false, list(gvrPods, other)},
		})
	})

	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(t.Context(), "chaosops-runner",
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	runner := map[string]any{"host": cfg.Host, "token": tr.Status.Token, "ssl_ca_cert": string(cfg.CAData), "namespace": ns}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range runner {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	t.Run("a chaos run with the runner's token passes, its preflight complete", func(t *testing.T) {
		start := time.Now()
		res, state := opRun{Op: "chaos_actions.run_http_chaos", Deployment: "dep-rbac-run", Inputs: with(map[string]any{"selector": "app=demo", "duration": "2s"})}.run(t, t.Context())
		verdict, _ := state.Instance.RuntimeProperties["chaos_verdict"].(string)
		if res.Outcome != standin.Success || verdict != "pass" {
			t.Fatalf("outcome %s, verdict %q: %s\n%s", res.Outcome, verdict, res.Message, chaosLogs(res))
		}
		if strings.Contains(strings.ToLower(chaosLogs(res)), "forbidden") {
			t.Errorf("the run met a forbidden request:\n%s", chaosLogs(res))
		}
		// The preflight skips, with a warning, each check it may not make.
		pre, state := opRun{Op: "chaos_actions.preflight", Deployment: "dep-rbac-run", Inputs: with(map[string]any{"selector": "app=demo", "duration": "2s"})}.run(t, t.Context())
		report, _ := state.Instance.RuntimeProperties["chaos_preflight"].(map[string]any)
		if pre.Outcome != standin.Success || report["ok"] != true || len(report["warnings"].([]any)) != 0 {
			t.Errorf("preflight as the runner: %s %s, report %v", pre.Outcome, pre.Message, report)
		}
		trial.Record(t, trial.Outcome{Kind: "RBAC: chaos run as the least-privilege ServiceAccount", Outcome: "verdict " + verdict, Seconds: time.Since(start).Seconds()})
	})

	t.Run("pause, resume, status and reap work with the runner's token", func(t *testing.T) {
		obj := &unstructured.Unstructured{Object: httpChaosObject(ns, "httpchaos-managed")}
		obj.SetLabels(map[string]string{chaos.LabelManagedBy: chaos.ManagedBy, chaos.LabelDeployment: "dep-rbac-manage", chaos.LabelRun: "managed"})
		if _, err := dynClient(t).Resource(gvrHTTPChaos).Namespace(ns).Create(t.Context(), obj, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, op := range []string{"chaos_actions.pause", "chaos_actions.status", "chaos_actions.resume", "chaos_actions.reap"} {
			res, _ := opRun{Op: op, Deployment: "dep-rbac-manage", Inputs: with(nil)}.run(t, t.Context())
			if res.Outcome != standin.Success {
				t.Errorf("%s: %s %s\n%s", op, res.Outcome, res.Message, chaosLogs(res))
			}
		}
		if n := deploymentObjects(t, dynClient(t), ns, "dep-rbac-manage"); n != 0 {
			t.Errorf("%d objects left after reap", n)
		}
	})

	t.Run("the dashboard tokens are scoped to the app namespace", func(t *testing.T) {
		for _, role := range []string{"viewer", "manager"} {
			res, state := opRun{Op: "chaos_actions.dashboard_token", Deployment: "dep-rbac", Inputs: map[string]any{"kubeconfig": admin, "namespace": ns, "role": role}}.run(t, t.Context())
			tok, _ := state.Instance.RuntimeProperties["dashboard_token"].(map[string]any)
			value, _ := tok["value"].(string)
			if res.Outcome != standin.Success || value == "" {
				t.Fatalf("%s token: %s %s", role, res.Outcome, res.Message)
			}
			bearer := &rest.Config{Host: cfg.Host, BearerToken: value, TLSClientConfig: rest.TLSClientConfig{CAData: cfg.CAData}}
			dyn, err := dynamic.NewForConfig(bearer)
			if err != nil {
				t.Fatal(err)
			}
			waitAllowed(t, dyn, list(gvrHTTPChaos, ns))
			manager := role == "manager"
			t.Run(role, func(t *testing.T) {
				checkAccess(t, dyn, []access{
					{"list HTTPChaos in the app namespace", true, list(gvrHTTPChaos, ns)},
					{"create HTTPChaos in the app namespace", manager, dryCreate(gvrHTTPChaos, ns, httpChaosObject(ns, "dash"))},
					{"delete HTTPChaos in the app namespace", manager, del(gvrHTTPChaos, ns, "dash")},
					{"create HTTPChaos in another namespace", false, dryCreate(gvrHTTPChaos, other, httpChaosObject(other, "dash"))},
					{"list HTTPChaos in another namespace", false, list(gvrHTTPChaos, other)},
					{"read Secrets", false, get(gvrSecrets, ns, "any")},
					{"create Pods", false, dryCreate(gvrPods, ns, map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p"},
						"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "x"}}}})},
					{"list namespaces", false, list(gvrNamespaces, "")},
				})
			})
		}
	})
}
