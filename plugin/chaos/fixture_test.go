package chaos_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
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

type fixture struct {
	ns   string
	dyn  dynamic.Interface
	r    *chaos.Runner
	logs *logBuffer
}

// newFixture makes a namespace with a Running two-pod demo app.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	cfg := testenv.Config(t)
	cfg.QPS, cfg.Burst = 100, 200 // as kube.Connect sets them
	ns := testenv.Namespace(t, cfg)
	dyn := testenv.DemoApp(t, cfg, ns, 2)
	logs := &logBuffer{}
	return &fixture{ns: ns, dyn: dyn, logs: logs, r: &chaos.Runner{
		Dynamic: dyn, Log: slog.New(slog.NewTextHandler(logs, nil)), Now: time.Now,
	}}
}

// httpAbort is a 2-second abort on the demo app.
func (f *fixture) httpAbort(t *testing.T, annotations map[string]string) *api.Object {
	t.Helper()
	obj, err := chaos.HTTPObject(chaos.HTTPOptions{
		Namespace: f.ns, Selector: map[string]string{"app": "demo"}, Mode: "one",
		Port: 8080, Path: "/", Abort: true, Duration: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	obj.SetAnnotations(annotations)
	return obj
}

func (f *fixture) opts(obj *api.Object) chaos.RunOptions {
	return chaos.RunOptions{
		Object: obj, Namespace: f.ns,
		Owner:            chaos.Owner{Deployment: "dep-" + f.ns, Blueprint: "bp", Execution: "exec"},
		InjectionTimeout: 20 * time.Second, RecoveryTimeout: 20 * time.Second,
		DeleteTimeout: 10 * time.Second, CleanupGrace: 15 * time.Second,
	}
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
