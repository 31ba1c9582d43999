package chaos_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// noDaemonTaint keeps everything but the daemonless fixture's pods off its
// node, the chaos-daemon DaemonSet included (it tolerates only kwok's own
// taint).
const noDaemonTaint = "chaosops.dev/no-chaos-daemon"

// newDaemonlessFixture is newFixture with the two demo pods on a kwok node
// of their own that no chaos-daemon serves: the DaemonSet does not
// tolerate the node's taint and the daemon stand-in publishes only
// kwok-node-0. The real controller then finds no daemon for the pods
// ("cannot find daemonIP on node ..."), as on a node where chaos-daemon
// is not scheduled. The preflight would refuse the run (no Running
// chaos-daemon on the node), so runs skip its daemon check.
func newDaemonlessFixture(t *testing.T) (*fixture, string) {
	t.Helper()
	cfg := testenv.Config(t)
	cfg.QPS, cfg.Burst = 100, 200
	ns := testenv.Namespace(t, cfg)
	f := fixtureFor(t, ns, testenvDynamic(t))
	f.annotate(t, gvrNamespacesT, "", f.ns, api.InjectAnnotation, api.InjectEnabled)
	node := "nodaemon-" + ns
	ctx := context.WithoutCancel(t.Context())
	n := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]any{"name": node,
			"annotations": map[string]any{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			"labels":      map[string]any{"kubernetes.io/os": "linux", "type": "kwok-nodaemon"}},
		"spec": map[string]any{"taints": []any{map[string]any{"key": noDaemonTaint, "value": "true", "effect": "NoSchedule"}}},
	}}
	if _, err := f.dyn.Resource(gvrNodesT).Create(ctx, n, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The pods first (at once: nothing runs them after the node is
		// gone), then the node.
		_ = f.dyn.Resource(gvrPodsT).Namespace(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}, metav1.ListOptions{LabelSelector: "app=demo"})
		if err := f.dyn.Resource(gvrNodesT).Delete(ctx, node, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete node %s: %v", node, err)
		}
	})
	for i := range 2 {
		p := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": fmt.Sprintf("demo-%d", i), "labels": map[string]any{"app": "demo"}},
			"spec": map[string]any{
				"nodeName":    node,
				"tolerations": []any{map[string]any{"key": noDaemonTaint, "operator": "Exists", "effect": "NoSchedule"}},
				"containers":  []any{map[string]any{"name": "app", "image": "demo:1", "ports": []any{map[string]any{"containerPort": int64(8080)}}}},
			},
		}}
		if _, err := f.dyn.Resource(gvrPodsT).Namespace(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, time.Minute, func() string {
		list, err := f.dyn.Resource(gvrPodsT).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=demo"})
		if err != nil {
			return err.Error()
		}
		for _, p := range list.Items {
			if ph, _, _ := unstructured.NestedString(p.Object, "status", "phase"); ph != "Running" {
				return fmt.Sprintf("pod %s is %q on node %s", p.GetName(), ph, node)
			}
		}
		return ""
	})
	return f, node
}

// failedAfter is how long after the object's creation the run gave up on
// injection for good (the StepFailed event).
func failedAfter(t *testing.T, res *chaos.Result) time.Duration {
	t.Helper()
	for _, e := range res.Timeline {
		if e.Step == chaos.StepFailed {
			t.Logf("injection failed for good %s after creation", e.At.Sub(res.Created).Round(time.Millisecond))
			return e.At.Sub(res.Created)
		}
	}
	t.Fatalf("no %s step in the timeline %v", chaos.StepFailed, steps(res))
	return 0
}

