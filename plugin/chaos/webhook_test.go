package chaos_test

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// denyingWebhook registers a validating webhook named vauth.kb.io, served
// by the test over TLS, that denies every HTTPChaos created in ns, as
// Chaos Mesh's RBAC webhook (pkg/webhook/validate_auth.go) denies a user
// without the right; other namespaces are not affected.
func denyingWebhook(t *testing.T, ns, message string) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "bad review", http.StatusBadRequest)
			return
		}
		review.Response = &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: false,
			Result: &metav1.Status{Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden, Message: message}}
		review.Request = nil
		_ = json.NewEncoder(w).Encode(review)
	}))
	t.Cleanup(srv.Close)
	cs, err := kubernetes.NewForConfig(testenv.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "chaosops-test-deny-" + ns},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "vauth.kb.io",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{
				URL:      ptr.To(srv.URL + "/validate-auth"),
				CABundle: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}),
			},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{"chaos-mesh.org"}, APIVersions: []string{"v1alpha1"}, Resources: []string{"httpchaos"}},
			}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}},
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To[int32](5),
		}},
	}
	if _, err := cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(t.Context(), cfg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(t.Context(), cfg.Name, metav1.DeleteOptions{})
	})
	// The API server sees new webhook configurations a moment later.
	dyn := testenvDynamic(t)
	probe := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "HTTPChaos",
		"metadata": map[string]any{"name": "probe", "namespace": ns},
		"spec": map[string]any{"mode": "one", "selector": map[string]any{"labelSelectors": map[string]any{"app": "demo"}},
			"target": "Request", "port": int64(8080), "abort": true, "duration": "1s"}}}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, err := dyn.Resource(gvrHTTPChaos).Namespace(ns).Create(t.Context(), probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil && strings.Contains(err.Error(), "denied the request") {
			return
		}
		if err != nil && !apierrors.IsInternalError(err) {
			t.Fatalf("probe: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook is not in effect after 20s (last: %v)", err)
		}
	}
}

func TestWebhookDenial(t *testing.T) {
	f := newFixture(t)
	const msg = "system:serviceaccount:app:chaosops-runner is forbidden on namespace app"
	denyingWebhook(t, f.ns, msg)
	var intent string
	o := f.opts(f.httpAbort(t, nil))
	o.OnIntent = func(name string) error { intent = name; return nil }
	res, err := f.r.Run(t.Context(), o)
	if res.Verdict != chaos.VerdictPrecheckFailed || !chaos.IsPrecheck(err) {
		t.Fatalf("verdict %s, err %v", res.Verdict, err)
	}
	for _, want := range []string{`admission webhook "vauth.kb.io" denied the request`, msg, "nothing was created"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if intent == "" || res.Cleanup != nil {
		t.Errorf("intent %q, cleanup %+v", intent, res.Cleanup)
	}
	f.assertNoChaosLeft(t)
}

func testenvDynamic(t *testing.T) dynamic.Interface {
	t.Helper()
	dyn, err := dynamic.NewForConfig(testenv.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	return dyn
}
