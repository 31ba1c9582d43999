package grafana

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/kube"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
)

const testFieldManager = "chaosops-grafana-dashboards/test"

// grafanaStack is kube-prometheus' Grafana from the fixture, moved into
// the test's own namespace, applied by chaosops as the stack node does.
type grafanaStack struct {
	client *kube.Client
	mgr    *kube.Manager
	ns     string
	objs   []manifest.Object
	inv    kube.Inventory
}

// newGrafanaStack applies the Grafana objects of
// manifests/kube-prometheus/fixture/main.yaml into a new namespace and
// waits for the rollout.
func newGrafanaStack(t *testing.T) *grafanaStack {
	t.Helper()
	cfg := testenv.Config(t)
	c, err := kube.NewClient(cfg, kube.ConnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := &grafanaStack{client: c, ns: testenv.Namespace(t, cfg),
		mgr: kube.NewManager(c, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})))}
	path := filepath.Join(manifests(t), "..", "kube-prometheus", "fixture", "main.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	all, err := manifest.Parse(path, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range all {
		if strings.HasPrefix(o.GetName(), "grafana") {
			o.Unstructured = o.DeepCopy()
			o.SetNamespace(s.ns)
			s.objs = append(s.objs, o)
		}
	}
	if len(s.objs) < 5 {
		t.Fatalf("the fixture has only %d Grafana objects", len(s.objs))
	}
	s.apply(t, s.objs)
	return s
}

