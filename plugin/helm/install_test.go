package helm

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

func TestInstallUpgradeUninstall(t *testing.T) {
	c := newCluster(t)
	ns := c.ns
	wantResources := []string{"ConfigMap/" + ns + "/demo-settings", "Deployment/" + ns + "/demo-web", "Widget/" + ns + "/demo-widget"}
	var edited string

	t.Run("install creates the release, its objects and its record", func(t *testing.T) {
		st := c.install(t, c.release(map[string]any{"greeting": "hi"}))
		want := &Status{Name: "demo", Namespace: ns, Revision: 1, Status: "deployed", ChartName: "chaosops-demo", ChartVersion: "0.1.0",
			AppVersion: "1.0.0", Changed: true, Resources: wantResources}
		if d := cmp.Diff(want, st); d != "" {
			t.Fatalf("status (-want +got):\n%s", d)
		}
		if g := c.greeting(t, "demo"); g != "hi" {
			t.Errorf("greeting %q, want hi", g)
		}
		if r := c.records(t, "demo"); !slices.Equal(r, []string{"sh.helm.release.v1.demo.v1"}) {
			t.Errorf("records %v", r)
		}
	})
	t.Run("installing the same chart and values again changes nothing", func(t *testing.T) {
		// Numbers from YAML (int) and from JSON (float64) are the same value.
		st := c.install(t, c.release(map[string]any{"greeting": "hi"}))
		if st.Changed || st.Revision != 1 || st.Status != "deployed" {
			t.Fatalf("status %+v, want revision 1 unchanged", st)
		}
		if !strings.Contains(c.logs.String(), "up to date at revision 1") {
			t.Errorf("log lacks the up-to-date line:\n%s", c.logs)
		}
	})
	t.Run("changed values upgrade to revision 2", func(t *testing.T) {
		st := c.install(t, c.release(map[string]any{"greeting": "bye", "replicas": 2}))
		if !st.Changed || st.Revision != 2 || st.Status != "deployed" {
			t.Fatalf("status %+v, want revision 2 deployed", st)
		}
		if g := c.greeting(t, "demo"); g != "bye" {
			t.Errorf("greeting %q, want bye", g)
		}
		if !strings.Contains(c.logs.String(), "the values changed") {
			t.Errorf("log lacks the reason:\n%s", c.logs)
		}
	})
	t.Run("integer values compare equal to the stored JSON numbers", func(t *testing.T) {
		st := c.install(t, c.release(map[string]any{"greeting": "bye", "replicas": float64(2)}))
		if st.Changed || st.Revision != 2 {
			t.Fatalf("status %+v, want revision 2 unchanged", st)
		}
	})
	t.Run("an edited chart with the same version upgrades", func(t *testing.T) {
		edited = copyChart(t)
		appendFile(t, filepath.Join(edited, "templates", "configmap.yaml"), "  edited: \"yes\"\n")
		r := c.release(map[string]any{"greeting": "bye", "replicas": 2})
		r.Chart = edited
		st := c.install(t, r)
		if !st.Changed || st.Revision != 3 {
			t.Fatalf("status %+v, want revision 3", st)
		}
		if !strings.Contains(c.logs.String(), "the chart changed") {
			t.Errorf("log lacks the reason:\n%s", c.logs)
		}
	})
	t.Run("uninstall removes every object and every record", func(t *testing.T) {
		st, err := Uninstall(t.Context(), c.cfg, "demo", ns, true, time.Minute, c.log)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Changed || st.Revision != 3 || st.Status != "uninstalled" {
			t.Errorf("status %+v", st)
		}
		dyn, err := dynamic.NewForConfig(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []struct {
			gvr  schema.GroupVersionResource
			name string
		}{
			{schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, "demo-settings"},
			{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, "demo-web"},
			{schema.GroupVersionResource{Group: "helmtest.chaosops.dev", Version: "v1", Resource: "widgets"}, "demo-widget"},
		} {
			if _, err := dyn.Resource(o.gvr).Namespace(ns).Get(t.Context(), o.name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("%s %s: %v, want NotFound", o.gvr.Resource, o.name, err)
			}
		}
		// Foreground deletion: the Deployment went only after its pods.
		pods, err := c.cs.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=demo-web"})
		if err != nil || len(pods.Items) != 0 {
			t.Errorf("pods left: %d (%v)", len(pods.Items), err)
		}
		if r := c.records(t, "demo"); len(r) != 0 {
			t.Errorf("records left: %v", r)
		}
	})
	t.Run("uninstalling an absent release succeeds and changes nothing", func(t *testing.T) {
		st, err := Uninstall(t.Context(), c.cfg, "demo", ns, true, time.Minute, c.log)
		if err != nil {
			t.Fatal(err)
		}
		if st.Changed {
			t.Errorf("status %+v, want unchanged", st)
		}
	})
	t.Run("get of an absent release says not found", func(t *testing.T) {
		if _, err := Get(t.Context(), c.cfg, "demo", ns, c.log); err == nil || !strings.Contains(err.Error(), ErrNotFound.Error()) {
			t.Errorf("Get: %v, want %v", err, ErrNotFound)
		}
	})
}

func TestInstallRefusesBadInputBeforeCreatingAnything(t *testing.T) {
	c := newCluster(t)
	tgz, sum := packageChart(t, demoChart)
	wrongSum := strings.Repeat("0", 64)
	for _, tc := range []struct {
		name  string
		edit  func(*Release)
		field string
		want  string
	}{
		{"a missing release name", func(r *Release) { r.Name = "" }, "release", "is required"},
		{"a release name with capitals", func(r *Release) { r.Name = "Demo_1" }, "release", "not a valid release name"},
		{"a missing namespace", func(r *Release) { r.Namespace = "" }, "namespace", "is required"},
		{"a missing chart", func(r *Release) { r.Chart = "" }, "chart", "is required"},
		{"a chart path that does not exist", func(r *Release) { r.Chart = "testdata/nothing" }, "chart", "testdata/nothing: no such chart"},
		{"a folder that is no chart", func(r *Release) { r.Chart = "testdata" }, "chart", "not a valid chart"},
		{"a sha256 for a chart directory", func(r *Release) { r.ChartSHA256 = sum }, "chart_sha256", "is a directory"},
		{"a version the chart does not have", func(r *Release) { r.Version = "9.9.9" }, "version", "is version 0.1.0, not 9.9.9"},
		{"a local .tgz whose sha256 differs", func(r *Release) { r.Chart, r.ChartSHA256 = tgz, wrongSum }, "chart_sha256", "expected " + wrongSum},
		{"a sha256 that is not hex", func(r *Release) { r.Chart, r.ChartSHA256 = tgz, "abc" }, "chart_sha256", "64 hex digits"},
		{"a plain http URL", func(r *Release) { r.Chart, r.ChartSHA256 = "http://example.invalid/c.tgz", sum }, "chart", "no http://"},
		{"a URL without sha256", func(r *Release) { r.Chart = "https://example.invalid/c.tgz" }, "chart_sha256", "is required for a chart URL"},
		{"an OCI reference", func(r *Release) { r.Chart = "oci://example.invalid/charts/demo" }, "chart", "no oci://"},
		{"a negative timeout", func(r *Release) { r.Timeout = -time.Second }, "timeout", "must not be negative"},
		{"values that JSON cannot hold", func(r *Release) { r.Values = map[string]any{"f": func() {}} }, "values", "cannot be stored"},
	} {
		t.Run(tc.name+" is refused naming "+tc.field, func(t *testing.T) {
			r := c.release(nil)
			r.CacheDir = t.TempDir()
			tc.edit(&r)
			_, err := Install(t.Context(), c.cfg, r, c.log)
			if !failure.IsInvalid(err) || !strings.HasPrefix(err.Error(), tc.field+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want an InvalidError starting %q and containing %q", err, tc.field+": ", tc.want)
			}
			if r := c.records(t, "demo"); len(r) != 0 {
				t.Errorf("records created: %v", r)
			}
			if c.configMapExists(t, "demo-settings") {
				t.Error("the ConfigMap was created")
			}
		})
	}
	t.Run("a local .tgz with its sha256 installs", func(t *testing.T) {
		r := c.release(nil)
		r.Chart, r.ChartSHA256, r.Version = tgz, "sha256:"+strings.ToUpper(sum), "0.1.0"
		if st := c.install(t, r); st.Revision != 1 || st.ChartVersion != "0.1.0" {
			t.Errorf("status %+v", st)
		}
	})
}
