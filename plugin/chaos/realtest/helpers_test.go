package realtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/internal/apprig"
)

var (
	gvrHTTPChaos    = schema.GroupVersionResource{Group: api.Group, Version: api.Version, Resource: "httpchaos"}
	gvrPodHTTPChaos = schema.GroupVersionResource{Group: api.Group, Version: api.Version, Resource: "podhttpchaos"}
	gvrPods         = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrNamespaces   = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

// The chaos-daemon stand-in's knobs (plugin/internal/daemonstandin).
const (
	knobFail        = "standin.chaosops.dev/daemon-fail"
	knobUnreachable = "standin.chaosops.dev/daemon-unreachable"
)

type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSpace(string(p)))
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// env is one test's namespace: the apprig app (opted in to the real
// controller), a runner, and the name of the demo pod.
type env struct {
	rig  *apprig.Rig
	r    *chaos.Runner
	pod  string
	logs *logBuffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	rig := apprig.New(t, apprig.Options{})
	logs := &logBuffer{}
	e := &env{rig: rig, logs: logs, r: &chaos.Runner{Dynamic: rig.Dynamic, Log: slog.New(slog.NewTextHandler(logs, nil)), Now: time.Now}}
	list, err := rig.Dynamic.Resource(gvrPods).Namespace(rig.Namespace).List(t.Context(), metav1.ListOptions{LabelSelector: "app=demo"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("demo pod: %v", err)
	}
	e.pod = list.Items[0].GetName()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runner log:\n%s", logs.String())
		}
		// Release whatever a failed test left, so the namespace can go.
		ctx := context.WithoutCancel(t.Context())
		l, _ := rig.Dynamic.Resource(gvrHTTPChaos).Namespace(rig.Namespace).List(ctx, metav1.ListOptions{})
		for _, u := range l.Items {
			_, _ = rig.Dynamic.Resource(gvrHTTPChaos).Namespace(rig.Namespace).Patch(ctx, u.GetName(), types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		}
	})
	return e
}

// abort is an HTTP abort on the demo app for d.
func (e *env) abort(t *testing.T, d time.Duration) *api.Object {
	t.Helper()
	obj, err := chaos.HTTPObject(chaos.HTTPOptions{
		Namespace: e.rig.Namespace, Selector: map[string]string{"app": "demo"}, Mode: "one",
		Port: 8080, Path: "/", Abort: true, Duration: d,
	})
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func (e *env) opts(obj *api.Object) chaos.RunOptions {
	return chaos.RunOptions{
		Object: obj, Namespace: e.rig.Namespace,
		Owner:            chaos.Owner{Deployment: "dep-" + e.rig.Namespace, Blueprint: "bp", Execution: "exec"},
		InjectionTimeout: 60 * time.Second, RecoveryTimeout: 60 * time.Second,
		DeleteTimeout: 30 * time.Second,
	}
}

// annotate sets (or, with value "", removes) an annotation.
func (e *env) annotate(t *testing.T, gvr schema.GroupVersionResource, ns, name, key, value string) {
	t.Helper()
	v := "null"
	if value != "" {
		v = fmt.Sprintf("%q", value)
	}
	body := fmt.Sprintf(`{"metadata":{"annotations":{%q:%s}}}`, key, v)
	if _, err := e.rig.Dynamic.Resource(gvr).Namespace(ns).Patch(context.WithoutCancel(t.Context()), name, types.MergePatchType, []byte(body), metav1.PatchOptions{}); err != nil {
		t.Fatalf("annotate %s %s: %v", gvr.Resource, name, err)
	}
}

// rulesOf lists the PodHttpChaos rules of the namespace whose source is
// the chaos object name (namespace/name).
func (e *env) rulesOf(t *testing.T, name string) []string {
	t.Helper()
	src := api.RuleSource(e.rig.Namespace, name)
	l, err := e.rig.Dynamic.Resource(gvrPodHTTPChaos).Namespace(e.rig.Namespace).List(context.WithoutCancel(t.Context()), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list PodHttpChaos: %v", err)
	}
	var out []string
	for _, u := range l.Items {
		rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
		for _, r := range rules {
			if m, ok := r.(map[string]any); ok && m["source"] == src {
				out = append(out, u.GetName())
			}
		}
	}
	return out
}

func (e *env) assertNoRules(t *testing.T, name string) {
	t.Helper()
	if left := e.rulesOf(t, name); len(left) > 0 {
		t.Errorf("PodHttpChaos rules of source %s/%s left in %v", e.rig.Namespace, name, left)
	}
}

func (e *env) assertGone(t *testing.T, name string) {
	t.Helper()
	_, err := e.rig.Dynamic.Resource(gvrHTTPChaos).Namespace(e.rig.Namespace).Get(context.WithoutCancel(t.Context()), name, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("HTTPChaos %s: want gone, got %v", name, err)
	}
}

// get returns the chaos object, nil when gone.
func (e *env) get(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := e.rig.Dynamic.Resource(gvrHTTPChaos).Namespace(e.rig.Namespace).Get(context.WithoutCancel(t.Context()), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// condition returns the status of a condition of the object.
func condition(u *unstructured.Unstructured, typ string) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}

// eventually polls f every 200 ms until it returns "" (ok) or d passes;
// then it fails t with the last message.
func eventually(t *testing.T, d time.Duration, f func() string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(d); ; time.Sleep(200 * time.Millisecond) {
		if last = f(); last == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, last)
		}
	}
}

// get200 reports whether a request through the fault proxy succeeds.
func get200(url string) error {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url + "/")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// startRun runs o in the background; the result arrives on the channel.
type outcome struct {
	res *chaos.Result
	err error
}

func (e *env) startRun(ctx context.Context, o chaos.RunOptions) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		res, err := e.r.Run(ctx, o)
		ch <- outcome{res, err}
	}()
	return ch
}

// startInjected starts o in the background and returns once the run has
// recorded its object's name and the controller reports it injected.
func (e *env) startInjected(t *testing.T, ctx context.Context, o chaos.RunOptions) (<-chan outcome, string) {
	t.Helper()
	var name atomic.Value
	o.OnIntent = func(n string) error { name.Store(n); return nil }
	ch := e.startRun(ctx, o)
	eventually(t, 30*time.Second, func() string {
		if name.Load() == nil {
			return "no intent yet"
		}
		return ""
	})
	n := name.Load().(string)
	e.waitInjected(t, n)
	return ch, n
}

// waitInjected waits until the object's AllInjected condition is True.
func (e *env) waitInjected(t *testing.T, name string) {
	t.Helper()
	eventually(t, 60*time.Second, func() string {
		u := e.get(t, name)
		if u == nil {
			return "not created yet"
		}
		if c := condition(u, "AllInjected"); c != "True" {
			return "AllInjected " + c
		}
		return ""
	})
}

func wait(t *testing.T, ch <-chan outcome, d time.Duration) outcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(d):
		t.Fatalf("run not over after %s", d)
	}
	return outcome{}
}
