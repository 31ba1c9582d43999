package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/internal/cmd/reliability/trial"
	"github.com/cloudify-chaos/chaosops/plugin/internal/faultapi"
	"github.com/cloudify-chaos/chaosops/plugin/internal/logwatch"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
	"k8s.io/client-go/rest"
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
			proxy, c, objs := throughProxy(t, cfg, text, nil)
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

// TestTrialAPIServerUnreachable applies through a proxy that stops
// listening, as an API server does while it restarts: the apply retries
// with backoff, logging each retry, and converges once the server is back;
// a server that stays away ends in a transient error before the deadline;
// a cancelled apply is not retried.
func TestTrialAPIServerUnreachable(t *testing.T) {
	cfg := testenv.Config(t)
	const text = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: {{.ns}}}
data: {a: "1"}
`
	cases := []struct {
		name string
		// back lets connections through again after the first retry line.
		back bool
		// cancel cancels the apply after the first retry line.
		cancel bool
		// timeout bounds the apply's context.
		timeout time.Duration
		check   func(t *testing.T, err error)
	}{
		{name: "an API server that comes back within the deadline: the apply converges", back: true, timeout: 2 * time.Minute,
			check: func(t *testing.T, err error) {
				if err != nil {
					t.Fatalf("apply failed: %v", err)
				}
			}},
		{name: "an API server that stays away: the apply ends before its deadline with a transient error", timeout: 4 * time.Second,
			check: func(t *testing.T, err error) {
				var ue *UnreachableError
				if !errors.As(err, &ue) || ue.Reason != "connection refused" {
					t.Fatalf("error = %v, want an UnreachableError for a refused connection", err)
				}
				if tr, ok := failure.AsTransient(err); !ok || tr.RetryReason() != "the API server is unreachable" {
					t.Errorf("error %v is not transient", err)
				}
			}},
		{name: "a cancelled apply is not retried", cancel: true, timeout: 2 * time.Minute,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("error = %v, want the cancellation", err)
				}
				if _, ok := failure.AsTransient(err); ok {
					t.Errorf("a cancelled apply asks for a retry: %v", err)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			log, seen := logwatch.New("retrying in")
			proxy, c, objs := throughProxy(t, cfg, text, log)
			proxy.Refuse()
			ctx, cancel := context.WithTimeout(t.Context(), tc.timeout)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := NewManager(c, log).Apply(ctx, objs, ApplyOptions{Wait: true, Timeout: time.Minute})
				done <- err
			}()
			var retryLine string
			select {
			case retryLine = <-seen:
			case err := <-done:
				t.Fatalf("the apply ended without a retry line: %v", err)
			}
			for _, want := range []string{"API server " + c.Host + " unreachable (connection refused); retrying in ", " left"} {
				if !strings.Contains(retryLine, want) {
					t.Errorf("retry line %q does not say %q", retryLine, want)
				}
			}
			switch {
			case tc.back:
				if err := proxy.Accept(); err != nil {
					t.Fatal(err)
				}
			case tc.cancel:
				cancel()
			}
			tc.check(t, <-done)
			trial.Record(t, trial.Outcome{Kind: "API server unreachable during kubernetes apply", Outcome: tc.name})
		})
	}
}

// throughProxy starts a faultapi proxy in front of cfg's API server (closed
// when t ends), connects through it with log, and parses text for a new
// namespace.
func throughProxy(t *testing.T, cfg *rest.Config, text string, log *slog.Logger) (*faultapi.Proxy, *Client, []manifest.Object) {
	t.Helper()
	proxy, err := faultapi.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	objs := (&cluster{ns: testenv.Namespace(t, cfg)}).objects(t, "proxied.yaml", text)
	c, err := Connect(t.Context(), ConnOptions{Kubeconfig: proxy.Kubeconfig("any-token"), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return proxy, c, objs
}
