package chaos_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
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
	"k8s.io/client-go/dynamic"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/internal/apprig"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

var (
	gvrHTTPChaos    = schema.GroupVersionResource{Group: api.Group, Version: api.Version, Resource: "httpchaos"}
	gvrPodHTTPChaos = schema.GroupVersionResource{Group: api.Group, Version: api.Version, Resource: "podhttpchaos"}
	gvrPodsT        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrNamespacesT  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	gvrNodesT       = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
)

// logBuffer collects the runner's log lines.
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

// fixture is one test's namespace on the control plane, which runs the
// real Chaos Mesh controller and the chaos-daemon stand-in
// (plugin/internal/standin/chaosdaemon), and a runner for it.
type fixture struct {
	ns   string
	dyn  dynamic.Interface
	r    *chaos.Runner
	logs *logBuffer
	// rig is set by newRig: the demo pod's port is a real app behind a
	// fault proxy, reached at rig.ProxyURL.
	rig *apprig.Rig
}

// newFixture makes a namespace opted in to the controller's namespace
// filter (chaos-mesh.org/inject=enabled) with a Running two-pod demo app.
// The pods have no fault proxy: the daemon stand-in answers their calls
// and injects nothing, so lifecycles run as with a real daemon.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := newBareFixture(t)
	f.annotate(t, gvrNamespacesT, "", f.ns, api.InjectAnnotation, api.InjectEnabled)
	return f
}

// newBareFixture is newFixture without the opt-in: the namespace has no
// annotation at all.
func newBareFixture(t *testing.T) *fixture {
	t.Helper()
	cfg := testenv.Config(t)
	cfg.QPS, cfg.Burst = 100, 200 // as kube.Connect sets them
	ns := testenv.Namespace(t, cfg)
	dyn := testenv.DemoApp(t, cfg, ns, 2)
	return fixtureFor(t, ns, dyn)
}

// newRig is a fixture on apprig: one demo pod whose faults are real on
// rig.ProxyURL.
func newRig(t *testing.T) *fixture {
	t.Helper()
	rig := apprig.New(t, apprig.Options{})
	f := fixtureFor(t, rig.Namespace, rig.Dynamic)
	f.rig = rig
	return f
}

func fixtureFor(t *testing.T, ns string, dyn dynamic.Interface) *fixture {
	t.Helper()
	logs := &logBuffer{}
	f := &fixture{ns: ns, dyn: dyn, logs: logs, r: &chaos.Runner{
		Dynamic: dyn, Log: slog.New(slog.NewTextHandler(logs, nil)), Now: time.Now,
	}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runner log:\n%s", logs)
		}
		// Release what a failed test left, so that the namespace can go
		// and the controller stops retrying.
		ctx := context.WithoutCancel(t.Context())
		for _, k := range api.Kinds() {
			ri := dyn.Resource(k.GroupVersionResource()).Namespace(ns)
			l, _ := ri.List(ctx, metav1.ListOptions{})
			for _, u := range l.Items {
				_, _ = ri.Patch(ctx, u.GetName(), types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
			}
		}
	})
	return f
}

// httpAbort is a 2-second abort on the demo app.
func (f *fixture) httpAbort(t *testing.T) *api.Object {
	t.Helper()
	return f.abortFor(t, 2*time.Second)
}

