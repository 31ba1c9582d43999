package controllerstandin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// waitTimeout bounds every wait of the integration tests.
const waitTimeout = 30 * time.Second

// env is one integration test's namespace with a private stand-in.
type env struct {
	t    *testing.T
	cfg  *rest.Config
	dyn  dynamic.Interface
	kube kubernetes.Interface
	ns   string
}

// newEnv makes a namespace for t and runs a stand-in with opts that handles
// only that namespace (so that a shared stand-in started by
// scripts/testenv.sh leaves it alone). When t ends, the chaos objects are
// deleted with their finalizers stripped, then the stand-in stops.
func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	cfg := testenv.Config(t)
	cfg.QPS, cfg.Burst = 50, 100
	e := &env{t: t, cfg: cfg, ns: testenv.Namespace(t, cfg)}
	var err error
	if e.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	if e.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		t.Fatal(err)
	}
	e.patchNamespace(fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, InstanceLabel, e.ns))

	opts.Instance = e.ns
	opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	ready := make(chan struct{})
	opts.Ready = func() { close(ready) }
	done := make(chan error, 1)
	go func() { done <- Run(t.Context(), cfg, opts) }()
	t.Cleanup(func() {
		e.removeChaos()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("Run did not return %v after the test ended", waitTimeout)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run ended before it was ready: %v", err)
	case <-time.After(waitTimeout):
		t.Fatalf("stand-in not ready after %v", waitTimeout)
	}
	return e
}

// testWriter sends the stand-in's log to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}

func (e *env) patchNamespace(patch string) {
	e.t.Helper()
	_, err := e.kube.CoreV1().Namespaces().Patch(e.t.Context(), e.ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		e.t.Fatalf("Namespace/%s: patch: %v", e.ns, err)
	}
}

// removeChaos deletes every chaos object of the namespace and strips its
// finalizers, so that the namespace can go once the stand-in is stopped.
func (e *env) removeChaos() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.t.Context()), waitTimeout)
	defer cancel()
	for _, k := range api.Kinds() {
		res := e.dyn.Resource(k.GroupVersionResource()).Namespace(e.ns)
		list, err := res.List(ctx, metav1.ListOptions{})
		if err != nil {
			e.t.Errorf("cleanup: list %s: %v", k.Resource, err)
			continue
		}
		for _, u := range list.Items {
			_ = res.Delete(ctx, u.GetName(), metav1.DeleteOptions{})
			_, _ = res.Patch(ctx, u.GetName(), types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		}
	}
}

// deployment creates a Deployment of replicas pods labelled app=name with
// the given containers and waits until they are Running.
func (e *env) deployment(name string, replicas int, containers ...string) []corev1.Pod {
	e.t.Helper()
	labels := map[string]string{"app": name}
	var cs []corev1.Container
	for _, c := range containers {
		cs = append(cs, corev1.Container{Name: c, Image: "registry.invalid/" + c + ":1"})
	}
	_, err := e.kube.AppsV1().Deployments(e.ns).Create(e.t.Context(), &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(replicas)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: cs}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("Deployment/%s/%s: create: %v", e.ns, name, err)
	}
	var running []corev1.Pod
	err = wait.PollUntilContextTimeout(e.t.Context(), 100*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		pods, err := e.kube.CoreV1().Pods(e.ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil {
			return false, err
		}
		running = running[:0]
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				running = append(running, p)
			}
		}
		return len(running) == replicas, nil
	})
	if err != nil {
		e.t.Fatalf("Deployment/%s/%s: %d Running pods: %v", e.ns, name, replicas, err)
	}
	return running
}

// create creates o, in the test's namespace unless o names another.
func (e *env) create(o *api.Object) {
	e.t.Helper()
	if o.Namespace == "" {
		o.Namespace = e.ns
	}
	u, err := api.ToUnstructured(o)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.resource(o).Create(e.t.Context(), u, metav1.CreateOptions{}); err != nil {
		e.t.Fatalf("%s: create: %v", ref(o), err)
	}
}

func ref(o *api.Object) string { return o.Kind + "/" + o.Namespace + "/" + o.Name }

// resource is the dynamic client for o's kind and namespace.
func (e *env) resource(o *api.Object) dynamic.ResourceInterface {
	k, ok := api.KindNamed(o.Kind)
	if !ok {
		e.t.Fatalf("unknown kind %s", o.Kind)
	}
	return e.dyn.Resource(k.GroupVersionResource()).Namespace(o.Namespace)
}

