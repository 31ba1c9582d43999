package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

var (
	gvrNamespaces  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	gvrDeployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

// AnnotateNamespace sets the annotation key of ns to value ("" removes
// it), such as a knob of the chaos-daemon stand-in, which then applies to
// the calls for every pod of ns. It works after t's context ends, for
// cleanups.
func AnnotateNamespace(t testing.TB, cfg *rest.Config, ns, key, value string) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v := "null"
	if value != "" {
		v = fmt.Sprintf("%q", value)
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%s}}}`, key, v)
	if _, err := dyn.Resource(gvrNamespaces).Patch(context.WithoutCancel(t.Context()), ns,
		types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("annotate Namespace/%s %s=%q: %v", ns, key, value, err)
	}
}

// OptIn opts ns in to the real Chaos Mesh controller, which filters
// namespaces (ENABLE_FILTER_NAMESPACE, as our bundle installs it).
func OptIn(t testing.TB, cfg *rest.Config, ns string) {
	t.Helper()
	AnnotateNamespace(t, cfg, ns, "chaos-mesh.org/inject", "enabled")
}

// ControllerShell makes a namespace holding a ready Deployment
// chaos-controller-manager whose container has env (nil: none), as the
// Chaos Mesh chart renders it, and returns the namespace: what a preflight
// pointed there reads, while the real controller (in chaos-mesh) does what
// its own environment says.
func ControllerShell(t testing.TB, cfg *rest.Config, env []any) string {
	t.Helper()
	ns := Namespace(t, cfg)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	container := map[string]any{"name": "chaos-mesh", "image": "ghcr.io/chaos-mesh/chaos-mesh:v2.8.3"}
	if env != nil {
		container["env"] = env
	}
	labels := map[string]any{"app.kubernetes.io/component": "controller-manager"}
	dep := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "chaos-controller-manager", "namespace": ns},
		"spec": map[string]any{
			"replicas": int64(1),
			"selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec":     map[string]any{"containers": []any{container}},
			},
		},
	}}
	ri := dyn.Resource(gvrDeployments).Namespace(ns)
	if _, err := ri.Create(t.Context(), dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		u, err := ri.Get(t.Context(), "chaos-controller-manager", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n, _, _ := unstructured.NestedInt64(u.Object, "status", "readyReplicas"); n >= 1 {
			return ns
		}
		if time.Now().After(deadline) {
			t.Fatalf("Deployment %s/chaos-controller-manager is not ready after 1m", ns)
		}
	}
}
