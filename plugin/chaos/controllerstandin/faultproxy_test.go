package controllerstandin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/faultproxy"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// appPort is the container port of the HTTPChaos specs and the proxies.
const appPort = 8080

// startFaultProxy serves a fault proxy in front of upstream until stop is
// called or the test ends.
func startFaultProxy(t *testing.T, upstream string) (p *faultproxy.Proxy, stop func()) {
	t.Helper()
	p, err := faultproxy.New(faultproxy.Options{Upstream: upstream, Port: appPort, Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("fault proxy: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("fault proxy did not stop within %v", waitTimeout)
		}
	}
	t.Cleanup(stop)
	return p, stop
}

// get sends GET path to the proxy at addr on a fresh connection; err is a
// transport error (no response at all).
func get(t *testing.T, addr, path string) (int, error) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// traffic checks what GETs of each path through the proxy at addr get:
// 200, or no response when aborted.
func traffic(t *testing.T, when, addr string, aborted map[string]bool) {
	t.Helper()
	for path, abort := range aborted {
		status, err := get(t, addr, path)
		switch {
		case abort && err == nil:
			t.Errorf("%s: GET %s = %d, want the connection closed without a response", when, path, status)
		case !abort && (err != nil || status != http.StatusOK):
			t.Errorf("%s: GET %s = %d, %v; want 200", when, path, status, err)
		}
	}
}

// annotatePod sets the fault proxy annotation of the pod.
func (e *env) annotatePod(pod, adminURL string) {
	e.t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, FaultProxyAnnotation, adminURL)
	if _, err := e.kube.CoreV1().Pods(e.ns).Patch(e.t.Context(), pod, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		e.t.Fatalf("Pod/%s/%s: annotate: %v", e.ns, pod, err)
	}
}

// closedURL is an admin URL where nothing listens.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func abortAPISpec(app string) *api.HTTPChaosSpec {
	return &api.HTTPChaosSpec{PodSelector: selecting(app), Target: api.HTTPRequest, Port: appPort, Path: ptr.To("/api/*"), Abort: ptr.To(true)}
}

func TestFaultProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok", r.URL.Path)
	}))
	t.Cleanup(app.Close)

	t.Run("an abort on /api/* is real for traffic through the pod's proxy while injected, and gone after deletion", func(t *testing.T) {
		proxy, _ := startFaultProxy(t, app.URL)
		admin, err := faultproxy.NewAdminClient(proxy.AdminURL())
		if err != nil {
			t.Fatal(err)
		}
		pods := e.deployment("web", 1, "app")
		e.annotatePod(pods[0].Name, proxy.AdminURL())
		paths := map[string]bool{"/api/x": true, "/health": false}

		traffic(t, "before the experiment", proxy.Addr(), map[string]bool{"/api/x": false, "/health": false})
		o := newChaos("abort-api", abortAPISpec("web"), map[string]string{StickyFinalizerAnnotation: "true"})
		e.create(o)
		got := e.waitFor(o, "AllInjected", injected)
		traffic(t, "while AllInjected", proxy.Addr(), paths)

		rules, err := admin.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want, err := faultproxy.RuleFromHTTPChaos(abortAPISpec("web"))
		if err != nil {
			t.Fatal(err)
		}
		id := got.Namespace + "/abort-api/" + string(got.UID)
		if diff := cmp.Diff([]faultproxy.RuleEntry{{ID: id, Rule: want}}, rules); diff != "" {
			t.Errorf("proxy rules (-want +got):\n%s", diff)
		}

		e.delete(o)
		e.waitFor(o, "AllRecovered while deleting", func(o *api.Object, deleted bool) bool {
			return !deleted && o.DeletionTimestamp != nil && recovered(o, false)
		})
		traffic(t, "after AllRecovered", proxy.Addr(), map[string]bool{"/api/x": false, "/health": false})
		if rules, err := admin.List(t.Context()); err != nil || len(rules) != 0 {
			t.Errorf("proxy rules after recovery: %v, %v; want none", rules, err)
		}
	})

	t.Run("an unreachable proxy fails the injection with its message; a reachable one lets the retry inject", func(t *testing.T) {
		proxy, _ := startFaultProxy(t, app.URL)
		pods := e.deployment("late", 1, "app")
		dead := closedURL(t)
		e.annotatePod(pods[0].Name, dead)
		o := newChaos("unreachable", abortAPISpec("late"), nil)
		e.create(o)
		got := e.waitFor(o, "a failed injection", failedEvent(api.OperationApply))
		msg := got.Status.Experiment.Records[0].Events[0].Message
		if !strings.Contains(msg, "fault proxy "+dead+": put rule "+got.Namespace+"/unreachable/") || !strings.Contains(msg, "connection refused") {
			t.Errorf("record event message %q", msg)
		}
		if s, _ := api.Condition(got, api.ConditionAllInjected); s == "True" {
			t.Errorf("AllInjected with an unreachable proxy: %s", summary(got))
		}
		e.event(o, "Failed", "Failed to apply chaos: fault proxy "+dead)

		e.annotatePod(pods[0].Name, proxy.AdminURL())
		got = e.waitFor(o, "AllInjected", injected)
		traffic(t, "once injected", proxy.Addr(), map[string]bool{"/api/x": true, "/health": false})
		h := history(got.Status.Experiment.Records[0])
		if h[0] != "Apply/Failed" || h[len(h)-1] != "Apply/Succeeded" {
			t.Errorf("events %v", h)
		}
		e.delete(o)
		e.waitFor(o, "deletion", gone)
		traffic(t, "after deletion", proxy.Addr(), map[string]bool{"/api/x": false})
	})

	t.Run("a proxy that stopped holds no rule: recovery succeeds", func(t *testing.T) {
		proxy, stop := startFaultProxy(t, app.URL)
		pods := e.deployment("stopping", 1, "app")
		e.annotatePod(pods[0].Name, proxy.AdminURL())
		o := newChaos("stopped-proxy", abortAPISpec("stopping"), nil)
		e.create(o)
		e.waitFor(o, "AllInjected", injected)
		stop()
		e.delete(o)
		last := e.waitFor(o, "deletion", gone)
		if h := history(last.Status.Experiment.Records[0]); !slices.Equal(h, []string{"Apply/Succeeded", "Recover/Succeeded"}) {
			t.Errorf("events %v", h)
		}
	})
}
