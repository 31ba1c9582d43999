package operations_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/helmrepo"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// helmBlueprint makes a blueprint folder holding the test chart of package
// helm packaged as charts/chaosops-demo-0.1.0.tgz and a values file.
func helmBlueprint(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ch, err := loader.Load(filepath.Join("..", "helm", "testdata", "demo"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "charts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := chartutil.Save(ch, filepath.Join(dir, "charts")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "values.yaml"), []byte("greeting: from-file\nreplicas: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestHelmInstallAndUninstallOperations(t *testing.T) {
	cfg := testenv.Config(t)
	ns := testenv.Namespace(t, cfg)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := os.ReadFile(testenv.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	blueprint := helmBlueprint(t)
	state := &scriptrunner.State{Node: scriptrunner.Node{ID: "chaos_mesh"}, Instance: scriptrunner.Instance{ID: "chaos_mesh_1"}, DeploymentID: "d", ExecutionID: "e"}
	run := func(t *testing.T, op string, inputs map[string]any) *scriptrunner.Result {
		t.Helper()
		return runAs(t, state, op, string(kubeconfig), blueprint, inputs)
	}
	install := map[string]any{
		"release": "demo", "namespace": ns, "chart": "charts/chaosops-demo-0.1.0.tgz", "version": "0.1.0",
		"values_file": "values.yaml", "values": map[string]any{"greeting": "from-input"}, "timeout": "60s",
	}
	records := func(t *testing.T) int {
		l, err := cs.CoreV1().Secrets(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "owner=helm,name=demo"})
		if err != nil {
			t.Fatal(err)
		}
		return len(l.Items)
	}

	t.Run("install fetches the chart and values file from the blueprint, waits, and records the release", func(t *testing.T) {
		res := run(t, "helm.install", maps.Clone(install))
		if res.Outcome != scriptrunner.Success {
			t.Fatalf("outcome %s: %s\n%s", res.Outcome, res.Message, chaosLogs(res))
		}
		want := map[string]any{"name": "demo", "namespace": ns, "revision": float64(1), "status": "deployed",
			"chart": "chaosops-demo", "version": "0.1.0", "app_version": "1.0.0"}
		var got map[string]any // numbers as JSON gives them back
		if err := json.Unmarshal([]byte(toJSON(state.Instance.RuntimeProperties["helm_release"])), &got); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("helm_release (-want +got):\n%s", d)
		}
		cm, err := cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "demo-settings", metav1.GetOptions{})
		if err != nil || cm.Data["greeting"] != "from-input" {
			t.Errorf("ConfigMap: %v %v; want greeting from-input (values over values_file)", cm.Data, err)
		}
		dep, err := cs.AppsV1().Deployments(ns).Get(t.Context(), "demo-web", metav1.GetOptions{})
		if err != nil || dep.Status.AvailableReplicas != 2 {
			t.Errorf("Deployment after the wait: %d available (%v), want 2 from values_file", dep.Status.AvailableReplicas, err)
		}
		if strings.Contains(toJSON(state.Instance.RuntimeProperties), "from-input") {
			t.Error("values reached the runtime properties")
		}
		if !strings.Contains(chaosLogs(res), "helm release "+ns+"/demo: installing chart chaosops-demo 0.1.0; waiting up to 1m0s") {
			t.Errorf("log lacks the install line:\n%s", chaosLogs(res))
		}
	})
	t.Run("install again with the same inputs changes nothing", func(t *testing.T) {
		res := run(t, "helm.install", maps.Clone(install))
		ret, _ := res.Returned.(map[string]any)
		if res.Outcome != scriptrunner.Success || ret["changed"] != false || fmt.Sprint(ret["revision"]) != "1" {
			t.Fatalf("outcome %s, returned %v\n%s", res.Outcome, res.Returned, chaosLogs(res))
		}
		resources, _ := ret["resources"].([]any)
		if !slices.Contains(resources, any("Deployment/"+ns+"/demo-web")) {
			t.Errorf("resources %v", resources)
		}
	})
	for _, tc := range []struct{ name, field, value, want string }{
		{"a chart missing from the blueprint fails without retry, naming chart", "chart", "charts/none.tgz", "chart: charts/none.tgz is not a file of the blueprint"},
		{"a version mismatch fails without retry, naming version", "version", "2.0.0", "version: the chart chaosops-demo is version 0.1.0"},
		{"a bad timeout fails without retry, naming timeout", "timeout", "soon", "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := maps.Clone(install)
			in[tc.field] = tc.value
			res := run(t, "helm.install", in)
			if res.Outcome != scriptrunner.Abort || !strings.Contains(res.Message, tc.want) {
				t.Fatalf("outcome %s: %s; want abort with %q", res.Outcome, res.Message, tc.want)
			}
		})
	}
	t.Run("a wait that runs out of time asks for a retry, and records the failed revision", func(t *testing.T) {
		in := maps.Clone(install)
		in["values"] = map[string]any{"nodeSelector": map[string]any{"chaosops.dev/no-such-node": "true"}}
		in["timeout"] = "2s"
		res := run(t, "helm.install", in)
		if res.Outcome != scriptrunner.Retry || !strings.Contains(res.Message, "Deployment/"+ns+"/demo-web") {
			t.Fatalf("outcome %s: %s; want a retry naming the Deployment", res.Outcome, res.Message)
		}
		if rel := state.Instance.RuntimeProperties["helm_release"].(map[string]any); rel["status"] != "failed" || fmt.Sprint(rel["revision"]) != "2" {
			t.Errorf("helm_release %v, want revision 2 failed", rel)
		}
	})
	t.Run("uninstall takes the release from helm_release and removes it", func(t *testing.T) {
		res := run(t, "helm.uninstall", map[string]any{"timeout": "60s"})
		if res.Outcome != scriptrunner.Success {
			t.Fatalf("outcome %s: %s\n%s", res.Outcome, res.Message, chaosLogs(res))
		}
		if _, err := cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "demo-settings", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("ConfigMap: %v, want NotFound", err)
		}
		if n := records(t); n != 0 {
			t.Errorf("%d release records left", n)
		}
		if st := state.Instance.RuntimeProperties["helm_release"].(map[string]any)["status"]; st != "uninstalled" {
			t.Errorf("helm_release status %v", st)
		}
	})
	t.Run("uninstall of an absent release succeeds", func(t *testing.T) {
		res := run(t, "helm.uninstall", map[string]any{"release": "demo", "namespace": ns})
		if res.Outcome != scriptrunner.Success {
			t.Fatalf("outcome %s: %s", res.Outcome, res.Message)
		}
	})
}

