package operations_test

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

func TestKubernetesApplyAndDeleteOperations(t *testing.T) {
	cfg := testenv.Config(t)
	ns := testenv.Namespace(t, cfg)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := os.ReadFile(testenv.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	manifestText := fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: %[1]s}
data: {greeting: "{{ .greeting }}"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %[1]s}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "web:1"}]}
`, ns)
	state := &scriptrunner.State{Node: scriptrunner.Node{ID: "app"}, Instance: scriptrunner.Instance{ID: "app_1"}, DeploymentID: "d", ExecutionID: "e"}
	run := func(op string, inputs map[string]any) *scriptrunner.Result {
		t.Helper()
		return runAs(t, state, op, string(kubeconfig), "", inputs)
	}
	t.Run("apply renders values, waits for the rollout and records the inventory", func(t *testing.T) {
		res := run("kubernetes.apply", map[string]any{"manifest": manifestText, "values": map[string]any{"greeting": "hi"}, "wait": true, "timeout": "60s"})
		if res.Outcome != scriptrunner.Success {
			t.Fatalf("outcome %s: %s\n%s", res.Outcome, res.Message, chaosLogs(res))
		}
		inv, _ := state.Instance.RuntimeProperties["kubernetes_inventory"].(map[string]any)
		if entries, _ := inv["entries"].([]any); len(entries) != 2 {
			t.Fatalf("inventory %v", inv)
		}
		if !strings.Contains(chaosLogs(res), "Deployment/"+ns+"/web created") {
			t.Errorf("log lacks the change set:\n%s", chaosLogs(res))
		}
		if strings.Contains(toJSON(state.Instance.RuntimeProperties)+chaosLogs(res), "client-key-data") {
			t.Error("kubeconfig content leaked")
		}
	})
	t.Run("re-applying unchanged objects changes nothing", func(t *testing.T) {
		res := run("kubernetes.apply", map[string]any{"manifest": manifestText, "values": map[string]any{"greeting": "hi"}})
		if res.Outcome != scriptrunner.Success || !strings.Contains(chaosLogs(res), "ConfigMap/"+ns+"/settings unchanged") {
			t.Fatalf("outcome %s\n%s", res.Outcome, chaosLogs(res))
		}
	})
	t.Run("a template error names the source and line, and fails without retry", func(t *testing.T) {
		res := run("kubernetes.apply", map[string]any{"manifest": manifestText, "values": map[string]any{"other": 1}})
		if res.Outcome != scriptrunner.Abort || !strings.Contains(res.Message, "input manifest") {
			t.Fatalf("outcome %s: %s", res.Outcome, res.Message)
		}
	})
	t.Run("a urls item without its sha256 is refused by position, without retry", func(t *testing.T) {
		res := run("kubernetes.apply", map[string]any{"urls": []any{map[string]any{"url": "https://example.invalid/a.yaml"}}})
		if res.Outcome != scriptrunner.Abort || !strings.Contains(res.Message, "input urls: item 0") {
			t.Fatalf("outcome %s: %s", res.Outcome, res.Message)
		}
	})
	t.Run("delete removes the inventory and waits until gone", func(t *testing.T) {
		res := run("kubernetes.delete", map[string]any{"timeout": "60s"})
		if res.Outcome != scriptrunner.Success {
			t.Fatalf("outcome %s: %s\n%s", res.Outcome, res.Message, chaosLogs(res))
		}
		_, err := dyn.Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}).Namespace(ns).Get(t.Context(), "web", metav1.GetOptions{})
		if err == nil {
			t.Error("the Deployment still exists")
		}
		inv, _ := state.Instance.RuntimeProperties["kubernetes_inventory"].(map[string]any)
		if entries, _ := inv["entries"].([]any); len(entries) != 0 {
			t.Errorf("inventory after delete: %v", inv)
		}
	})
}

// A manifest URL that stays unreachable (503 on every attempt) is a reason
// to retry the operation later, not a failure: the next try may get it.
func TestKubernetesApplyRetriesAnUnreachableURL(t *testing.T) {
	cfg := testenv.Config(t)
	kubeconfig, err := os.ReadFile(testenv.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	// The operation trusts the system roots only; SSL_CERT_FILE makes the
	// test server's certificate one of them for this process.
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	state := &scriptrunner.State{Operation: scriptrunner.Operation{Name: "kubernetes.apply"}, Node: scriptrunner.Node{ID: "app"}, Instance: scriptrunner.Instance{ID: "app_1"}, DeploymentID: "d", ExecutionID: "e"}
	p, err := scriptrunner.NewProxy(state)
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]any{"kubeconfig": string(kubeconfig), "namespace": testenv.Namespace(t, cfg),
		"url": srv.URL + "/release.yaml?sig=s3cr3t", "sha256": strings.Repeat("a", 64)}
	res, err := p.Run(t.Context(), scriptrunner.Spec{Executable: chaosbinPath(t), Inputs: inputs, Dir: t.TempDir(),
		Env: append(os.Environ(), "SSL_CERT_FILE="+ca)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != scriptrunner.Retry {
		t.Fatalf("outcome %s (%q), want retry", res.Outcome, res.Message)
	}
	for _, want := range []string{srv.URL + "/release.yaml", "503", "mirror the file into the blueprint"} {
		if !strings.Contains(res.Message, want) {
			t.Errorf("message %q does not say %q", res.Message, want)
		}
	}
	if strings.Contains(res.Message, "s3cr3t") {
		t.Errorf("message %q shows the URL's query", res.Message)
	}
}