// TestNoDaemonOnTheNode: the targets' node has no chaos-daemon, so the
// real controller can never inject and keeps its finalizer while it
// retries. The run must fail fast, and no rule of the run may stay in a
// PodHttpChaos, however the object goes.
func TestNoDaemonOnTheNode(t *testing.T) {
	t.Run("the preflight refuses targets on a node without a Running chaos-daemon", func(t *testing.T) {
		f, node := newDaemonlessFixture(t)
		res, err := f.r.Run(t.Context(), f.opts(f.httpAbort(t)))
		if res.Verdict != chaos.VerdictPrecheckFailed || err == nil || !strings.Contains(err.Error(), "no Running chaos-daemon on node "+node) {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("injection_failed within seconds, and force_cleanup removes only this run's PodHttpChaos rules", func(t *testing.T) {
		f, _ := newDaemonlessFixture(t)
		pods := f.pods(t)
		const foreign = "other-ns/httpchaos-other"
		o := f.opts(f.httpAbort(t))
		o.SkipDaemonCheck, o.DeleteTimeout, o.ForceCleanup = true, 3*time.Second, true
		var name string
		o.OnIntent = func(n string) error {
			name = n
			// Both pods' PodHttpChaos already hold another experiment's
			// rule; the second one holds ours too, stale from an earlier
			// attempt whose record the controller no longer lists.
			for i, pod := range pods {
				u := podHTTPChaos(f.ns, pod)
				rules := []any{httpRule(foreign)}
				if i == 1 {
					rules = append(rules, httpRule(api.RuleSource(f.ns, n)))
				}
				_ = unstructured.SetNestedSlice(u.Object, rules, "spec", "rules")
				if _, err := f.dyn.Resource(gvrPodHTTPChaos).Namespace(f.ns).Create(t.Context(), u, metav1.CreateOptions{}); err != nil {
					return err
				}
			}
			return nil
		}
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictInjectionFailed || err == nil || !strings.Contains(err.Error(), "cannot find daemonIP on node") || !strings.Contains(err.Error(), "not waiting for injection_timeout") {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		if took := failedAfter(t, res); took > 15*time.Second {
			t.Errorf("injection_failed %s after creation, want within seconds", took)
		}
		want := map[string][]string{pods[0]: {foreign}, pods[1]: {foreign}}
		if diff := cmp.Diff(want, f.ruleSources(t)); diff != "" {
			t.Errorf("PodHttpChaos rules by pod (-want +got):\n%s", diff)
		}
		cl := res.Cleanup
		if cl == nil || cl.Outcome != chaos.CleanupForced || !res.RecoveryUnverified {
			t.Fatalf("cleanup %+v, unverified %v", cl, res.RecoveryUnverified)
		}
		removed := strings.Join(cl.RemovedByHand, "\n")
		for _, w := range []string{"finalizers [chaos-mesh/records] removed", "PodHttpChaos/" + f.ns + "/" + pods[1] + ": removed 1 entry of source " + f.ns + "/" + name} {
			if !strings.Contains(removed, w) {
				t.Errorf("removed by hand lacks %q:\n%s", w, removed)
			}
		}
		if check := strings.Join(cl.Check, "\n"); !strings.Contains(check, "chaos-daemon has not applied the removal") || !strings.Contains(check, "cannot find daemonIP") {
			t.Errorf("check does not say what to verify:\n%s", check)
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("without force_cleanup: cleanup incomplete, the record waiting for the daemon and never injected; reap with force_cleanup leaves nothing", func(t *testing.T) {
		f, _ := newDaemonlessFixture(t)
		o := f.opts(f.httpAbort(t))
		o.SkipDaemonCheck, o.DeleteTimeout = true, 3*time.Second
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictInjectionFailed || !chaos.IsCleanupIncomplete(err) {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "waiting for the daemon (Not Injected/Wait), never injected") || strings.Contains(msg, "still injected") || !strings.Contains(msg, "held by finalizers [chaos-mesh/records]") || !strings.Contains(msg, "--force-cleanup") {
			t.Errorf("wrong words for the record, or no next step: %v", err)
		}
		if logs := f.logs.String(); !strings.Contains(logs, "waiting for the daemon") || strings.Contains(logs, "records still injected") {
			t.Errorf("log lines:\n%s", logs)
		}
		if len(f.rulesOf(t, res.Name)) == 0 {
			t.Errorf("the controller put no rule in a PodHttpChaos: the next step proves nothing")
		}
		f.reapForced(t, res)
	})

	t.Run("a finalizer removed by hand during the wait: the run's rules are removed and recovery is unverified", func(t *testing.T) {
		f, _ := newDaemonlessFixture(t)
		o := f.opts(f.httpAbort(t))
		o.SkipDaemonCheck = true
		var name string
		o.OnIntent = func(n string) error {
			name = n
			go func() {
				ri := f.dyn.Resource(gvrHTTPChaos).Namespace(f.ns)
				ctx := context.WithoutCancel(t.Context())
				for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
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
		f.assertNoRules(t, name)
		f.assertNoChaosLeft(t)
	})
}

func podHTTPChaos(ns, pod string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": api.GroupVersion.String(), "kind": "PodHttpChaos",
		"metadata": map[string]any{"name": pod, "namespace": ns},
		"spec":     map[string]any{},
	}}
}

func httpRule(src string) map[string]any {
	return map[string]any{
		"source": src, "port": int64(8080), "target": "Request",
		"selector": map[string]any{"port": int64(8080), "path": "/"},
		"actions":  map[string]any{"abort": true},
	}
}