func TestHelmInstallFromChartRepoOperation(t *testing.T) {
	cfg := testenv.Config(t)
	ns := testenv.Namespace(t, cfg)
	kubeconfig, err := os.ReadFile(testenv.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	repoURL, caPEM := helmrepo.Serve(t, filepath.Join("..", "helm", "testdata", "demo"))
	// The repository comes from node properties, as the blueprint's
	// HelmRelease gives it; the inputs name the chart.
	props := map[string]any{"chart_repo": repoURL, "chart_ca_cert": string(caPEM)}
	run := func(t *testing.T, inputs map[string]any) *scriptrunner.Result {
		t.Helper()
		state := &scriptrunner.State{Node: scriptrunner.Node{ID: "chaos_mesh", Properties: props}, Instance: scriptrunner.Instance{ID: "chaos_mesh_1"},
			DeploymentID: "d", ExecutionID: "e"}
		inputs["release"], inputs["namespace"], inputs["timeout"] = "fromrepo", ns, "60s"
		return runAs(t, state, "helm.install", string(kubeconfig), t.TempDir(), inputs)
	}
	t.Run("chart_repo and chart_ca_cert from node properties install the chart the index lists", func(t *testing.T) {
		res := run(t, map[string]any{"chart": "chaosops-demo", "version": "0.1.0"})
		if res.Outcome != scriptrunner.Success {
			t.Fatalf("outcome %s: %s\n%s", res.Outcome, res.Message, chaosLogs(res))
		}
		if ret, _ := res.Returned.(map[string]any); ret["chart"] != "chaosops-demo" || ret["status"] != "deployed" {
			t.Errorf("returned %v", res.Returned)
		}
		// Created, or left as it is when an earlier test made it.
		if want := "CustomResourceDefinition/widgets.helmtest.chaosops.dev"; !strings.Contains(chaosLogs(res), want) {
			t.Errorf("log lacks %q:\n%s", want, chaosLogs(res))
		}
	})
	for _, tc := range []struct {
		name   string
		inputs map[string]any
		want   string
	}{
		{"chart_repo without version fails without retry, naming version", map[string]any{"chart": "chaosops-demo"}, "version: is required with chart_repo"},
		{"a version the index does not list fails naming the versions it has", map[string]any{"chart": "chaosops-demo", "version": "9.9.9"},
			"version: 9.9.9 is not in " + repoURL + "/index.yaml for chart chaosops-demo; available: 0.1.0"},
		{"a bad skip_crds fails naming it", map[string]any{"chart": "chaosops-demo", "version": "0.1.0", "skip_crds": "maybe"}, "skip_crds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, tc.inputs)
			if res.Outcome != scriptrunner.Abort || !strings.Contains(res.Message, tc.want) {
				t.Fatalf("outcome %s: %s; want abort with %q", res.Outcome, res.Message, tc.want)
			}
		})
	}
}