// abortFor is an abort of one demo pod for d.
func (f *fixture) abortFor(t *testing.T, d time.Duration) *api.Object {
	t.Helper()
	obj, err := chaos.HTTPObject(chaos.HTTPOptions{
		Namespace: f.ns, Selector: map[string]string{"app": "demo"}, Mode: "one",
		Port: 8080, Path: "/", Abort: true, Duration: d,
	})
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func (f *fixture) opts(obj *api.Object) chaos.RunOptions {
	return chaos.RunOptions{
		Object: obj, Namespace: f.ns,
		Owner:            chaos.Owner{Deployment: "dep-" + f.ns, Blueprint: "bp", Execution: "exec"},
		InjectionTimeout: time.Minute, RecoveryTimeout: time.Minute,
		DeleteTimeout: 30 * time.Second,
	}
}

// annotate sets (or, with value "", removes) an annotation of an object:
// for the daemon stand-in's knobs, on a pod or its namespace.
func (f *fixture) annotate(t *testing.T, gvr schema.GroupVersionResource, ns, name, key, value string) {
	t.Helper()
	v := "null"
	if value != "" {
		v = fmt.Sprintf("%q", value)
	}
	body := fmt.Sprintf(`{"metadata":{"annotations":{%q:%s}}}`, key, v)
	if _, err := f.dyn.Resource(gvr).Namespace(ns).Patch(context.WithoutCancel(t.Context()), name, types.MergePatchType, []byte(body), metav1.PatchOptions{}); err != nil {
		t.Fatalf("annotate %s %s: %v", gvr.Resource, name, err)
	}
}

// knob sets a daemon stand-in knob on the fixture's namespace: every
// target's calls.
func (f *fixture) knob(t *testing.T, key, value string) {
	t.Helper()
	f.annotate(t, gvrNamespacesT, "", f.ns, key, value)
}

// pods returns the names of the demo pods, sorted.
func (f *fixture) pods(t *testing.T) []string {
	t.Helper()
	list, err := f.dyn.Resource(gvrPodsT).Namespace(f.ns).List(context.WithoutCancel(t.Context()), metav1.ListOptions{LabelSelector: "app=demo"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range list.Items {
		out = append(out, p.GetName())
	}
	sort.Strings(out)
	return out
}

// chaosObjects lists every chaos object of the namespace.
func (f *fixture) chaosObjects(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, k := range api.Kinds() {
		list, err := f.dyn.Resource(k.GroupVersionResource()).Namespace(f.ns).List(context.WithoutCancel(t.Context()), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range list.Items {
			out = append(out, fmt.Sprintf("%s/%s", k.Name, u.GetName()))
		}
	}
	return out
}

func (f *fixture) assertNoChaosLeft(t *testing.T) {
	t.Helper()
	if left := f.chaosObjects(t); len(left) > 0 {
		t.Errorf("chaos objects left behind: %v", left)
	}
}

// ruleSources lists, per PodHttpChaos of the namespace, the sources of its
// rules.
func (f *fixture) ruleSources(t *testing.T) map[string][]string {
	t.Helper()
	l, err := f.dyn.Resource(gvrPodHTTPChaos).Namespace(f.ns).List(context.WithoutCancel(t.Context()), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list PodHttpChaos: %v", err)
	}
	out := map[string][]string{}
	for _, u := range l.Items {
		rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
		var srcs []string
		for _, r := range rules {
			if m, ok := r.(map[string]any); ok {
				srcs = append(srcs, fmt.Sprint(m[api.SourceField]))
			}
		}
		sort.Strings(srcs)
		out[u.GetName()] = srcs
	}
	return out
}

// rulesOf lists the PodHttpChaos objects of the namespace that hold a rule
// of the chaos object name.
func (f *fixture) rulesOf(t *testing.T, name string) []string {
	t.Helper()
	src := api.RuleSource(f.ns, name)
	var out []string
	for pod, srcs := range f.ruleSources(t) {
		for _, s := range srcs {
			if s == src {
				out = append(out, pod)
			}
		}
	}
	sort.Strings(out)
	return out
}

// assertNoRules fails t when a PodHttpChaos keeps a rule of the chaos
// object name: a fault that chaos-daemon would apply with no chaos object
// left to stop it.
func (f *fixture) assertNoRules(t *testing.T, name string) {
	t.Helper()
	if left := f.rulesOf(t, name); len(left) > 0 {
		t.Errorf("PodHttpChaos rules of source %s left in %v", api.RuleSource(f.ns, name), left)
	}
}

// assertGone fails t unless the HTTPChaos is gone.
func (f *fixture) assertGone(t *testing.T, name string) {
	t.Helper()
	if u := f.get(t, name); u != nil {
		t.Errorf("HTTPChaos %s/%s is still there (finalizers %v)", f.ns, name, u.GetFinalizers())
	}
}

// get returns the HTTPChaos, nil when gone.
func (f *fixture) get(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := f.dyn.Resource(gvrHTTPChaos).Namespace(f.ns).Get(context.WithoutCancel(t.Context()), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// reapForced is the next step of an incomplete cleanup: reap the run with
// force_cleanup. It must leave neither the object nor its rules.
func (f *fixture) reapForced(t *testing.T, res *chaos.Result) []chaos.ObjectStatus {
	t.Helper()
	ro := f.opts(nil)
	ro.ForceCleanup, ro.DeleteTimeout = true, 3*time.Second
	objs, err := f.r.Reap(t.Context(), chaos.Selection{Namespace: f.ns, RunID: res.RunID}, ro)
	if err != nil {
		t.Fatalf("reap with force_cleanup: %v", err)
	}
	if len(objs) != 1 || objs[0].Cleanup == nil || objs[0].Cleanup.Outcome != chaos.CleanupForced {
		t.Errorf("reap with force_cleanup: %+v", objs)
	}
	f.assertGone(t, res.Name)
	f.assertNoRules(t, res.Name)
	return objs
}

// condition returns the status of a condition of the object.
func condition(u *unstructured.Unstructured, typ api.ConditionType) string {
	if u == nil {
		return "(object gone)"
	}
	st, _ := api.ConditionOf(u, typ)
	return string(st)
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

// get200 reports whether a request through the rig's fault proxy
// succeeds.
func (f *fixture) get200() error {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(f.rig.ProxyURL + "/")
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

// outcome is what a run started in the background returned.
type outcome struct {
	res *chaos.Result
	err error
}

// startRun runs o in the background; the result arrives on the channel.
// The name of its object is returned once the run has recorded its intent.
func (f *fixture) startRun(t *testing.T, ctx context.Context, o chaos.RunOptions) (<-chan outcome, string) {
	t.Helper()
	var name atomic.Value
	o.OnIntent = func(n string) error { name.Store(n); return nil }
	ch := make(chan outcome, 1)
	go func() {
		res, err := f.r.Run(ctx, o)
		ch <- outcome{res, err}
	}()
	eventually(t, 30*time.Second, func() string {
		if name.Load() == nil {
			return "no intent yet"
		}
		return ""
	})
	return ch, name.Load().(string)
}

// startInjected starts o in the background and returns once the
// controller reports its object injected.
func (f *fixture) startInjected(t *testing.T, ctx context.Context, o chaos.RunOptions) (<-chan outcome, string) {
	t.Helper()
	ch, n := f.startRun(t, ctx, o)
	f.waitCondition(t, n, api.ConditionAllInjected, "True")
	return ch, n
}

// waitCondition waits until a condition of the HTTPChaos has status want.
func (f *fixture) waitCondition(t *testing.T, name string, typ api.ConditionType, want string) {
	t.Helper()
	eventually(t, time.Minute, func() string {
		if c := condition(f.get(t, name), typ); c != want {
			return fmt.Sprintf("%s is %q, want %s", typ, c, want)
		}
		return ""
	})
}

// wait returns the outcome of a background run.
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

func steps(r *chaos.Result) []chaos.Step {
	var out []chaos.Step
	for _, e := range r.Timeline {
		out = append(out, e.Step)
	}
	return out
}

func hasStep(r *chaos.Result, s chaos.Step) bool {
	for _, e := range r.Timeline {
		if e.Step == s {
			return true
		}
	}
	return false
}
