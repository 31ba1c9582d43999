package kube

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/internal/cmd/reliability/trial"
	"github.com/cloudify-chaos/chaosops/plugin/internal/faultapi"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// TestTrialApplyThroughAPIFaults applies through a proxy that answers some
// requests 429 or 5xx, or drops them: transient faults are retried with
// backoff and the apply converges; a server that keeps failing makes the
// apply fail within a bound, with the status in the error.
func TestTrialApplyThroughAPIFaults(t *testing.T) {
	cfg := testenv.Config(t)
	const text = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: {{.ns}}}
data: {a: "1"}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: {{.ns}}}
spec: {ports: [{port: 80}], selector: {app: web}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: {{.ns}}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "web:1"}]}
`
	apply := func(f faultapi.Fault) faultapi.Rule {
		return faultapi.Rule{Method: http.MethodPatch, Path: "/namespaces/", Times: 2, Fault: f}
	}
	cases := []struct {
		name  string
		rules []faultapi.Rule
		// wantErr is empty when the apply must converge, else a text the
		// error must hold.
		wantErr string
		bound   time.Duration
	}{
		{name: "429 with Retry-After (priority and fairness) is retried",
			rules: []faultapi.Rule{apply(faultapi.Fault{Status: 429, RetryAfter: time.Second})}, bound: 30 * time.Second},
		{name: "503 with Retry-After is retried",
			rules: []faultapi.Rule{apply(faultapi.Fault{Status: 503, RetryAfter: time.Second})}, bound: 30 * time.Second},
		{name: "503 without Retry-After is retried with backoff",
			rules: []faultapi.Rule{apply(faultapi.Fault{Status: 503})}, bound: 30 * time.Second},
		{name: "500 without Retry-After is retried with backoff",
			rules: []faultapi.Rule{apply(faultapi.Fault{Status: 500})}, bound: 30 * time.Second},
		{name: "a dropped connection mid-apply is retried (server-side apply is idempotent)",
			rules: []faultapi.Rule{{Method: http.MethodPatch, Path: "/namespaces/", Skip: 1, Times: 1}}, bound: 30 * time.Second},
		{name: "reads that fail while waiting for readiness are retried",
			rules: []faultapi.Rule{{Method: http.MethodGet, Path: "/namespaces/", Times: 3, Fault: faultapi.Fault{Status: 503}}}, bound: 40 * time.Second},
		{name: "a server that keeps answering 503 fails the apply within a bound",
			rules:   []faultapi.Rule{{Method: http.MethodPatch, Path: "/namespaces/", Times: -1, Fault: faultapi.Fault{Status: 503}}},
			wantErr: "503", bound: 90 * time.Second},
		{name: "a server that keeps throttling fails the apply within a bound",
			rules:   []faultapi.Rule{{Method: http.MethodPatch, Path: "/namespaces/", Times: -1, Fault: faultapi.Fault{Status: 429, RetryAfter: time.Second}}},
			wantErr: "429", bound: 90 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // most of the time goes to backoff sleeps
			proxy, err := faultapi.Start(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer proxy.Close()
			ns := testenv.Namespace(t, cfg)
			objs := (&cluster{ns: ns}).objects(t, "faults.yaml", text)
			c, err := Connect(t.Context(), ConnOptions{Kubeconfig: proxy.Kubeconfig("any-token")})
			if err != nil {
				t.Fatal(err)
			}
			proxy.SetRules(tc.rules...)
			start := time.Now()
			res, err := NewManager(c, nil).Apply(t.Context(), objs, ApplyOptions{Wait: true, Timeout: 60 * time.Second})
			took := time.Since(start)
			_, faulted := proxy.Count("", "")
			outcome := fmt.Sprintf("converged after %d faults", faulted)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("apply failed after %d injected faults: %v", faulted, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			case tc.wantErr != "":
				outcome = "failed clearly: " + tc.wantErr
				t.Logf("error after %s: %v", took.Round(time.Millisecond), err)
			}
			if faulted == 0 {
				t.Error("no fault was injected: the rule matched nothing")
			}
			if took > tc.bound {
				t.Errorf("took %s, more than the bound %s", took, tc.bound)
			}
			if err == nil && len(res.Inventory.Entries) != len(objs) {
				t.Errorf("inventory holds %d entries, want %d", len(res.Inventory.Entries), len(objs))
			}
			trial.Record(t, trial.Outcome{Kind: "API faults: 429/5xx/dropped during kubernetes apply", Outcome: outcome, Seconds: took.Seconds()})
		})
	}
}
