package chaos_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

var gvrDeploymentsT = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}

func filterEnv(value string) []any {
	return []any{map[string]any{"name": "ENABLE_FILTER_NAMESPACE", "value": value}}
}

func TestPreflightNamespaceOptIn(t *testing.T) {
	preflight := func(t *testing.T, f *fixture, chaosNS string) (*chaos.PreflightReport, error) {
		t.Helper()
		o := f.opts(f.httpAbort(t))
		o.ChaosNamespace, o.SkipDaemonCheck = chaosNS, true
		return f.r.Preflight(t.Context(), o)
	}
	t.Run("a namespace without any annotation is refused: the real controller's Deployment says it filters namespaces", func(t *testing.T) {
		f := newBareFixture(t) // testenv namespaces have labels, no annotations
		if u, err := f.dyn.Resource(gvrNamespacesT).Get(t.Context(), f.ns, metav1.GetOptions{}); err != nil || u.GetAnnotations() != nil {
			t.Fatalf("namespace %s: annotations %v, err %v; want none at all", f.ns, u.GetAnnotations(), err)
		}
		res, err := f.r.Run(t.Context(), f.opts(f.httpAbort(t)))
		want := "Chaos Mesh filters namespaces (ENABLE_FILTER_NAMESPACE=true in Deployment chaos-mesh/chaos-controller-manager), and namespace " + f.ns + " is not opted in"
		if res.Verdict != chaos.VerdictPrecheckFailed || !chaos.IsPrecheck(err) || !strings.Contains(err.Error(), want) {
			t.Fatalf("verdict %s, err %v; want %q", res.Verdict, err, want)
		}
		f.assertNoChaosLeft(t)
	})
	t.Run("a namespace without any annotation is refused when the controller filters namespaces", func(t *testing.T) {
		f := newBareFixture(t)
		rep, err := preflight(t, f, testenv.ControllerShell(t, testenv.Config(t), filterEnv("true")))
		if !chaos.IsPrecheck(err) || !strings.Contains(err.Error(), "namespace "+f.ns+" is not opted in") || !strings.Contains(err.Error(), "ENABLE_FILTER_NAMESPACE=true") {
			t.Fatalf("err %v", err)
		}
		if !rep.NamespaceFilter {
			t.Errorf("report %+v", rep)
		}
		t.Run("and allowed once it is opted in", func(t *testing.T) {
			patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, api.InjectAnnotation, api.InjectEnabled)
			if _, err := f.dyn.Resource(gvrNamespacesT).Patch(t.Context(), f.ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
			o := f.opts(f.httpAbort(t))
			o.ChaosNamespace, o.SkipDaemonCheck = rep.Controller[:strings.Index(rep.Controller, "/")], true
			if _, err := f.r.Preflight(t.Context(), o); err != nil {
				t.Fatalf("err %v", err)
			}
		})
	})
	t.Run("no opt-in is needed when the filter is off", func(t *testing.T) {
		f := newBareFixture(t)
		for _, env := range [][]any{filterEnv("false"), nil} {
			rep, err := preflight(t, f, testenv.ControllerShell(t, testenv.Config(t), env))
			if err != nil || rep.NamespaceFilter || !strings.Contains(rep.NamespaceFilterSource, "no opt-in needed") {
				t.Fatalf("env %v: report %+v, err %v", env, rep, err)
			}
		}
	})
	t.Run("a filter setting that cannot be read requires the opt-in, and says why", func(t *testing.T) {
		f := newBareFixture(t)
		env := []any{map[string]any{"name": "ENABLE_FILTER_NAMESPACE", "valueFrom": map[string]any{
			"configMapKeyRef": map[string]any{"name": "chaos-mesh-config", "key": "filter"}}}}
		_, err := preflight(t, f, testenv.ControllerShell(t, testenv.Config(t), env))
		if !chaos.IsPrecheck(err) || !strings.Contains(err.Error(), "valueFrom") || !strings.Contains(err.Error(), "not opted in") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestReapWording(t *testing.T) {
	f := newFixture(t)
	stop := startHeld(t, f, "dep-words-"+f.ns, "bp")
	defer stop()
	// Another process reaps: it saw neither the creation nor the
	// injection.
	reapLogs := &logBuffer{}
	reaper := &chaos.Runner{Dynamic: f.dyn, Log: slog.New(slog.NewTextHandler(reapLogs, nil)), Now: time.Now}
	if _, err := reaper.Reap(context.WithoutCancel(t.Context()), chaos.Selection{Namespace: f.ns}, chaos.RunOptions{DeleteTimeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if logs := f.logs.String(); !strings.Contains(logs, "selected 1 target") || strings.Contains(logs, "1 targets") {
		t.Errorf("run log lines:\n%s", logs)
	}
	// The state reap finds is no news, and there is no creation to count
	// time from.
	if logs := reapLogs.String(); !strings.Contains(logs, "deleted") || strings.Contains(logs, "selected") || strings.Contains(logs, "injected") || strings.Contains(logs, " after ") {
		t.Errorf("reap log lines:\n%s", logs)
	}
}

// TestPreflightReportsTheFirstProblemInOrder: the preflight's reads run in
// parallel, and with several problems at once it reports the one the
// checks meet first, in their fixed order (CRD, namespaces, targets,
// controller and chaos-daemon, opt-in, earlier run), every time.
func TestPreflightReportsTheFirstProblemInOrder(t *testing.T) {
	f := newBareFixture(t) // not opted in
	cases := []struct {
		name   string
		change func(*chaos.RunOptions)
		want   string
	}{
		{"a missing namespace comes before the targets, the controller and the opt-in", func(o *chaos.RunOptions) {
			setNamespaces(o, "no-such-ns")
			setLabels(o, map[string]string{"app": "nothing"})
			o.ChaosNamespace = "no-chaos-here"
		}, "namespace no-such-ns does not exist"},
		{"targets come before the controller and the opt-in", func(o *chaos.RunOptions) {
			setLabels(o, map[string]string{"app": "nothing"})
			o.ChaosNamespace = "no-chaos-here"
		}, "selector app=nothing matches no Running pod"},
		{"the controller comes before the opt-in", func(o *chaos.RunOptions) { o.ChaosNamespace = "no-chaos-here" }, "is Chaos Mesh installed"},
		{"the opt-in is reported when all else passes", func(*chaos.RunOptions) {}, "is not opted in"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for range 3 {
				o := f.opts(f.httpAbort(t))
				tc.change(&o)
				_, err := f.r.Preflight(t.Context(), o)
				if !chaos.IsPrecheck(err) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err %v; want a precheck failure with %q", err, tc.want)
				}
			}
		})
	}
	t.Run("a run refused by the preflight reports it, not the dry run that ran alongside, and creates nothing", func(t *testing.T) {
		o := f.opts(f.httpAbort(t))
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictPrecheckFailed || !strings.Contains(err.Error(), "is not opted in") || !res.Created.IsZero() {
			t.Fatalf("verdict %s, created %v, err %v", res.Verdict, res.Created, err)
		}
		f.assertNoChaosLeft(t)
	})
}
