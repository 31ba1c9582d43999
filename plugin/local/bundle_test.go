package local_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/cloudify-chaos/chaosops/plugin/blueprint"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/launcher"
	"github.com/cloudify-chaos/chaosops/plugin/local"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestPythonPrometheusApp runs the demo app's own tests (unittest) with the
// system Python and the Debian packages of its pinned requirements.
func TestPythonPrometheusApp(t *testing.T) {
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import flask, prometheus_client").CombinedOutput(); err != nil {
		t.Fatalf("%s cannot import the app's requirements: %v\n%s\ninstall them: apt-get install -y python3-flask python3-prometheus-client", python, err, out)
	}
	cmd := exec.CommandContext(t.Context(), python, "-m", "unittest", "discover", "-s", "tests", "-t", ".", "-v")
	cmd.Dir = filepath.Join(repoRoot(), "examples", "python-prometheus")
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python -m unittest: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "\nOK") {
		t.Fatalf("unittest did not report OK:\n%s", out)
	}
}

// bundleIDs are the blueprints the bundle test installs, by the ids
// Chaos-Demo-Environment expects them uploaded under.
var bundleIDs = []string{"Chaos-Demo-Environment", "Prometheus-Operator", "Python-Prometheus", "Chaos-Mesh"}

// TestBundle installs Chaos-Demo-Environment through the local runner on
// the test control plane: the Local-Cluster stand-in instead of AKS, the
// kube-prometheus fixture instead of the release download, a stand-in
// chart instead of the Chaos Mesh chart, and the control plane's real Chaos
// Mesh controller with the chaos-daemon stand-in. It runs the chaos
// workflows on the app deployment, uninstalls, and checks that nothing the
// bundle created is left.
func TestBundle(t *testing.T) {
	cfg := testenv.Config(t)
	kubeconfig := testenv.Kubeconfig(t)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	root := repoRoot()
	if _, err := os.Stat(filepath.Join(root, "manifests", "grafana", "chaosops-dashboard-configmap.yaml")); err != nil {
		t.Fatalf("Prometheus-Operator applies the Grafana dashboard manifests/grafana/chaosops-dashboard-configmap.yaml: %v", err)
	}
	t.Setenv("CHAOSOPS_SECRET_chaos__safety__lever", "off")
	t.Setenv("CHAOSOPS_WORKDIR", t.TempDir())
	t.Setenv("CHAOSOPS_CACHE_DIR", t.TempDir())

	appNS := "bundle-app-" + randomSuffix()
	chaosNS := testenv.Namespace(t, cfg) // the Helm release's; the control plane's controller stays in chaos-mesh
	tree := bundleTree(t, root)
	r, events := newRunner(t)
	r.MaxRetryWait = 2 * time.Second
	ctx := t.Context()
	lb := startLoadBalancerStandIn(t, cs, appNS, corev1.LoadBalancerIngress{Hostname: "python-prometheus.lb.test"})
	defer lb()
	fail := func(t *testing.T, what string, err error) {
		t.Helper()
		t.Fatalf("%s: %v\nevents:\n%s", what, err, tail(events.String(), 60))
	}
	t.Cleanup(func() {
		// A failed run must not leave the bundle on the shared cluster.
		if _, err := r.Store.Load("demo"); err == nil {
			if err := r.Uninstall(context.WithoutCancel(ctx), "demo"); err != nil {
				t.Logf("cleanup uninstall: %v", err)
			}
		}
		_ = cs.CoreV1().Namespaces().Delete(context.WithoutCancel(ctx), appNS, metav1.DeleteOptions{})
	})

	inputs := map[string]any{
		"cluster_blueprint": "Local-Cluster",
		"cluster_inputs":    map[string]any{"kubeconfig": kubeconfig, "host": cfg.Host},
		"app_namespace":     appNS,
		"prometheus_operator_inputs": map[string]any{
			"kube_prometheus_setup_urls": []any{}, "kube_prometheus_setup_files": []any{"fixture/setup.yaml"},
			"kube_prometheus_urls": []any{}, "kube_prometheus_files": []any{"fixture/main.yaml"},
			"wait_timeout": "2m",
		},
		"python_prometheus_inputs": map[string]any{"wait_timeout": "2m"}, // the default: stock Python, code from a ConfigMap
		"chaos_mesh_inputs": map[string]any{
			"namespace": chaosNS, "chart_repo": "", "chart": filepath.Join(root, "examples", "local-demo", "chaos-mesh-standin-chart"),
			"chart_sha256": "", "wait_timeout": "2m",
		},
	}

	t.Run("install deploys the four children in order, each reading the cluster from the one before", func(t *testing.T) {
		err := r.Install(ctx, local.InstallOptions{Blueprint: filepath.Join(tree, "Chaos-Demo-Environment"), Name: "demo", Inputs: inputs})
		if err != nil {
			fail(t, "install", err)
		}
		for _, child := range []string{"demo-cluster", "demo-monitoring", "demo-app", "demo-chaos-mesh"} {
			d, err := r.Store.Load(child)
			if err != nil {
				t.Fatalf("child deployment %s: %v", child, err)
			}
			if d.Parent != "demo" {
				t.Errorf("%s has parent %q, want demo", child, d.Parent)
			}
		}
	})
	if t.Failed() {
		return
	}

	t.Run("capabilities expose the app, Grafana and a dashboard token", func(t *testing.T) {
		_, caps, err := r.Outputs("demo")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"app_endpoint":     "http://python-prometheus.lb.test",
			"grafana_endpoint": "http://grafana.monitoring.svc:3000",
			"prometheus_url":   "http://prometheus-k8s.monitoring.svc:9090",
			"dashboard_url":    "http://chaos-dashboard." + chaosNS + ".svc:2333",
			"kubeconfig":       kubeconfig,
		}
		for k, v := range want {
			if caps[k] != v {
				t.Errorf("capability %s = %v, want %v", k, caps[k], v)
			}
		}
		tok, _ := caps["dashboard_rbac_token_secret"].(string)
		if strings.Count(tok, ".") != 2 {
			t.Errorf("dashboard_rbac_token_secret is not a JWT: %q", tok)
		} else if strings.Contains(events.String(), tok) {
			t.Error("the dashboard token appears in the event log")
		}
	})

	t.Run("the objects are in the cluster: opted-in namespace, app, chart values", func(t *testing.T) {
		ns, err := cs.CoreV1().Namespaces().Get(ctx, appNS, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ns.Annotations["chaos-mesh.org/inject"] != "enabled" {
			t.Errorf("namespace %s annotations %v: not opted in to chaos", appNS, ns.Annotations)
		}
		dep, err := cs.AppsV1().Deployments(appNS).Get(ctx, "python-prometheus", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if dep.Status.AvailableReplicas != 3 {
			t.Errorf("python-prometheus has %d available replicas, want 3", dep.Status.AvailableReplicas)
		}
		for _, sa := range []string{"chaosops-dashboard-viewer", "chaosops-dashboard-manager"} {
			if _, err := cs.CoreV1().ServiceAccounts(appNS).Get(ctx, sa, metav1.GetOptions{}); err != nil {
				t.Errorf("dashboard identity: %v", err)
			}
		}
		cm, err := cs.CoreV1().ConfigMaps(chaosNS).Get(ctx, "chaos-mesh-values-seen", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantValues := map[string]string{
			"runtime": "containerd", "socketPath": "/run/containerd/containerd.sock",
			"enableFilterNamespace": "true", "securityMode": "true", "dashboardServiceType": "ClusterIP",
		}
		if diff := cmp.Diff(wantValues, cm.Data); diff != "" {
			t.Errorf("values the chart saw (-want +got):\n%s", diff)
		}
		// kube-prometheus' Grafana loads dashboards only from ConfigMaps
		// mounted under its provider's folder.
		grafana, err := cs.AppsV1().Deployments("monitoring").Get(ctx, "grafana", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mounted := false
		for _, c := range grafana.Spec.Template.Spec.Containers {
			for _, m := range c.VolumeMounts {
				mounted = mounted || c.Name == "grafana" && m.MountPath == "/grafana-dashboard-definitions/0/chaosops-dashboard"
			}
		}
		if !mounted {
			t.Errorf("Grafana's Deployment does not mount the chaosops dashboard: %+v", grafana.Spec.Template.Spec.Containers)
		}
	})

	t.Run("the app's pods run the ConfigMap's code on official images only", func(t *testing.T) {
		dep, err := cs.AppsV1().Deployments(appNS).Get(ctx, "python-prometheus", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		checkRunsConfigMapCode(t, dep.Spec.Template.Spec)
		cm, err := cs.CoreV1().ConfigMaps(appNS).Get(ctx, appConfigMap, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range appFiles {
			b, err := os.ReadFile(filepath.Join(exampleDir(), name))
			if err != nil {
				t.Fatal(err)
			}
			if cm.Data[name] != string(b) {
				t.Errorf("ConfigMap/%s/%s: %s differs from examples/python-prometheus/%s", appNS, appConfigMap, name, name)
			}
		}
		// kwok marks the pods Running without running them: what they
		// would run is checked on their specs (TestPythonPrometheusPodCommand
		// runs it on the host).
		pods, err := cs.CoreV1().Pods(appNS).List(ctx, metav1.ListOptions{LabelSelector: "app=python-prometheus"})
		if err != nil {
			t.Fatal(err)
		}
		running := 0
		for _, p := range pods.Items {
			checkRunsConfigMapCode(t, p.Spec)
			if p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		if running != 3 {
			t.Errorf("%d Running pods of the app, want 3", running)
		}
		specs := map[string]corev1.PodSpec{}
		all, err := cs.CoreV1().Pods(appNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range all.Items {
			specs["Pod/"+p.Name] = p.Spec
		}
		deps, err := cs.AppsV1().Deployments(appNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range deps.Items {
			specs["Deployment/"+d.Name] = d.Spec.Template.Spec
		}
		if n := checkOfficialImages(t, specs); n < 8 {
			t.Errorf("only %d containers checked; want the Deployment's and its 3 pods' app and init containers", n)
		}
	})

	t.Run("app_endpoint follows a load balancer that publishes an ip", func(t *testing.T) {
		svc, err := cs.CoreV1().Services(appNS).Get(ctx, "python-prometheus", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "10.0.0.7"}}
		if _, err := cs.CoreV1().Services(appNS).UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		err = r.Execute(ctx, "demo-app", "execute_operation", map[string]any{"operation": "kubernetes.apply", "node_ids": []any{"app"}})
		if err != nil {
			fail(t, "re-apply", err)
		}
		_, caps, err := r.Outputs("demo-app")
		if err != nil {
			t.Fatal(err)
		}
		if caps["app_endpoint"] != "http://10.0.0.7" {
			t.Errorf("app_endpoint = %v, want http://10.0.0.7", caps["app_endpoint"])
		}
	})

	t.Run("ChaosPreflight passes without creating anything", func(t *testing.T) {
		if err := r.Execute(ctx, "demo-app", "ChaosPreflight", map[string]any{"duration": "6s", "mode": "all"}); err != nil {
			fail(t, "ChaosPreflight", err)
		}
		if n := chaosObjects(t, dyn, appNS); n != 0 {
			t.Errorf("preflight left %d HTTPChaos objects", n)
		}
	})

	t.Run("RunHTTPChaos refuses a bad mode before anything is created, naming the allowed values", func(t *testing.T) {
		before := len(executions(t, r, "demo-app"))
		err := r.Execute(ctx, "demo-app", "RunHTTPChaos", map[string]any{"duration": "6s", "mode": "sometimes"})
		if err == nil || !strings.Contains(err.Error(), `"mode"`) || !strings.Contains(err.Error(), "fixed-percent") || !failure.IsInvalid(err) {
			t.Fatalf("err = %v, want an invalid-input error naming mode and its valid values", err)
		}
		if n := len(executions(t, r, "demo-app")); n != before {
			t.Errorf("a refused start recorded an execution (%d, was %d)", n, before)
		}
		if n := chaosObjects(t, dyn, appNS); n != 0 {
			t.Errorf("%d HTTPChaos objects after a refused start", n)
		}
	})

	// The app's pods here run no process, so the probe calls a server of the
	// test's that must keep answering (must_hold): the run's own checks.
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer healthy.Close()
	holds := map[string]any{"probe_url": healthy.URL, "probe_expect": "must_hold", "probe_window": "2s", "probe_interval": "1s", "settle": "5s"}
	with := func(extra map[string]any) map[string]any {
		out := maps.Clone(holds)
		maps.Copy(out, extra)
		return out
	}

	t.Run("RunHTTPChaos with typed parameters creates what they say, recovers and reports pass", func(t *testing.T) {
		seen := watchChaos(t, dyn, appNS)
		err := r.Execute(ctx, "demo-app", "RunHTTPChaos", with(map[string]any{"duration": "6s", "mode": "all"}))
		if err != nil {
			fail(t, "RunHTTPChaos", err)
		}
		spec := seen(time.Second)
		if spec["duration"] != "6s" || spec["mode"] != "all" || spec["path"] != "/api/orders" {
			t.Errorf("the HTTPChaos created has spec %v, want duration 6s, mode all and the deployment's path /api/orders", spec)
		}
		chaos := instance(t, r, "demo-app", "chaos")
		if v := chaos.RuntimeProperties["chaos_verdict"]; v != "pass" {
			t.Errorf("chaos_verdict = %v, want pass; chaos_last_run: %v", v, chaos.RuntimeProperties["chaos_last_run"])
		}
		if n := chaosObjects(t, dyn, appNS); n != 0 {
			t.Errorf("%d HTTPChaos objects left after the run", n)
		}
	})

	t.Run("PauseChaos, ResumeChaos and ChaosStatus act on a running RunHTTPChaos", func(t *testing.T) {
		seen := watchChaos(t, dyn, appNS)
		done := make(chan error, 1)
		go func() { done <- r.Execute(ctx, "demo-app", "RunHTTPChaos", with(map[string]any{"duration": "15s"})) }()
		if spec := seen(30 * time.Second); spec == nil {
			t.Fatalf("no HTTPChaos was created: %v", <-done)
		}
		for _, step := range []struct {
			workflow string
			paused   string
		}{{"PauseChaos", "true"}, {"ChaosStatus", "true"}, {"ResumeChaos", ""}} {
			if err := r.Execute(ctx, "demo-app", step.workflow, map[string]any{"run_id": ""}); err != nil {
				fail(t, step.workflow, err)
			}
			if got := pauseAnnotation(t, dyn, appNS); got != step.paused {
				t.Errorf("after %s the experiment's pause annotation is %q, want %q", step.workflow, got, step.paused)
			}
		}
		if _, ok := instance(t, r, "demo-app", "chaos").RuntimeProperties["chaos_status"]; !ok {
			t.Error("ChaosStatus wrote no runtime property chaos_status")
		}
		if err := <-done; err != nil {
			fail(t, "RunHTTPChaos (paused and resumed)", err)
		}
	})

	t.Run("RunHTTPChaos still takes the deprecated operation_kwargs", func(t *testing.T) {
		err := r.Execute(ctx, "demo-app", "RunHTTPChaos", map[string]any{
			"operation_kwargs": map[string]any{"duration": "3s", "probe_url": ""},
		})
		if err != nil {
			fail(t, "RunHTTPChaos", err)
		}
		if v := instance(t, r, "demo-app", "chaos").RuntimeProperties["chaos_verdict"]; v != "pass" {
			t.Errorf("chaos_verdict = %v, want pass", v)
		}
	})

	t.Run("RunChaos runs a raw manifest", func(t *testing.T) {
		manifest := fmt.Sprintf("apiVersion: chaos-mesh.org/v1alpha1\nkind: HTTPChaos\nmetadata: {name: raw}\nspec:\n  mode: one\n  selector: {namespaces: [%s], labelSelectors: {app: python-prometheus}}\n  target: Request\n  port: 8080\n  path: /\n  abort: true\n", appNS)
		if err := r.Execute(ctx, "demo-app", "RunChaos", with(map[string]any{"manifest": manifest, "duration": "3s"})); err != nil {
			fail(t, "RunChaos", err)
		}
		if v := instance(t, r, "demo-app", "chaos").RuntimeProperties["chaos_verdict"]; v != "pass" {
			t.Errorf("chaos_verdict = %v, want pass", v)
		}
	})

	t.Run("ReapChaos with nothing left succeeds", func(t *testing.T) {
		if err := r.Execute(ctx, "demo-app", "ReapChaos", map[string]any{"run_id": "", "force_cleanup": false}); err != nil {
			fail(t, "ReapChaos", err)
		}
	})
	t.Run("HaltAllChaos over the app's namespace succeeds", func(t *testing.T) {
		if err := r.Execute(ctx, "demo-app", "HaltAllChaos", map[string]any{"namespace": appNS, "force_cleanup": false}); err != nil {
			fail(t, "HaltAllChaos", err)
		}
	})
	t.Run("every workflow of the bundle was run", func(t *testing.T) {
		ran := map[string]bool{}
		for _, name := range []string{"demo", "demo-app", "demo-monitoring", "demo-chaos-mesh"} {
			for _, ex := range executions(t, r, name) {
				ran[ex.Workflow] = true
			}
		}
		bp, err := loadBundled(tree, "Python-Prometheus")
		if err != nil {
			t.Fatal(err)
		}
		for name, w := range bp.Workflows {
			if !w.Builtin && !ran[name] {
				t.Errorf("workflow %s of Python-Prometheus is not run by this test", name)
			}
		}
	})

	t.Run("uninstall removes every object the bundle created", func(t *testing.T) {
		applied := inventories(t, r, "demo-monitoring", "demo-app", "demo-chaos-mesh")
		if len(applied) < 20 {
			t.Fatalf("only %d objects in the inventories: %v", len(applied), applied)
		}
		if err := r.Uninstall(context.WithoutCancel(ctx), "demo"); err != nil {
			fail(t, "uninstall", err)
		}
		if list, _ := r.Store.List(); len(list) != 0 {
			t.Errorf("%d local deployments left", len(list))
		}
		mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))
		for _, o := range applied {
			m, err := mapper.RESTMapping(schema.GroupKind{Group: o.Group, Kind: o.Kind}, o.Version)
			if meta.IsNoMatchError(err) {
				continue // its CRD is gone, and so is every object of it
			}
			if err != nil {
				t.Fatalf("%s: %v", o, err)
			}
			_, err = dyn.Resource(m.Resource).Namespace(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
			if !apierrors.IsNotFound(err) {
				t.Errorf("%s is still there (err %v)", o, err)
			}
		}
		secrets, err := cs.CoreV1().Secrets(chaosNS).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
		if err != nil || len(secrets.Items) != 0 {
			t.Errorf("helm release records left in %s: %v (err %v)", chaosNS, len(secrets.Items), err)
		}
		crd := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
		if _, err := dyn.Resource(crd).Get(ctx, "servicemonitors.monitoring.coreos.com", metav1.GetOptions{}); err != nil {
			t.Errorf("the test control plane's ServiceMonitor CRD is gone: %v", err)
		}
	})
}

// bundleTree lays the blueprints out as a manager holds uploaded ones: a
// folder per blueprint id, side by side, so a component finds its child
// by id. Each folder links to the real folder's entries; Prometheus-Operator
// also gets the kube-prometheus fixture, and Local-Cluster stands in for
// AKS-Azure-TFM.
func bundleTree(t *testing.T, root string) string {
	t.Helper()
	tree := t.TempDir()
	mirror := func(src, dst string) {
		entries, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if err := os.Symlink(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, id := range bundleIDs {
		mirror(filepath.Join(root, "blueprints", id), filepath.Join(tree, id))
	}
	mirror(filepath.Join(root, "examples", "local-demo", "Local-Cluster"), filepath.Join(tree, "Local-Cluster"))
	fixture := filepath.Join(root, "manifests", "kube-prometheus", "fixture")
	if err := os.Symlink(fixture, filepath.Join(tree, "Prometheus-Operator", "fixture")); err != nil {
		t.Fatal(err)
	}
	return tree
}

// startLoadBalancerStandIn is a STAND-IN for a cloud provider's load
// balancer controller: it publishes ingress on every LoadBalancer Service
// of ns that has none, as AKS does with an ip and AWS with a hostname.
// The returned function stops it.
func startLoadBalancerStandIn(t *testing.T, cs kubernetes.Interface, ns string, ingress corev1.LoadBalancerIngress) func() {
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			list, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue // the namespace may not exist yet
			}
			for i := range list.Items {
				svc := &list.Items[i]
				if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || len(svc.Status.LoadBalancer.Ingress) > 0 {
					continue
				}
				svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{ingress}
				if _, err := cs.CoreV1().Services(ns).UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil && !errors.Is(err, context.Canceled) {
					t.Logf("load balancer stand-in: Service/%s/%s: %v", ns, svc.Name, err)
				}
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// appliedObject is one kubernetes_inventory entry.
type appliedObject struct {
	Group, Version, Kind, Namespace, Name string
}

func (o appliedObject) String() string {
	return fmt.Sprintf("%s/%s/%s", o.Kind, o.Namespace, o.Name)
}

// inventories collects what kubernetes.apply recorded in the deployments.
func inventories(t *testing.T, r *local.Runner, deployments ...string) []appliedObject {
	t.Helper()
	var out []appliedObject
	for _, name := range deployments {
		d, err := r.Store.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, inst := range d.Instances {
			inv, _ := inst.RuntimeProperties["kubernetes_inventory"].(map[string]any)
			entries, _ := inv["entries"].([]any)
			for _, e := range entries {
				m, _ := e.(map[string]any)
				str := func(k string) string { s, _ := m[k].(string); return s }
				out = append(out, appliedObject{str("group"), str("version"), str("kind"), str("namespace"), str("name")})
			}
		}
	}
	return out
}

func instance(t *testing.T, r *local.Runner, deployment, node string) *local.NodeInstance {
	t.Helper()
	d, err := r.Store.Load(deployment)
	if err != nil {
		t.Fatal(err)
	}
	for _, inst := range d.Instances {
		if inst.Node == node {
			return inst
		}
	}
	t.Fatalf("deployment %s has no node %s", deployment, node)
	return nil
}

func chaosObjects(t *testing.T, dyn dynamic.Interface, ns string) int {
	t.Helper()
	gvr := schema.GroupVersionResource{Group: "chaos-mesh.org", Version: "v1alpha1", Resource: "httpchaos"}
	list, err := dyn.Resource(gvr).Namespace(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=chaosops"})
	if err != nil {
		t.Fatal(err)
	}
	return len(list.Items)
}

func randomSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func executions(t *testing.T, r *local.Runner, deployment string) []*local.Execution {
	t.Helper()
	d, err := r.Store.Load(deployment)
	if err != nil {
		t.Fatal(err)
	}
	return d.Executions
}

func loadBundled(tree, id string) (*blueprint.Blueprint, error) {
	return blueprint.LoadWith(filepath.Join(tree, id, "blueprint.yaml"), blueprint.LoadOptions{Bundled: launcher.BundledFiles})
}

// watchChaos watches ns for chaosops' HTTPChaos objects; the returned
// function waits up to a given time for the first one created and returns
// its spec (nil when none came).
func watchChaos(t *testing.T, dyn dynamic.Interface, ns string) func(time.Duration) map[string]any {
	t.Helper()
	gvr := schema.GroupVersionResource{Group: "chaos-mesh.org", Version: "v1alpha1", Resource: "httpchaos"}
	w, err := dyn.Resource(gvr).Namespace(ns).Watch(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=chaosops"})
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan map[string]any, 1)
	go func() {
		for ev := range w.ResultChan() {
			if u, ok := ev.Object.(*unstructured.Unstructured); ok && ev.Type == watch.Added {
				spec, _, _ := unstructured.NestedMap(u.Object, "spec")
				first <- spec
				return
			}
		}
	}()
	t.Cleanup(w.Stop)
	return func(wait time.Duration) map[string]any {
		select {
		case spec := <-first:
			return spec
		case <-time.After(wait):
			return nil
		}
	}
}

// pauseAnnotation is Chaos Mesh's pause annotation on the HTTPChaos in ns.
func pauseAnnotation(t *testing.T, dyn dynamic.Interface, ns string) string {
	t.Helper()
	gvr := schema.GroupVersionResource{Group: "chaos-mesh.org", Version: "v1alpha1", Resource: "httpchaos"}
	list, err := dyn.Resource(gvr).Namespace(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=chaosops"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("want one HTTPChaos in %s: %v (%d)", ns, err, len(list.Items))
	}
	return list.Items[0].GetAnnotations()["experiment.chaos-mesh.org/pause"]
}