// patch merge-patches a chaos object.
func (e *env) patch(o *api.Object, patch string) {
	e.t.Helper()
	if _, err := e.resource(o).Patch(e.t.Context(), o.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		e.t.Fatalf("%s: patch: %v", ref(o), err)
	}
}

func (e *env) delete(o *api.Object) {
	e.t.Helper()
	if err := e.resource(o).Delete(e.t.Context(), o.Name, metav1.DeleteOptions{}); err != nil {
		e.t.Fatalf("%s: delete: %v", ref(o), err)
	}
}

// waitFor watches o (created before) until cond holds and returns that
// version. When the object is deleted, cond sees its last version with
// deleted set.
func (e *env) waitFor(o *api.Object, what string, cond func(obj *api.Object, deleted bool) bool) *api.Object {
	e.t.Helper()
	ref := ref(o)
	ctx, cancel := context.WithTimeout(e.t.Context(), waitTimeout)
	defer cancel()
	res := e.resource(o)
	opts := metav1.ListOptions{FieldSelector: "metadata.name=" + o.Name}
	var last *api.Object
	check := func(u *unstructured.Unstructured, deleted bool) bool {
		obj, err := api.FromUnstructured(u)
		if err != nil {
			e.t.Fatalf("%s: %v", ref, err)
		}
		last = obj
		return cond(obj, deleted)
	}
	for ctx.Err() == nil {
		list, err := res.List(ctx, opts)
		if err != nil {
			break
		}
		if len(list.Items) == 1 && check(&list.Items[0], false) {
			return last
		}
		if len(list.Items) == 0 && last != nil && check(lastUnstructured(e.t, last), true) {
			return last
		}
		opts.ResourceVersion = list.GetResourceVersion()
		w, err := res.Watch(ctx, opts)
		if err != nil {
			break
		}
		for ev := range w.ResultChan() {
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			if (ev.Type == watch.Added || ev.Type == watch.Modified) && check(u, false) ||
				ev.Type == watch.Deleted && check(u, true) {
				w.Stop()
				return last
			}
		}
		opts.ResourceVersion = ""
	}
	e.t.Fatalf("%s: no %s within %v; last seen: %s", ref, what, waitTimeout, summary(last))
	return nil
}

func lastUnstructured(t *testing.T, o *api.Object) *unstructured.Unstructured {
	u, err := api.ToUnstructured(o)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// summary describes an object's state for failure messages.
func summary(o *api.Object) string {
	if o == nil {
		return "nothing"
	}
	return fmt.Sprintf("finalizers %v, deleting %v, desiredPhase %q, conditions [%s], records [%s]",
		o.Finalizers, o.DeletionTimestamp != nil, o.Status.Experiment.DesiredPhase,
		conditionString(o.Status.Conditions), recordString(o.Status.Experiment.Records))
}

// is returns a condition check for waitFor: every given condition has its
// status.
func is(want map[api.ConditionType]string) func(*api.Object, bool) bool {
	return func(o *api.Object, deleted bool) bool {
		if deleted {
			return false
		}
		for t, s := range want {
			if got, _ := api.Condition(o, t); string(got) != s {
				return false
			}
		}
		return true
	}
}

var (
	injected  = is(map[api.ConditionType]string{api.ConditionSelected: "True", api.ConditionAllInjected: "True"})
	recovered = is(map[api.ConditionType]string{api.ConditionSelected: "True", api.ConditionAllRecovered: "True"})
)

func gone(_ *api.Object, deleted bool) bool { return deleted }

// event waits for a Kubernetes Event on o with reason whose message contains msg.
func (e *env) event(o *api.Object, reason, msg string) {
	e.t.Helper()
	var seen []string
	err := wait.PollUntilContextTimeout(e.t.Context(), 100*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		list, err := e.kube.CoreV1().Events(o.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + o.Name})
		if err != nil {
			return false, err
		}
		seen = seen[:0]
		for _, ev := range list.Items {
			seen = append(seen, ev.Reason+": "+ev.Message)
			if ev.Reason == reason && strings.Contains(ev.Message, msg) && ev.Source.Component == FieldManager {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		e.t.Fatalf("%s: no %s event with %q: %v; events: %q", ref(o), reason, msg, err, seen)
	}
}

// pendingPod creates a pod that can never be scheduled and returns its name.
func (e *env) pendingPod(name string) string {
	e.t.Helper()
	_, err := e.kube.CoreV1().Pods(e.ns).Create(e.t.Context(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"chaosops.dev/no-such-node": "true"},
			Containers:   []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("Pod/%s/%s: create: %v", e.ns, name, err)
	}
	return name
}
