package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/controllerstandin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

func TestFailureClassification(t *testing.T) {
	cases := []struct {
		name  string
		where chaos.FailureSource
		msg   string
		want  chaos.FailureClass
	}{
		{"no daemon on the node (PodHttpChaos failedMessage)", chaos.InRecordEvent, "failed to apply for pod ns/demo-1: cannot find daemonIP on node kwok-node-0", chaos.Permanent},
		{"the pod is gone", chaos.InRecordEvent, `pods "demo-1" not found`, chaos.Permanent},
		{"the pod manager's pod not found", chaos.InRecordEvent, "pod not found", chaos.Permanent},
		{"a pod without container status", chaos.InRecordEvent, "pod ns/demo-1 has empty container status: container not found", chaos.Permanent},
		{"nothing selected", chaos.InKubeEvent, "Failed to select targets: no target has been selected", chaos.Permanent},
		{"a selector error", chaos.InKubeEvent, "Failed to select targets: could NOT use more than 1 namespace selector within namespace scoped mode", chaos.Permanent},
		{"the daemon does not answer", chaos.InRecordEvent, "failed to apply for pod ns/demo-1: rpc error: code = Unavailable desc = connection error: dial tcp 10.0.0.7:31767: connect: connection refused", chaos.Permanent},
		{"the daemon answers Unavailable for another reason", chaos.InRecordEvent, "failed to apply for pod ns/demo-1: rpc error: code = Unavailable desc = the connection is draining", chaos.Transient},
		{"the daemon answers an error", chaos.InRecordEvent, "failed to apply for pod ns/demo-1, status(500): tproxy not ready", chaos.Transient},
		{"a write conflict", chaos.InRecordEvent, `Operation cannot be fulfilled on podhttpchaos.chaos-mesh.org "demo-1": the object has been modified`, chaos.Transient},
		{"a pod not running yet", chaos.InRecordEvent, "pod not running", chaos.Transient},
		{"a record pattern in a Kubernetes Event is not a selection failure", chaos.InKubeEvent, "Failed to apply chaos: rpc error: code = DeadlineExceeded", chaos.Transient},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, why := chaos.ClassifyFailure(tc.where, tc.msg)
			if got != tc.want || (got == chaos.Permanent) != (why != "") {
				t.Errorf("ClassifyFailure(%s, %q) = %s, %q; want %s", tc.where, tc.msg, got, why, tc.want)
			}
		})
	}
	t.Run("every row cites where Chaos Mesh produces it", func(t *testing.T) {
		for _, p := range chaos.FailurePatterns() {
			if p.Upstream == "" || !strings.Contains(p.Upstream, "controllers/") || p.Why == "" {
				t.Errorf("row %s lacks its upstream source or meaning: %+v", p.Pattern, p)
			}
		}
	})
}

