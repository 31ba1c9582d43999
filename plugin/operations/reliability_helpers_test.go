package operations_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// opRun is one operation run through the real executable and the ctx proxy
// stand-in, as a manager's script plugin runs it.
type opRun struct {
	Op         string
	Inputs     map[string]any
	Deployment string
	Execution  string
	Instance   string
	Props      map[string]any // runtime properties to start from
	Cancel     scriptrunner.CancelMode
	Env        []string // added to the test's environment
	// Root holds everything the process may write: its working directory
	// (cwd), HOME, TMPDIR and CHAOSOPS_WORKDIR (reports, terraform work
	// dirs). Default a temp dir.
	Root   string
	OnLine func(scriptrunner.LogLine)
	// Resources is the blueprint folder download-resource serves.
	Resources string
	// OnStart, if set, gets the proxy once the process is about to start,
	// e.g. to close it mid-run.
	OnStart func(*scriptrunner.Proxy)
	// KillAfter is how long the stand-in waits after a SIGTERM before it
	// SIGKILLs the process; default 45 s.
	KillAfter time.Duration
}

// run launches the operation and waits for it; cancelling ctx applies
// r.Cancel.
func (r opRun) run(t *testing.T, ctx context.Context) (*scriptrunner.Result, *scriptrunner.State) {
	t.Helper()
	state := &scriptrunner.State{
		Operation:    scriptrunner.Operation{Name: r.Op},
		Node:         scriptrunner.Node{ID: "chaos", Type: "chaosops.nodes.Chaos"},
		Instance:     scriptrunner.Instance{ID: orDefault(r.Instance, "chaos_rel1"), RuntimeProperties: r.Props},
		DeploymentID: orDefault(r.Deployment, "dep-rel"), BlueprintID: "reliability",
		ExecutionID: orDefault(r.Execution, "exec-"+strconv.FormatInt(time.Now().UnixNano(), 36)), WorkflowID: "execute_operation",
		TenantName: "default_tenant",
	}
	p, err := scriptrunner.NewProxy(state)
	if err != nil {
		t.Fatal(err)
	}
	p.ResourceDir = r.Resources
	if r.OnStart != nil {
		r.OnStart(p)
	}
	root := r.Root
	if root == "" {
		root = t.TempDir()
	}
	for _, d := range []string{"cwd", "home", "tmp", "work"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "CHAOSOPS_WATCHDOG_INTERVAL=500ms", "HOME="+filepath.Join(root, "home"),
		"TMPDIR="+filepath.Join(root, "tmp"), "CHAOSOPS_WORKDIR="+filepath.Join(root, "work"))
	env = append(env, r.Env...)
	res, err := p.Run(ctx, scriptrunner.Spec{Executable: chaosbin.Path(t), Inputs: r.Inputs, Dir: filepath.Join(root, "cwd"), Cancel: r.Cancel,
		Grace: cmp.Or(r.KillAfter, 45*time.Second), Env: env, OnLine: r.OnLine})
	if err != nil {
		t.Fatal(err)
	}
	return res, state
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// called lists the first argument of every call to the ctx method name
// (abort_operation, retry_operation, ...).
func called(res *scriptrunner.Result, name string) []string {
	var out []string
	for _, c := range res.Calls {
		if len(c) > 0 && c[0] == name {
			msg := ""
			if len(c) > 1 {
				msg = fmt.Sprint(c[1])
			}
			out = append(out, msg)
		}
	}
	return out
}

// adminKubeconfig is the shared control plane's admin kubeconfig content.
func adminKubeconfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(testenv.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// chaosObjects lists the chaos objects of every kind in ns that match the
// label selector (empty: all).
func chaosObjects(ctx context.Context, dyn dynamic.Interface, ns, selector string) ([]unstructured.Unstructured, error) {
	var out []unstructured.Unstructured
	for _, k := range api.Kinds() {
		l, err := dyn.Resource(k.GroupVersionResource()).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return nil, fmt.Errorf("list %s in %s: %w", k.Name, ns, err)
		}
		out = append(out, l.Items...)
	}
	return out, nil
}

// dynClient is a dynamic client for the shared control plane.
func dynClient(t *testing.T) dynamic.Interface {
	t.Helper()
	dyn, err := dynamic.NewForConfig(testenv.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	return dyn
}

// deploymentObjects counts the chaos objects of one Cloudify deployment.
func deploymentObjects(t *testing.T, dyn dynamic.Interface, ns, deployment string) int {
	t.Helper()
	objs, err := chaosObjects(context.WithoutCancel(t.Context()), dyn, ns, chaos.LabelDeployment+"="+deployment)
	if err != nil {
		t.Fatal(err)
	}
	return len(objs)
}

// httpChaosManifest is an HTTPChaos on the demo app of ns.
func httpChaosManifest(ns string, duration time.Duration) string {
	return fmt.Sprintf(`apiVersion: chaos-mesh.org/v1alpha1
kind: HTTPChaos
metadata:
  name: reliability
spec:
  mode: one
  selector: {namespaces: [%s], labelSelectors: {app: demo}}
  target: Request
  port: 8080
  path: /
  abort: true
  duration: %s
`, ns, duration.String())
}

// chaosNamespace makes a fresh namespace on cfg's cluster with a Running
// app=demo Deployment of replicas pods, opted in to Chaos Mesh
// (chaos-mesh.org/inject=enabled: the controller filters namespaces, as
// the bundle installs it).
func chaosNamespace(t *testing.T, cfg *rest.Config, replicas int) (string, dynamic.Interface) {
	t.Helper()
	ns := testenv.Namespace(t, cfg)
	dyn := testenv.DemoApp(t, cfg, ns, replicas)
	testenv.AnnotateNamespace(t, cfg, ns, api.InjectAnnotation, "enabled")
	return ns, dyn
}

// uidTracker polls the chaos objects of a deployment and remembers every
// UID it saw, to prove a run never created a second object.
type uidTracker struct {
	mu   sync.Mutex
	uids map[string]bool
	stop chan struct{}
	done chan struct{}
}

func trackUIDs(t *testing.T, cfg *rest.Config, ns, selector string) *uidTracker {
	t.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 1000, 1000 // a poll lists every kind: no client-side throttling
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u := &uidTracker{uids: map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(u.done)
		for {
			// Errors (an API server restarting) only mean this poll saw nothing.
			if objs, err := chaosObjects(t.Context(), dyn, ns, selector); err == nil {
				u.mu.Lock()
				for _, o := range objs {
					u.uids[string(o.GetUID())] = true
				}
				u.mu.Unlock()
			}
			select {
			case <-u.stop:
				return
			case <-t.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return u
}

// seen stops the tracker after its current poll and returns how many
// distinct objects it saw.
func (u *uidTracker) seen() int {
	close(u.stop)
	<-u.done
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.uids)
}

// killWhen returns an OnStart hook that kill -9s the operation's processes
// (found by their proxy's unique URL) once ready is closed: no cleanup can
// run, as when a manager's worker dies.
func killWhen(t *testing.T, ready <-chan struct{}) func(*scriptrunner.Proxy) {
	return func(p *scriptrunner.Proxy) {
		url := p.URL()
		go func() {
			select {
			case <-ready:
			case <-t.Context().Done():
				return
			}
			for _, pid := range pidsWithEnv(cloudify.SocketEnv + "=" + url) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}()
	}
}

// pidsWithEnv finds this user's processes whose environment holds kv
// exactly, e.g. the CTX_SOCKET_URL of one stand-in proxy.
func pidsWithEnv(kv string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		for _, v := range bytes.Split(env, []byte{0}) {
			if string(v) == kv {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// runAs runs op on state as the script plugin does, with kubeconfig (the
// test plane's, as text) among the inputs and the blueprint's resources in
// resourceDir ("" for none).
func runAs(t *testing.T, state *scriptrunner.State, op, kubeconfig, resourceDir string, inputs map[string]any) *scriptrunner.Result {
	t.Helper()
	state.Operation.Name = op
	p, err := scriptrunner.NewProxy(state)
	if err != nil {
		t.Fatal(err)
	}
	if resourceDir != "" {
		p.ResourceDir = resourceDir
	}
	inputs["kubeconfig"] = kubeconfig
	res, err := p.Run(t.Context(), scriptrunner.Spec{Executable: chaosbinPath(t), Inputs: inputs, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
