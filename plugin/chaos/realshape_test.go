package chaos_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/controllerstandin"
)

// realShape writes, on the API server, what the real Chaos Mesh
// controller writes for the HTTPChaos objects of one namespace, in the
// cases the controller stand-in does not reproduce. The shapes were read
// from Chaos Mesh v2.8.3 and master:
//   - the pipeline (controllers/common/step.go): finalizer chaos-mesh/records,
//     desiredPhase (Run, Stop once the duration from creationTimestamp is
//     over or the object is deleted), conditions (a map: any order),
//     records, then the finalizer cleanup, which a failing records step
//     never reaches, so cleanFinalizer=forced is ignored while it fails;
//   - HTTPChaos Apply (controllers/chaosimpl/httpchaos/impl.go): the rule
//     goes into the pod's PodHttpChaos (source namespace/name), the record
//     waits in "Not Injected/Wait", status.instances[id] holds the
//     PodHttpChaos generation, and the PodHttpChaos status.failedMessage
//     ("cannot find daemonIP on node ...", from
//     controllers/utils/chaosdaemon/chaosdaemon.go) becomes the record's
//     Apply/Failed event on every retry.
//
// The namespace is labelled for a stand-in instance that does not run, so
// that no controller stand-in touches it.
type realShape struct {
	t *testing.T
	f *fixture

	// noDaemon: no chaos-daemon serves the node: Apply never completes.
	noDaemon bool
	// recoverFails: injection works, recovery fails for ever (the daemon
	// went away): the finalizer stays.
	recoverFails bool
	// lateStop delays the TimeUp after the duration; recoverAfter delays
	// the recovery after the stop.
	lateStop, recoverAfter time.Duration

	mu      sync.Mutex
	stopped map[types.UID]time.Time
}

