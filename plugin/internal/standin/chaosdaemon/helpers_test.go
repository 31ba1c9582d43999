package chaosdaemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/tproxy"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// rig is one test's stand-in: it serves the test's namespace as if it were
// the controller's (so the namespace's annotations are the global knobs).
type rig struct {
	cfg  *rest.Config
	kube kubernetes.Interface
	ns   string
	srv  *Server
	conn *grpc.ClientConn
}

func newRig(t *testing.T) *rig {
	t.Helper()
	cfg := testenv.Config(t)
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ns := testenv.Namespace(t, cfg)
	r := &rig{cfg: cfg, kube: kube, ns: ns}
	r.srv = startServer(t, cfg, Options{Listen: "127.0.0.1:0", Namespace: ns})
	r.conn = dial(t, r.srv.Addr())
	return r
}

// startServer runs a stand-in until t ends and waits until it is ready.
func startServer(t *testing.T, cfg *rest.Config, opts Options) *Server {
	t.Helper()
	ready := make(chan struct{})
	opts.Ready = func() { close(ready) }
	opts.Logger = testLogger(t)
	srv, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Serve ended before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("stand-in not ready after 30s")
	}
	return srv
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// pod creates a pod on the kwok node and waits until kwok has it Running,
// with container ids.
func (r *rig) pod(t *testing.T, name string, annotations map[string]string, containers ...string) *corev1.Pod {
	t.Helper()
	if len(containers) == 0 {
		containers = []string{"app"}
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: r.ns, Annotations: annotations},
		Spec:       corev1.PodSpec{NodeName: DefaultNode},
	}
	for _, c := range containers {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: c, Image: "registry.invalid/app:1"})
	}
	if _, err := r.kube.CoreV1().Pods(r.ns).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var got *corev1.Pod
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		var err error
		got, err = r.kube.CoreV1().Pods(r.ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil && got.Status.Phase == corev1.PodRunning, err
	})
	if err != nil {
		t.Fatalf("Pod/%s/%s not Running: %v", r.ns, name, err)
	}
	for _, cs := range got.Status.ContainerStatuses {
		if cs.ContainerID == "" {
			t.Fatalf("Pod/%s/%s is Running but kwok gave container %s no containerID: the control plane predates "+
				"scripts/testenv/kwok-stages.yaml's containerID; restart it with scripts/testenv.sh start", r.ns, name, cs.Name)
		}
	}
	return got
}

// annotate sets (value != "") or removes annotation key of a pod (name
// != "") or of the rig's namespace.
func (r *rig) annotate(t *testing.T, name, key, value string) {
	t.Helper()
	v := "null"
	if value != "" {
		v = fmt.Sprintf("%q", value)
	}
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%s}}}`, key, v))
	var err error
	if name == "" {
		_, err = r.kube.CoreV1().Namespaces().Patch(t.Context(), r.ns, types.MergePatchType, patch, metav1.PatchOptions{})
	} else {
		_, err = r.kube.CoreV1().Pods(r.ns).Patch(t.Context(), name, types.MergePatchType, patch, metav1.PatchOptions{})
	}
	if err != nil {
		t.Fatalf("annotate %q %s=%q: %v", name, key, value, err)
	}
}

// apply calls ApplyHttpChaos for the first container of pod, as the
// controller does.
func (r *rig) apply(t *testing.T, pod *corev1.Pod, rules string) (ApplyHTTPChaosResponse, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	return ApplyHTTPChaos(ctx, r.conn, ApplyHTTPChaosRequest{
		Rules: rules, ProxyPorts: []uint32{8080}, ContainerID: pod.Status.ContainerStatuses[0].ContainerID, EnterNS: true,
	})
}

// app is a local HTTP app behind a fault proxy for port 8080.
type app struct {
	url   string // through the proxy
	admin *tproxy.AdminClient
}

func newApp(t *testing.T) *app {
	t.Helper()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	t.Cleanup(upstream.Close)
	fp, err := tproxy.New(tproxy.Options{Upstream: upstream.URL, Port: 8080, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = fp.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	admin, err := tproxy.NewAdminClient(fp.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	return &app{url: "http://" + fp.Addr(), admin: admin}
}

// get requests path through the proxy and returns the status code, or 0
// when the connection was closed without an answer.
func (a *app) get(t *testing.T, path string) int {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := c.Get(a.url + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// rules lists the proxy's rule ids that start with prefix.
func (a *app) rules(t *testing.T, prefix string) []string {
	t.Helper()
	entries, err := a.admin.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range entries {
		if strings.HasPrefix(e.ID, prefix) {
			ids = append(ids, e.ID)
		}
	}
	return ids
}