func (s *grafanaStack) apply(t *testing.T, objs []manifest.Object) kube.ChangeSet {
	t.Helper()
	res, err := s.mgr.Apply(t.Context(), objs, kube.ApplyOptions{Inventory: &s.inv, Wait: true, Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	s.inv = res.Inventory
	return res.ChangeSet
}

func (s *grafanaStack) deployment(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	d, err := s.client.Dynamic.Resource(deploymentsGVR).Namespace(s.ns).Get(t.Context(), "grafana", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (s *grafanaStack) configMapExists(t *testing.T, name string) bool {
	t.Helper()
	_, err := s.client.Dynamic.Resource(configMapsGVR).Namespace(s.ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// dashboardConfigMaps reads the shipped dashboard ConfigMap, moved into
// ns; extra names add copies under those names.
func dashboardConfigMaps(t *testing.T, ns string, extra ...string) []manifest.Object {
	t.Helper()
	path := filepath.Join(manifests(t), "chaosops-dashboard-configmap.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Parse(path, data, nil)
	if err != nil || len(objs) != 1 {
		t.Fatalf("%s: %v (%d objects)", path, err, len(objs))
	}
	objs[0].SetNamespace(ns)
	for _, name := range extra {
		o := objs[0]
		o.Unstructured = o.DeepCopy()
		o.SetName(name)
		objs = append(objs, o)
	}
	return objs
}

func TestInstallDashboards(t *testing.T) {
	s := newGrafanaStack(t)
	before := s.deployment(t)
	opts := DashboardOptions{Namespace: s.ns, FieldManager: testFieldManager, Wait: true, Timeout: 2 * time.Minute}
	const mount = "/grafana-dashboard-definitions/0/chaosops-dashboard"
	var inst Installation

	t.Run("install mounts the dashboard beside the stack's own", func(t *testing.T) {
		res, err := InstallDashboards(t.Context(), s.client, dashboardConfigMaps(t, s.ns), opts)
		if err != nil {
			t.Fatal(err)
		}
		inst = res.Installation
		want := []string{"ConfigMap/" + s.ns + "/chaosops-dashboard created", "Deployment/" + s.ns + "/grafana configured"}
		if diff := cmp.Diff(want, actions(res.ChangeSet)); diff != "" {
			t.Errorf("change set (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{mount}, inst.Mounts); diff != "" {
			t.Errorf("mounts (-want +got):\n%s", diff)
		}
		live := s.deployment(t)
		vol, ok := byKey(volumes(live), "name", "chaosops-dashboard")
		if !ok || vol["configMap"].(map[string]any)["name"] != "chaosops-dashboard" {
			t.Errorf("no configMap volume chaosops-dashboard: %v", volumes(live))
		}
		m, ok := byKey(mountsOf(live), "mountPath", mount)
		if !ok || m["name"] != "chaosops-dashboard" || m["readOnly"] != true {
			t.Errorf("no read-only mount of chaosops-dashboard at %s: %v", mount, mountsOf(live))
		}
		if diff := cmp.Diff(before.Object["spec"], withoutOurs(t, live).Object["spec"]); diff != "" {
			t.Errorf("the stack's part of the Deployment changed (-before +now):\n%s", diff)
		}
		if !s.configMapExists(t, "chaosops-dashboard") {
			t.Error("the dashboard ConfigMap was not applied")
		}
		if got := status(live); got != "rolled out" {
			t.Errorf("Deployment not rolled out after Wait: %s", got)
		}
	})
	if t.Failed() {
		return
	}
	t.Run("installing again changes nothing", func(t *testing.T) {
		gen := s.deployment(t).GetGeneration()
		res, err := InstallDashboards(t.Context(), s.client, dashboardConfigMaps(t, s.ns), DashboardOptions{Namespace: s.ns, Previous: &inst, Wait: true})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"ConfigMap/" + s.ns + "/chaosops-dashboard unchanged", "Deployment/" + s.ns + "/grafana unchanged"}
		if diff := cmp.Diff(want, actions(res.ChangeSet)); diff != "" {
			t.Errorf("change set (-want +got):\n%s", diff)
		}
		if res.Installation.FieldManager != testFieldManager {
			t.Errorf("field manager %q; the previous installation's %q must stay", res.Installation.FieldManager, testFieldManager)
		}
		if got := s.deployment(t).GetGeneration(); got != gen {
			t.Errorf("generation %d -> %d", gen, got)
		}
		inst = res.Installation
	})
	t.Run("re-applying the stack keeps the mount", func(t *testing.T) {
		changed := make([]manifest.Object, len(s.objs))
		for i, o := range s.objs {
			o.Unstructured = o.DeepCopy()
			if o.GetKind() == "Deployment" {
				labels := o.GetLabels()
				labels["app.kubernetes.io/version"] = "13.0.3"
				o.SetLabels(labels)
			}
			changed[i] = o
		}
		cs := s.apply(t, changed)
		if cs.Count(kube.Configured) != 1 {
			t.Fatalf("the stack's Deployment was not written again:\n%s", cs)
		}
		if _, ok := byKey(mountsOf(s.deployment(t)), "mountPath", mount); !ok {
			t.Errorf("the stack's apply removed the mount: %v", mountsOf(s.deployment(t)))
		}
	})
	t.Run("a dashboard left out of the input is unmounted, then deleted", func(t *testing.T) {
		res, err := InstallDashboards(t.Context(), s.client, dashboardConfigMaps(t, s.ns, "chaosops-extra"), DashboardOptions{Namespace: s.ns, Previous: &inst})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := byKey(mountsOf(s.deployment(t)), "name", "chaosops-extra"); !ok {
			t.Fatalf("chaosops-extra not mounted: %v", mountsOf(s.deployment(t)))
		}
		res, err = InstallDashboards(t.Context(), s.client, dashboardConfigMaps(t, s.ns), DashboardOptions{Namespace: s.ns, Previous: &res.Installation})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"ConfigMap/" + s.ns + "/chaosops-dashboard unchanged", "Deployment/" + s.ns + "/grafana configured", "ConfigMap/" + s.ns + "/chaosops-extra deleted"}
		if diff := cmp.Diff(want, actions(res.ChangeSet)); diff != "" {
			t.Errorf("change set (-want +got):\n%s", diff)
		}
		if _, ok := byKey(volumes(s.deployment(t)), "name", "chaosops-extra"); ok || s.configMapExists(t, "chaosops-extra") {
			t.Errorf("chaosops-extra still mounted or present: %v", volumes(s.deployment(t)))
		}
		if refs := refsOf(res.Installation.ConfigMaps); !slices.Equal(refs, []string{"ConfigMap/" + s.ns + "/chaosops-dashboard"}) {
			t.Errorf("installation ConfigMaps %v", refs)
		}
		inst = res.Installation
	})
	t.Run("uninstall takes the mount out, leaves the rest, deletes the ConfigMap", func(t *testing.T) {
		stack := withoutOurs(t, s.deployment(t))
		res, err := UninstallDashboards(t.Context(), s.client, inst, UninstallOptions{Wait: true, Timeout: 2 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"Deployment/" + s.ns + "/grafana configured", "ConfigMap/" + s.ns + "/chaosops-dashboard deleted"}
		if diff := cmp.Diff(want, actions(res.ChangeSet)); diff != "" {
			t.Errorf("change set (-want +got):\n%s", diff)
		}
		live := s.deployment(t)
		if diff := cmp.Diff(stack.Object["spec"], live.Object["spec"]); diff != "" {
			t.Errorf("spec after uninstall (-the stack's +now):\n%s", diff)
		}
		for _, mf := range live.GetManagedFields() {
			if mf.Manager == testFieldManager {
				t.Errorf("managedFields still list %s: %+v", testFieldManager, mf)
			}
		}
		if s.configMapExists(t, "chaosops-dashboard") {
			t.Error("the dashboard ConfigMap is still there")
		}
		if !res.Installation.Empty() {
			t.Errorf("left to uninstall: %+v", res.Installation)
		}
		if got := status(live); got != "rolled out" {
			t.Errorf("Deployment not rolled out after Wait: %s", got)
		}
	})
	t.Run("uninstalling again changes nothing", func(t *testing.T) {
		gen := s.deployment(t).GetGeneration()
		res, err := UninstallDashboards(t.Context(), s.client, inst, UninstallOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"Deployment/" + s.ns + "/grafana unchanged", "ConfigMap/" + s.ns + "/chaosops-dashboard deleted"}
		if diff := cmp.Diff(want, actions(res.ChangeSet)); diff != "" {
			t.Errorf("change set (-want +got):\n%s", diff)
		}
		if got := s.deployment(t).GetGeneration(); got != gen {
			t.Errorf("generation %d -> %d", gen, got)
		}
	})
}

func TestInstallDashboardsRefuses(t *testing.T) {
	s := newGrafanaStack(t)
	gen := s.deployment(t).GetGeneration()
	for _, tc := range []struct {
		name string
		opts DashboardOptions
		want []string
	}{
		{"a folder no file provider reads, naming the folders that are read",
			DashboardOptions{Folder: "/var/lib/grafana/dashboards"},
			[]string{"Deployment/" + s.ns + "/grafana", "dashboards_folder: /var/lib/grafana/dashboards is not read", "ConfigMap/" + s.ns + "/grafana-dashboards reads /grafana-dashboard-definitions/0"}},
		{"a container the Deployment does not have, naming those it has",
			DashboardOptions{Container: "grafana-sc-dashboard"},
			[]string{"Deployment/" + s.ns + "/grafana", `grafana_container: the Deployment has no container "grafana-sc-dashboard" (it has grafana)`}},
		{"a Deployment that does not exist",
			DashboardOptions{Deployment: "grafana-main"},
			[]string{"Deployment/" + s.ns + "/grafana-main", "not found", "grafana_deployment"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Namespace, tc.opts.FieldManager = s.ns, testFieldManager
			_, err := InstallDashboards(t.Context(), s.client, dashboardConfigMaps(t, s.ns), tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !failure.IsInvalid(err) {
				t.Errorf("not classified invalid: %v", err)
			}
			if s.configMapExists(t, "chaosops-dashboard") {
				t.Error("the ConfigMap was applied before the checks passed")
			}
			if got := s.deployment(t).GetGeneration(); got != gen {
				t.Errorf("Grafana's Deployment changed: generation %d -> %d", gen, got)
			}
		})
	}
}

func TestDashboardOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts DashboardOptions
		want string
	}{
		{"the defaults are kube-prometheus' Grafana", DashboardOptions{}, ""},
		{"a namespace must be a DNS label", DashboardOptions{Namespace: "Monitoring!"}, `grafana_namespace: "Monitoring!" is not a namespace name`},
		{"a Deployment name must be a DNS subdomain", DashboardOptions{Deployment: "Grafana_Main"}, `grafana_deployment: "Grafana_Main" is not a Deployment name`},
		{"a container name must be a DNS label", DashboardOptions{Container: "graf.ana"}, `grafana_container: "graf.ana" is not a container name`},
		{"the folder must be absolute", DashboardOptions{Folder: "grafana-dashboard-definitions/0"}, `dashboards_folder: "grafana-dashboard-definitions/0" is not a clean absolute folder`},
		{"the folder must be clean", DashboardOptions{Folder: "/grafana-dashboard-definitions/0/"}, "dashboards_folder"},
		{"the root is no folder to mount into", DashboardOptions{Folder: "/"}, "dashboards_folder"},
		{"chaosops' own field manager is refused", DashboardOptions{FieldManager: kube.FieldManager}, "the mounts need a manager of their own"},
		{"a negative timeout is refused", DashboardOptions{Timeout: -time.Second}, "timeout: -1s is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v; want one containing %q", err, tc.want)
			case tc.want != "" && !failure.IsInvalid(err):
				t.Fatalf("not classified invalid: %v", err)
			}
		})
	}
}

func TestCheckDashboards(t *testing.T) {
	parse := func(t *testing.T, text string) []manifest.Object {
		objs, err := manifest.Parse("input", []byte(text), nil)
		if err != nil {
			t.Fatal(err)
		}
		return objs
	}
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"a ConfigMap with a JSON dashboard passes and gets Grafana's namespace",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: {d.json: '{\"uid\": \"d\"}'}\n", ""},
		{"not a ConfigMap", "apiVersion: v1\nkind: Secret\nmetadata: {name: d}\n", "Secret/monitoring/d from input:1 (document 1): check failed: is not a v1 ConfigMap"},
		{"another namespace", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d, namespace: apps}\ndata: {d.json: '{}'}\n", "ConfigMap/apps/d from input:1 (document 1): check failed: is in namespace apps; Grafana's Deployment is in monitoring"},
		{"a name that cannot be a volume's", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dash.v2}\ndata: {d.json: '{}'}\n", "must be a DNS label"},
		{"no .json key", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: {d.yaml: 'a: b'}\n", "has no data key ending in .json"},
		{"a .json key that is not JSON", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: {d.json: '{unclosed'}\n", "data key d.json is not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := checkDashboards(parse(t, tc.yaml), "monitoring")
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if out[0].GetNamespace() != "monitoring" {
					t.Errorf("namespace %q, want monitoring", out[0].GetNamespace())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one containing %q", err, tc.want)
			}
			if !failure.IsInvalid(err) {
				t.Errorf("not classified invalid: %v", err)
			}
		})
	}
	t.Run("no dashboards at all", func(t *testing.T) {
		if _, err := checkDashboards(nil, "monitoring"); err == nil || !strings.Contains(err.Error(), "dashboards: none given") {
			t.Fatalf("error %v", err)
		}
	})
}

// withoutOurs returns a copy of the Deployment without the volumes and
// mounts of the chaosops dashboards: what the stack alone defines.
func withoutOurs(t *testing.T, d *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	d = d.DeepCopy()
	ours := func(m map[string]any) bool { return strings.HasPrefix(str(m["name"]), "chaosops-") }
	spec := d.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	spec["volumes"] = drop(spec["volumes"].([]any), ours)
	for _, c := range spec["containers"].([]any) {
		cm := c.(map[string]any)
		if cm["name"] == "grafana" {
			cm["volumeMounts"] = drop(cm["volumeMounts"].([]any), ours)
		}
	}
	return d
}

func drop(items []any, match func(map[string]any) bool) []any {
	out := []any{}
	for _, it := range items {
		if !match(it.(map[string]any)) {
			out = append(out, it)
		}
	}
	return out
}

func volumes(d *unstructured.Unstructured) []map[string]any {
	v, _, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "template", "spec", "volumes")
	return list(v)
}

func mountsOf(d *unstructured.Unstructured) []map[string]any {
	v, _, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "template", "spec", "containers")
	for _, c := range list(v) {
		if c["name"] == "grafana" {
			return list(c["volumeMounts"])
		}
	}
	return nil
}

func byKey(items []map[string]any, key, value string) (map[string]any, bool) {
	for _, it := range items {
		if it[key] == value {
			return it, true
		}
	}
	return nil, false
}

func actions(cs kube.ChangeSet) []string {
	out := []string{}
	for _, e := range cs.Entries {
		out = append(out, e.Ref+" "+string(e.Action))
	}
	return out
}

func refsOf(inv kube.Inventory) []string {
	var out []string
	for _, e := range inv.Entries {
		out = append(out, e.Ref())
	}
	return out
}

// status says whether the Deployment has rolled out its current spec.
func status(d *unstructured.Unstructured) string {
	observed, _, _ := unstructured.NestedInt64(d.Object, "status", "observedGeneration")
	updated, _, _ := unstructured.NestedInt64(d.Object, "status", "updatedReplicas")
	available, _, _ := unstructured.NestedInt64(d.Object, "status", "availableReplicas")
	replicas, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
	if observed == d.GetGeneration() && updated == replicas && available == replicas {
		return "rolled out"
	}
	return fmt.Sprintf("generation %d observed %d, %d/%d updated, %d available", d.GetGeneration(), observed, updated, replicas, available)
}