var (
	gvrHTTPChaos    = schema.GroupVersionResource{Group: api.Group, Version: api.Version, Resource: "httpchaos"}
	gvrPodHTTPChaos = schema.GroupVersionResource{Group: api.Group, Version: api.Version, Resource: "podhttpchaos"}
	gvrPodsT        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrNamespacesT  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

const daemonlessMessage = "cannot find daemonIP on node kwok-node-0"

// start claims the fixture's namespace and plays the controller until
// the test ends.
func (s *realShape) start() {
	s.t.Helper()
	s.stopped = map[types.UID]time.Time{}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:"real-shape-nobody"}}}`, controllerstandin.InstanceLabel)
	if _, err := s.f.dyn.Resource(gvrNamespacesT).Patch(s.t.Context(), s.f.ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(s.t.Context()))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			list, err := s.f.dyn.Resource(gvrHTTPChaos).Namespace(s.f.ns).List(ctx, metav1.ListOptions{})
			if err == nil {
				for i := range list.Items {
					s.reconcile(ctx, &list.Items[i])
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(150 * time.Millisecond):
			}
		}
	}()
	s.t.Cleanup(func() {
		cancel()
		<-done
		// Release what is left, so the namespace can go.
		ctx := context.WithoutCancel(s.t.Context())
		list, _ := s.f.dyn.Resource(gvrHTTPChaos).Namespace(s.f.ns).List(ctx, metav1.ListOptions{})
		for _, u := range list.Items {
			_, _ = s.f.dyn.Resource(gvrHTTPChaos).Namespace(s.f.ns).Patch(ctx, u.GetName(), types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		}
	})
}

func (s *realShape) reconcile(ctx context.Context, u *unstructured.Unstructured) {
	ri := s.f.dyn.Resource(gvrHTTPChaos).Namespace(s.f.ns)
	deleted := u.GetDeletionTimestamp() != nil
	if !deleted && !slices.Contains(u.GetFinalizers(), api.RecordsFinalizer) {
		u.SetFinalizers(append(u.GetFinalizers(), api.RecordsFinalizer))
	}
	dur, _, _ := unstructured.NestedString(u.Object, "spec", "duration")
	d, _ := time.ParseDuration(dur)
	desired := "Run"
	if deleted || time.Since(u.GetCreationTimestamp().Time) > d+s.lateStop {
		desired = "Stop"
	}
	s.mu.Lock()
	stoppedAt, wasStopped := s.stopped[u.GetUID()]
	if desired == "Stop" && !wasStopped {
		stoppedAt = time.Now()
		s.stopped[u.GetUID()] = stoppedAt
	}
	s.mu.Unlock()
	_ = unstructured.SetNestedField(u.Object, desired, "status", "experiment", "desiredPhase")

	recs, _, _ := unstructured.NestedSlice(u.Object, "status", "experiment", "containerRecords")
	if recs == nil {
		pod := s.firstPod(ctx)
		recs = []any{map[string]any{"id": s.f.ns + "/" + pod.GetName(), "selectorKey": ".", "phase": "Not Injected", "injectedCount": int64(0), "recoveredCount": int64(0)}}
	}
	src := api.RuleSource(u.GetNamespace(), u.GetName())
	failing := false
	for _, r := range recs {
		rec := r.(map[string]any)
		id := rec["id"].(string)
		_, podName, _ := cutID(id)
		phase := rec["phase"].(string)
		switch {
		case desired == "Run" && phase == "Not Injected":
			gen := s.putRule(ctx, podName, src)
			rec["phase"] = "Not Injected/Wait"
			_ = unstructured.SetNestedField(u.Object, map[string]any{id: gen}, "status", "instances")
		case phase == "Not Injected/Wait" && s.noDaemon:
			// Apply in the wait phase reads the PodHttpChaos failure, also
			// under desiredPhase Stop (Not Injected/* is applied first).
			appendEvent(rec, "Failed", "Apply", "failed to apply for pod "+id+": "+daemonlessMessage)
			failing = true
		case desired == "Run" && phase == "Not Injected/Wait":
			rec["phase"] = "Injected"
			rec["injectedCount"] = rec["injectedCount"].(int64) + 1
			appendEvent(rec, "Succeeded", "Apply", "")
		case desired == "Stop" && phase == "Injected" && s.recoverFails:
			appendEvent(rec, "Failed", "Recover", "failed to apply for pod "+id+": "+daemonlessMessage)
			failing = true
		case desired == "Stop" && phase == "Injected" && time.Since(stoppedAt) >= s.recoverAfter:
			s.dropRule(ctx, podName, src)
			rec["phase"] = "Not Injected"
			rec["recoveredCount"] = rec["recoveredCount"].(int64) + 1
			appendEvent(rec, "Succeeded", "Recover", "")
		}
	}
	_ = unstructured.SetNestedSlice(u.Object, recs, "status", "experiment", "containerRecords")
	allIn, allOut := true, true
	for _, r := range recs {
		ph := r.(map[string]any)["phase"]
		allIn = allIn && ph == "Injected"
		allOut = allOut && ph == "Not Injected"
	}
	str := map[bool]string{true: "True", false: "False"}
	// The controller builds its conditions from a map: their order varies.
	_ = unstructured.SetNestedSlice(u.Object, []any{
		map[string]any{"type": "Paused", "status": "False"},
		map[string]any{"type": "AllRecovered", "status": str[allOut]},
		map[string]any{"type": "Selected", "status": "True"},
		map[string]any{"type": "AllInjected", "status": str[allIn]},
	}, "status", "conditions")
	if deleted && !failing && (allOut || u.GetAnnotations()[api.CleanFinalizerAnnotation] == api.CleanFinalizerForced) {
		u.SetFinalizers([]string{})
	}
	if _, err := ri.Update(ctx, u, metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		s.t.Logf("real shape: update %s: %v", u.GetName(), err)
	}
}

func appendEvent(rec map[string]any, typ, op, msg string) {
	evs, _ := rec["events"].([]any)
	if len(evs) >= 10 {
		evs = evs[1:]
	}
	ev := map[string]any{"type": typ, "operation": op, "timestamp": time.Now().UTC().Format(time.RFC3339)}
	if msg != "" {
		ev["message"] = msg
	}
	rec["events"] = append(evs, ev)
}

func cutID(id string) (ns, pod string, ok bool) {
	for i := range id {
		if id[i] == '/' {
			return id[:i], id[i+1:], true
		}
	}
	return "", id, false
}

func (s *realShape) firstPod(ctx context.Context) *unstructured.Unstructured {
	list, err := s.f.dyn.Resource(gvrPodsT).Namespace(s.f.ns).List(ctx, metav1.ListOptions{LabelSelector: "app=demo"})
	if err != nil || len(list.Items) == 0 {
		s.t.Errorf("real shape: no demo pod: %v", err)
		return &unstructured.Unstructured{}
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].GetName() < list.Items[j].GetName() })
	return &list.Items[0]
}

// putRule appends the run's rule to the pod's PodHttpChaos (creating it
// owned by the pod), as the PodHttpManager's Commit does, and returns its
// generation. Without a daemon, the PodHttpChaos reconciler then sets
// status.failedMessage.
func (s *realShape) putRule(ctx context.Context, pod, src string) int64 {
	ri := s.f.dyn.Resource(gvrPodHTTPChaos).Namespace(s.f.ns)
	u, err := ri.Get(ctx, pod, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		u = podHTTPChaos(s.f.ns, pod)
		if u, err = ri.Create(ctx, u, metav1.CreateOptions{}); err != nil {
			s.t.Errorf("real shape: create PodHttpChaos: %v", err)
			return 0
		}
	}
	rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
	_ = unstructured.SetNestedSlice(u.Object, append(rules, httpRule(src)), "spec", "rules")
	if u, err = ri.Update(ctx, u, metav1.UpdateOptions{}); err != nil {
		s.t.Errorf("real shape: update PodHttpChaos: %v", err)
		return 0
	}
	if s.noDaemon {
		_ = unstructured.SetNestedField(u.Object, "failed to apply for pod "+s.f.ns+"/"+pod+": "+daemonlessMessage, "status", "failedMessage")
		_ = unstructured.SetNestedField(u.Object, u.GetGeneration(), "status", "observedGeneration")
		if _, err := ri.UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
			s.t.Errorf("real shape: PodHttpChaos status: %v", err)
		}
	}
	return u.GetGeneration()
}

// dropRule removes the run's rules, as Recover's Clear(source) does.
func (s *realShape) dropRule(ctx context.Context, pod, src string) {
	ri := s.f.dyn.Resource(gvrPodHTTPChaos).Namespace(s.f.ns)
	u, err := ri.Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return
	}
	rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
	var kept []any
	for _, r := range rules {
		if r.(map[string]any)["source"] != src {
			kept = append(kept, r)
		}
	}
	_ = unstructured.SetNestedSlice(u.Object, kept, "spec", "rules")
	_, _ = ri.Update(ctx, u, metav1.UpdateOptions{})
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

// ruleSources lists the sources of the rules in the pod's PodHttpChaos.
func ruleSources(t *testing.T, f *fixture, pod string) []string {
	t.Helper()
	u, err := f.dyn.Resource(gvrPodHTTPChaos).Namespace(f.ns).Get(context.WithoutCancel(t.Context()), pod, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("PodHttpChaos %s: %v", pod, err)
	}
	rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
	var out []string
	for _, r := range rules {
		out = append(out, fmt.Sprint(r.(map[string]any)["source"]))
	}
	sort.Strings(out)
	return out
}
