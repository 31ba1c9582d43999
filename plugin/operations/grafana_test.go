package operations_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/kube"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
)

// TestGrafanaDashboardOperations runs grafana.install_dashboards and
// grafana.uninstall_dashboards through the executable and the ctx proxy
// stand-in against kube-prometheus' Grafana from the fixture, applied in
// the test's namespace as the stack node applies it.
func TestGrafanaDashboardOperations(t *testing.T) {
	cfg := testenv.Config(t)
	ns := testenv.Namespace(t, cfg)
	kubeconfig, err := os.ReadFile(testenv.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	c, err := kube.NewClient(cfg, kube.ConnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fixture := filepath.Join(root, "manifests", "kube-prometheus", "fixture", "main.yaml")
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	all, err := manifest.Parse(fixture, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	var stack []manifest.Object
	for _, o := range all {
		if strings.HasPrefix(o.GetName(), "grafana") {
			o.SetNamespace(ns)
			stack = append(stack, o)
		}
	}
	if _, err := kube.NewManager(c, slog.New(slog.DiscardHandler)).Apply(t.Context(), stack, kube.ApplyOptions{Wait: true, Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	dashboard, err := os.ReadFile(filepath.Join(root, "manifests", "grafana", "chaosops-dashboard-configmap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	inline := strings.Replace(string(dashboard), "namespace: monitoring", "namespace: "+ns, 1)

	state := &scriptrunner.State{Node: scriptrunner.Node{ID: "dashboard"}, Instance: scriptrunner.Instance{ID: "dashboard_1"}, DeploymentID: "demo-monitoring", ExecutionID: "e"}
	run := func(op string, inputs map[string]any) *scriptrunner.Result {
		t.Helper()
		return runAs(t, state, op, string(kubeconfig), "", inputs)
	}
	deployments := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	mounted := func(t *testing.T) bool {
		t.Helper()
		d, err := c.Dynamic.Resource(deployments).Namespace(ns).Get(t.Context(), "grafana", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		for _, m := range containers[0].(map[string]any)["volumeMounts"].([]any) {
			if m.(map[string]any)["mountPath"] == "/grafana-dashboard-definitions/0/chaosops-dashboard" {
				return true
			}
		}
		return false
	}
	install := map[string]any{"manifest": inline, "grafana_namespace": ns, "timeout": "60s"}

	t.Run("install mounts the dashboard and records it under this deployment's field manager", func(t *testing.T) {
		res := run("grafana.install_dashboards", install)
		if res.Outcome != scriptrunner.Success {
			t.Fatalf("outcome %s: %s\n%s", res.Outcome, res.Message, chaosLogs(res))
		}
		if !mounted(t) {
			t.Error("Grafana's Deployment does not mount the dashboard")
		}
		prop, _ := state.Instance.RuntimeProperties["grafana_dashboards"].(map[string]any)
		if prop["fieldManager"] != "chaosops-grafana-dashboards/demo-monitoring" {
			t.Errorf("runtime property grafana_dashboards: %v", prop)
		}
		for _, want := range []string{"ConfigMap/" + ns + "/chaosops-dashboard created", "Deployment/" + ns + "/grafana configured"} {
			if !strings.Contains(chaosLogs(res), want) {
				t.Errorf("log lacks %q:\n%s", want, chaosLogs(res))
			}
		}
	})
	t.Run("installing again changes nothing", func(t *testing.T) {
		res := run("grafana.install_dashboards", install)
		if res.Outcome != scriptrunner.Success || !strings.Contains(chaosLogs(res), "Deployment/"+ns+"/grafana unchanged") {
			t.Fatalf("outcome %s: %s\n%s", res.Outcome, res.Message, chaosLogs(res))
		}
	})
	t.Run("a folder no provider reads fails without retry, naming the input", func(t *testing.T) {
		res := run("grafana.install_dashboards", map[string]any{"manifest": inline, "grafana_namespace": ns, "dashboards_folder": "/var/lib/grafana/dashboards"})
		if res.Outcome != scriptrunner.Abort || !strings.Contains(res.Message, "dashboards_folder") {
			t.Fatalf("outcome %s: %s", res.Outcome, res.Message)
		}
	})
	t.Run("uninstall takes the mount out and deletes the ConfigMap", func(t *testing.T) {
		res := run("grafana.uninstall_dashboards", map[string]any{"timeout": "60s"})
		if res.Outcome != scriptrunner.Success {
			t.Fatalf("outcome %s: %s\n%s", res.Outcome, res.Message, chaosLogs(res))
		}
		if mounted(t) {
			t.Error("Grafana's Deployment still mounts the dashboard")
		}
		if _, err := c.Dynamic.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace(ns).Get(t.Context(), "chaosops-dashboard", metav1.GetOptions{}); err == nil {
			t.Error("the dashboard ConfigMap is still there")
		}
		prop, _ := state.Instance.RuntimeProperties["grafana_dashboards"].(map[string]any)
		for _, k := range []string{"configMaps", "grafana"} {
			inv, _ := prop[k].(map[string]any)
			if entries, ok := inv["entries"].([]any); !ok || len(entries) != 0 {
				t.Errorf("%s left after uninstall: %v", k, inv)
			}
		}
	})
	t.Run("uninstalling again is done at once", func(t *testing.T) {
		res := run("grafana.uninstall_dashboards", map[string]any{})
		if res.Outcome != scriptrunner.Success || !strings.Contains(chaosLogs(res), "nothing to uninstall") {
			t.Fatalf("outcome %s: %s\n%s", res.Outcome, res.Message, chaosLogs(res))
		}
	})
}
