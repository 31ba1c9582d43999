package testenv

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// DemoApp creates a Deployment "demo" (pods labelled app=demo, container
// port 8080) with the given replicas in ns and waits until kwok reports
// every pod Running, so chaos selectors have targets.
func DemoApp(t testing.TB, cfg *rest.Config, ns string, replicas int) dynamic.Interface {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dep := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "demo", "namespace": ns},
		"spec": map[string]any{
			"replicas": int64(replicas),
			"selector": map[string]any{"matchLabels": map[string]any{"app": "demo"}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": "demo"}},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "app", "image": "demo:1", "ports": []any{map[string]any{"containerPort": int64(8080)}}}}},
			},
		},
	}}
	deployments := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	if _, err := dyn.Resource(deployments).Namespace(ns).Create(t.Context(), dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		list, err := dyn.Resource(pods).Namespace(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=demo"})
		if err != nil {
			t.Fatal(err)
		}
		running := 0
		for _, p := range list.Items {
			if ph, _, _ := unstructured.NestedString(p.Object, "status", "phase"); ph == "Running" {
				running++
			}
		}
		if running == replicas {
			return dyn
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo pods in %s not Running after 1m (%d of %d)", ns, running, replicas)
		}
	}
}