func TestFailFast(t *testing.T) {
	t.Run("no chaos-daemon for the node ends injection_failed within seconds", func(t *testing.T) {
		f := newFixture(t)
		o := f.opts(f.httpAbort(t, map[string]string{controllerstandin.FailInjectionAnnotation: "failed to apply for pod " + f.ns + "/demo: cannot find daemonIP on node kwok-node-0"}))
		o.InjectionTimeout = time.Minute
		start := time.Now()
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictInjectionFailed || err == nil || !strings.Contains(err.Error(), "cannot find daemonIP on node") || !strings.Contains(err.Error(), "not waiting for injection_timeout") {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		if took := time.Since(start); took > 15*time.Second {
			t.Errorf("injection_failed after %s, want within seconds", took)
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("a transient failure is waited out until injection_timeout", func(t *testing.T) {
		f := newFixture(t)
		o := f.opts(f.httpAbort(t, map[string]string{controllerstandin.FailInjectionAnnotation: "failed to apply for pod " + f.ns + "/demo: rpc error: code = Unavailable desc = connection refused"}))
		o.InjectionTimeout = 3 * time.Second
		start := time.Now()
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictInjectionFailed || err == nil || !strings.Contains(err.Error(), "not all targets injected within 3s") || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		if took := time.Since(start); took < 3*time.Second {
			t.Errorf("gave up after %s, before injection_timeout", took)
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("nothing selected under the namespace filter ends injection_failed within seconds", func(t *testing.T) {
		f := newFixture(t)
		// A controller that filters namespaces, while the Deployment the
		// preflight reads says it does not: the run gets past the
		// preflight and the controller selects nothing, as in issue 15.
		standin(t, f, controllerstandin.Options{NamespaceFilter: true})
		o := f.opts(f.httpAbort(t, nil))
		o.InjectionTimeout = time.Minute
		start := time.Now()
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictInjectionFailed || err == nil || !strings.Contains(err.Error(), "Failed to select targets: ") {
			t.Fatalf("verdict %s, err %v\n%s", res.Verdict, err, f.logs)
		}
		if took := time.Since(start); took > 15*time.Second {
			t.Errorf("injection_failed after %s, want within seconds", took)
		}
		f.assertNoChaosLeft(t)
	})
}

// standin runs a private controller stand-in for the fixture's namespace.
func standin(t *testing.T, f *fixture, opts controllerstandin.Options) {
	t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, controllerstandin.InstanceLabel, f.ns)
	if _, err := f.dyn.Resource(gvrNamespacesT).Patch(t.Context(), f.ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	opts.Instance = f.ns
	ready := make(chan struct{})
	opts.Ready = func() { close(ready) }
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- controllerstandin.Run(ctx, testenv.Config(t), opts) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("stand-in: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("stand-in not ready after 30s")
	}
}

func TestCancelWaitsAsLongAsDelete(t *testing.T) {
	t.Run("a finalizer that holds after a cancel: cleanup incomplete, naming the finalizer and the next step", func(t *testing.T) {
		f := newFixture(t)
		ctx, cancel := context.WithCancel(t.Context())
		o := f.opts(f.httpAbort(t, map[string]string{controllerstandin.StickyFinalizerAnnotation: "true"}))
		d := "1m"
		o.Object.Spec.Common().Duration = &d
		o.DeleteTimeout, o.CleanupGrace = 3*time.Second, 0
		o.Hooks.During = func(context.Context, func(string)) { cancel() }
		res, err := f.r.Run(ctx, o)
		if res.Verdict != chaos.VerdictCancelled || !chaos.IsCleanupIncomplete(err) || !errors.Is(err, context.Canceled) {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		for _, want := range []string{"cleanup incomplete", "still present 3s after delete", "held by finalizers [chaos-mesh/records]", "force_cleanup", "chaosops chaos reap -n " + f.ns} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("the error is not one line (the operation's abort message keeps one): %q", err)
		}
		if cl := res.Cleanup; cl == nil || cl.Outcome != chaos.CleanupIncomplete || !strings.Contains(cl.Next, "--force-cleanup") {
			t.Errorf("cleanup %+v", res.Cleanup)
		}
		ro := f.opts(nil)
		ro.ForceCleanup, ro.DeleteTimeout = true, 5*time.Second
		objs, err := f.r.Reap(t.Context(), chaos.Selection{Namespace: f.ns}, ro)
		if err != nil || len(objs) != 1 || objs[0].Cleanup == nil || objs[0].Cleanup.Outcome != chaos.CleanupForced {
			t.Fatalf("reap --force-cleanup: %+v, %v", objs, err)
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("a finalizer released within the delete timeout after a cancel is a clean cancel", func(t *testing.T) {
		f := newFixture(t)
		ctx, cancel := context.WithCancel(t.Context())
		o := f.opts(f.httpAbort(t, map[string]string{controllerstandin.StickyFinalizerAnnotation: "true"}))
		d := "1m"
		o.Object.Spec.Common().Duration = &d
		o.DeleteTimeout = 20 * time.Second
		var name string
		o.OnIntent = func(n string) error { name = n; return nil }
		o.Hooks.During = func(context.Context, func(string)) {
			cancel()
			// Someone lets the stand-in release it after 3 s.
			go func() {
				time.Sleep(3 * time.Second)
				patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:"false"}}}`, controllerstandin.StickyFinalizerAnnotation)
				_, _ = f.dyn.Resource(gvrHTTPChaos).Namespace(f.ns).Patch(context.WithoutCancel(t.Context()), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
			}()
		}
		res, err := f.r.Run(ctx, o)
		if res.Verdict != chaos.VerdictCancelled || chaos.IsCleanupIncomplete(err) || res.Cleanup == nil || res.Cleanup.Outcome != chaos.CleanupComplete {
			t.Fatalf("verdict %s, cleanup %+v, err %v", res.Verdict, res.Cleanup, err)
		}
		f.assertNoChaosLeft(t)
	})
}

func TestRealControllerShapes(t *testing.T) {
	t.Run("no daemon: injection_failed within seconds, and force_cleanup removes only this run's PodHttpChaos rules", func(t *testing.T) {
		f := newFixture(t)
		(&realShape{t: t, f: f, noDaemon: true}).start()
		pods := demoPods(t, f)
		const foreign = "other-ns/httpchaos-other"
		o := f.opts(f.httpAbort(t, nil))
		o.InjectionTimeout, o.DeleteTimeout, o.ForceCleanup = time.Minute, 2*time.Second, true
		o.OnIntent = func(name string) error {
			// The target pod's PodHttpChaos already holds another
			// experiment's rule; the other pod's holds ours too, stale from
			// a record the controller no longer lists.
			for i, pod := range pods {
				u := podHTTPChaos(f.ns, pod)
				rules := []any{httpRule(foreign)}
				if i == 1 {
					rules = append(rules, httpRule(api.RuleSource(f.ns, name)))
				}
				_ = unstructured.SetNestedSlice(u.Object, rules, "spec", "rules")
				if _, err := f.dyn.Resource(gvrPodHTTPChaos).Namespace(f.ns).Create(t.Context(), u, metav1.CreateOptions{}); err != nil {
					return err
				}
			}
			return nil
		}
		start := time.Now()
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictInjectionFailed || err == nil || !strings.Contains(err.Error(), "cannot find daemonIP on node") {
			t.Fatalf("verdict %s, err %v\n%s", res.Verdict, err, f.logs)
		}
		if took := res.Ended.Sub(start); took > 20*time.Second {
			t.Errorf("the run took %s", took)
		}
		for _, pod := range pods {
			if diff := cmp.Diff([]string{foreign}, ruleSources(t, f, pod)); diff != "" {
				t.Errorf("PodHttpChaos %s rules (-want +got):\n%s", pod, diff)
			}
		}
		cl := res.Cleanup
		if cl == nil || cl.Outcome != chaos.CleanupForced || !res.RecoveryUnverified {
			t.Fatalf("cleanup %+v, unverified %v", cl, res.RecoveryUnverified)
		}
		removed := strings.Join(cl.RemovedByHand, "\n")
		for _, want := range []string{"cleanFinalizer=forced", "finalizers [chaos-mesh/records] removed", "PodHttpChaos/" + f.ns + "/" + pods[0] + ": removed 1 entry", "PodHttpChaos/" + f.ns + "/" + pods[1] + ": removed 1 entry"} {
			if !strings.Contains(removed, want) {
				t.Errorf("removed by hand lacks %q:\n%s", want, removed)
			}
		}
		check := strings.Join(cl.Check, "\n")
		if !strings.Contains(check, "PodHttpChaos/"+f.ns+"/"+pods[0]+": chaos-daemon has not applied the removal") || !strings.Contains(check, "cannot find daemonIP") {
			t.Errorf("check does not say what to verify:\n%s", check)
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("no daemon, no force_cleanup: cleanup incomplete, the record waiting for the daemon, never injected", func(t *testing.T) {
		f := newFixture(t)
		(&realShape{t: t, f: f, noDaemon: true}).start()
		o := f.opts(f.httpAbort(t, nil))
		o.InjectionTimeout, o.DeleteTimeout = time.Minute, 2*time.Second
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictInjectionFailed || !chaos.IsCleanupIncomplete(err) {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "waiting for the daemon (Not Injected/Wait), never injected") || strings.Contains(msg, "still injected") || !strings.Contains(msg, "held by finalizers [chaos-mesh/records]") {
			t.Errorf("wrong words for the record: %v", err)
		}
		if !strings.Contains(f.logs.String(), "waiting for the daemon") || strings.Contains(f.logs.String(), "records still injected") {
			t.Errorf("log lines:\n%s", f.logs)
		}
	})

	t.Run("a finalizer removed by hand during the wait: the run's rules are removed and recovery is unverified", func(t *testing.T) {
		f := newFixture(t)
		(&realShape{t: t, f: f, noDaemon: true}).start()
		o := f.opts(f.httpAbort(t, nil))
		o.InjectionTimeout, o.DeleteTimeout = time.Minute, 20*time.Second
		var name string
		o.OnIntent = func(n string) error {
			name = n
			go func() {
				ri := f.dyn.Resource(gvrHTTPChaos).Namespace(f.ns)
				ctx := context.WithoutCancel(t.Context())
				for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
					if u, err := ri.Get(ctx, name, metav1.GetOptions{}); err == nil && u.GetDeletionTimestamp() != nil {
						time.Sleep(time.Second)
						_, _ = ri.Patch(ctx, name, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
						return
					}
				}
			}()
			return nil
		}
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictInjectionFailed || chaos.IsCleanupIncomplete(err) {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		if cl := res.Cleanup; cl == nil || cl.Outcome != chaos.CleanupForced || !res.RecoveryUnverified || !strings.Contains(strings.Join(cl.RemovedByHand, "\n"), "removed 1 entry of source "+f.ns+"/"+name) {
			t.Fatalf("cleanup %+v", res.Cleanup)
		}
		for _, pod := range demoPods(t, f)[:1] {
			if got := ruleSources(t, f, pod); len(got) != 0 {
				t.Errorf("PodHttpChaos %s keeps rules of %v", pod, got)
			}
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("cancel while a finalizer holds (recovery fails): cleanup incomplete, the record still injected", func(t *testing.T) {
		f := newFixture(t)
		(&realShape{t: t, f: f, recoverFails: true}).start()
		ctx, cancel := context.WithCancel(t.Context())
		o := f.opts(f.httpAbort(t, nil))
		d := "1m"
		o.Object.Spec.Common().Duration = &d
		o.DeleteTimeout = 2 * time.Second
		o.Hooks.During = func(context.Context, func(string)) { cancel() }
		res, err := f.r.Run(ctx, o)
		if res.Verdict != chaos.VerdictCancelled || !chaos.IsCleanupIncomplete(err) {
			t.Fatalf("verdict %s, err %v\n%s", res.Verdict, err, f.logs)
		}
		if !strings.Contains(err.Error(), "held by finalizers [chaos-mesh/records]") || !strings.Contains(err.Error(), "still injected") || !strings.Contains(err.Error(), "next: reap it with force_cleanup") {
			t.Errorf("err %v", err)
		}
	})

	t.Run("a late TimeUp, conditions in any order and status.instances: pass", func(t *testing.T) {
		f := newFixture(t)
		(&realShape{t: t, f: f, lateStop: 4 * time.Second, recoverAfter: 2 * time.Second}).start()
		o := f.opts(f.httpAbort(t, nil))
		d := "3s"
		o.Object.Spec.Common().Duration = &d
		// The stop comes 4 s late, the recovery 2 s after it: 6 s after the
		// duration, more than the recovery timeout, yet nothing failed.
		o.RecoveryTimeout = 5 * time.Second
		res, err := f.r.Run(t.Context(), o)
		if err != nil || res.Verdict != chaos.VerdictPass {
			t.Fatalf("verdict %s, err %v\n%s", res.Verdict, err, f.logs)
		}
		if !strings.Contains(f.logs.String(), "the controller stopped the fault 4.") {
			t.Errorf("the late stop is not in the log:\n%s", f.logs)
		}
		if len(res.Targets) != 1 || res.Targets[0].Phase != api.PhaseNotInjected || res.Cleanup.Outcome != chaos.CleanupComplete {
			t.Errorf("targets %+v, cleanup %+v", res.Targets, res.Cleanup)
		}
	})
}

// demoPods returns the names of the fixture's demo pods, sorted.
func demoPods(t *testing.T, f *fixture) []string {
	t.Helper()
	list, err := f.dyn.Resource(gvrPodsT).Namespace(f.ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=demo"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range list.Items {
		out = append(out, p.GetName())
	}
	if len(out) < 2 {
		t.Fatalf("%d demo pods, want 2", len(out))
	}
	sort.Strings(out)
	return out
}

func TestReadmeListsTheFailureTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, p := range chaos.FailurePatterns() {
		row := fmt.Sprintf("| `%s` | %s |", p.Text, p.Class)
		if !strings.Contains(readme, row) {
			t.Errorf("README.md's fail-fast table lacks the row %q (%s)", row, p.Why)
		}
	}
}
