package testenv_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

var httpChaosGVR = schema.GroupVersionResource{Group: "chaos-mesh.org", Version: "v1alpha1", Resource: "httpchaos"}

// httpChaos is an HTTPChaos aborting requests to port 80 of the pods
// labelled app=demo in the namespaces of selectorNS (none: the mutating
// webhook fills in the object's own).
func httpChaos(ns, name, duration string, selectorNS ...string) *unstructured.Unstructured {
	selector := map[string]any{"labelSelectors": map[string]any{"app": "demo"}}
	if len(selectorNS) > 0 {
		namespaces := []any{}
		for _, n := range selectorNS {
			namespaces = append(namespaces, n)
		}
		selector["namespaces"] = namespaces
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "HTTPChaos",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"mode": "all", "selector": selector, "target": "Request",
			"port": int64(80), "abort": true, "duration": duration,
		},
	}}
}

func TestRealChaosMesh(t *testing.T) {
	cfg := testenv.Config(t)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the chart's webhook configurations call the controller by URL on 127.0.0.1", func(t *testing.T) {
		type hook struct {
			name, url string
			caBundle  []byte
			service   *admissionregistrationv1.ServiceReference
			failure   *admissionregistrationv1.FailurePolicyType
			sides     *admissionregistrationv1.SideEffectClass
		}
		got := map[string][]hook{}
		m, err := cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(t.Context(), "chaos-mesh-mutation", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("MutatingWebhookConfiguration/chaos-mesh-mutation: %v", err)
		}
		for _, w := range m.Webhooks {
			got[m.Name] = append(got[m.Name], hook{w.Name, ptrOr(w.ClientConfig.URL), w.ClientConfig.CABundle, w.ClientConfig.Service, w.FailurePolicy, w.SideEffects})
		}
		for _, name := range []string{"chaos-mesh-validation", "chaos-mesh-validation-auth"} {
			v, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(t.Context(), name, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("ValidatingWebhookConfiguration/%s: %v", name, err)
			}
			for _, w := range v.Webhooks {
				got[name] = append(got[name], hook{w.Name, ptrOr(w.ClientConfig.URL), w.ClientConfig.CABundle, w.ClientConfig.Service, w.FailurePolicy, w.SideEffects})
			}
		}
		for conf, want := range map[string]string{
			"chaos-mesh-mutation":        "mhttpchaos.kb.io",
			"chaos-mesh-validation":      "vhttpchaos.kb.io",
			"chaos-mesh-validation-auth": "vauth.kb.io",
		} {
			if !slices.ContainsFunc(got[conf], func(h hook) bool { return h.name == want }) {
				t.Errorf("%s has no webhook %s", conf, want)
			}
		}
		if n := len(got["chaos-mesh-mutation"]); n != 19 {
			t.Errorf("chaos-mesh-mutation has %d webhooks, want the chart's 19", n)
		}
		for conf, hooks := range got {
			for _, h := range hooks {
				if !strings.HasPrefix(h.url, "https://127.0.0.1:") || h.service != nil || len(h.caBundle) == 0 {
					t.Errorf("%s/%s: url %q, service %v, caBundle of %d bytes; want https://127.0.0.1:PORT/..., no service and a CA", conf, h.name, h.url, h.service, len(h.caBundle))
				}
				if ptrOr(h.failure) != admissionregistrationv1.Fail || ptrOr(h.sides) != admissionregistrationv1.SideEffectClassNone {
					t.Errorf("%s/%s: failurePolicy %v, sideEffects %v; want Fail and None, as the chart", conf, h.name, ptrOr(h.failure), ptrOr(h.sides))
				}
			}
		}
	})

	t.Run("an HTTPChaos whose duration is no duration is denied by the real validating webhook", func(t *testing.T) {
		ns := testenv.Namespace(t, cfg)
		testenv.OptIn(t, cfg, ns)
		// The CRD types duration as a plain string: only the webhook can refuse it.
		_, err := dyn.Resource(httpChaosGVR).Namespace(ns).Create(t.Context(), httpChaos(ns, "bad-duration", "xyz", ns), metav1.CreateOptions{})
		if err == nil {
			t.Fatalf("HTTPChaos/%s/bad-duration was created; want it denied by the webhook", ns)
		}
		msg := err.Error()
		if !apierrors.IsForbidden(err) || !strings.Contains(msg, `admission webhook "vhttpchaos.kb.io" denied the request`) || !strings.Contains(msg, `"xyz"`) {
			t.Errorf("HTTPChaos/%s/bad-duration: error %q; want a denial by vhttpchaos.kb.io naming \"xyz\"", ns, msg)
		}
		if _, err := dyn.Resource(httpChaosGVR).Namespace(ns).Get(t.Context(), "bad-duration", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("HTTPChaos/%s/bad-duration: get after the denial: %v; want NotFound", ns, err)
		}
	})

	t.Run("a user allowed chaos in one namespace is denied by vauth when selecting another", func(t *testing.T) {
		own := testenv.Namespace(t, cfg)
		other := testenv.Namespace(t, cfg)
		const user = "chaosops-testenv-limited"
		_, err := cs.RbacV1().Roles(own).Create(t.Context(), &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: "httpchaos-editor"},
			Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{"chaos-mesh.org"}, Resources: []string{"httpchaos"},
				Verbs: []string{"create", "get", "list", "update", "delete"},
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("Role/%s/httpchaos-editor: %v", own, err)
		}
		_, err = cs.RbacV1().RoleBindings(own).Create(t.Context(), &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "httpchaos-editor"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "httpchaos-editor"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("RoleBinding/%s/httpchaos-editor: %v", own, err)
		}
		limited := rest.CopyConfig(cfg)
		limited.Impersonate = rest.ImpersonationConfig{UserName: user}
		ldyn, err := dynamic.NewForConfig(limited)
		if err != nil {
			t.Fatal(err)
		}
		// RBAC is granted asynchronously to the authorizer's cache: the
		// first attempts may be refused by RBAC itself, not by vauth.
		var last error
		err = wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
			_, last = ldyn.Resource(httpChaosGVR).Namespace(own).Create(ctx, httpChaos(own, "elsewhere", "30s", other),
				metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			return last != nil && strings.Contains(last.Error(), `admission webhook "vauth.kb.io" denied the request`), nil
		})
		if err != nil {
			t.Fatalf("HTTPChaos/%s/elsewhere as %s selecting namespace %s: last error %v; want a denial by vauth.kb.io", own, user, other, last)
		}
		if !strings.Contains(last.Error(), "forbidden on namespace "+other) {
			t.Errorf("vauth denial %q does not name namespace %s", last, other)
		}
	})

	t.Run("the real controller selects the pods of a valid HTTPChaos and keeps its finalizer", func(t *testing.T) {
		ns := testenv.Namespace(t, cfg)
		testenv.OptIn(t, cfg, ns)
		testenv.DemoApp(t, cfg, ns, 1)
		chaos := dyn.Resource(httpChaosGVR).Namespace(ns)
		// No selector namespaces: the mutating webhook sets the object's own.
		created, err := chaos.Create(t.Context(), httpChaos(ns, "abort", "10m"), metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("HTTPChaos/%s/abort: create: %v", ns, err)
		}
		t.Cleanup(func() { forceDelete(t, chaos, ns, "abort") })
		if got, _, _ := unstructured.NestedStringSlice(created.Object, "spec", "selector", "namespaces"); !slices.Equal(got, []string{ns}) {
			t.Errorf("HTTPChaos/%s/abort: spec.selector.namespaces = %v after the mutating webhook; want [%s]", ns, got, ns)
		}

		var obj *unstructured.Unstructured
		err = wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			obj, err = chaos.Get(ctx, "abort", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			records, _, _ := unstructured.NestedSlice(obj.Object, "status", "experiment", "containerRecords")
			return condition(obj, "Selected") == "True" && len(records) == 1, nil
		})
		if err != nil {
			t.Fatalf("HTTPChaos/%s/abort: no Selected=True with one record after 30s: %v; status %v", ns, err, obj.Object["status"])
		}
		if !slices.Contains(obj.GetFinalizers(), "chaos-mesh/records") {
			t.Errorf("HTTPChaos/%s/abort: finalizers %v; want chaos-mesh/records", ns, obj.GetFinalizers())
		}
	})
}

// condition returns the status of the chaos object's condition typ ("" when absent).
func condition(obj *unstructured.Unstructured, typ string) string {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}

// forceDelete deletes a chaos object and, if the controller still holds
// its finalizer after a few seconds (no chaos-daemon to recover with),
// removes the finalizer, so the test namespace can go.
func forceDelete(t *testing.T, chaos dynamic.ResourceInterface, ns, name string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 30*time.Second)
	defer cancel()
	if err := chaos.Delete(ctx, name, metav1.DeleteOptions{}); apierrors.IsNotFound(err) {
		return
	} else if err != nil {
		t.Errorf("HTTPChaos/%s/%s: delete: %v", ns, name, err)
		return
	}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := chaos.Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err == nil {
		return
	}
	_, err = chaos.Patch(ctx, name, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("HTTPChaos/%s/%s: remove finalizers: %v", ns, name, err)
	}
}

func ptrOr[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
