package helm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// testenvManager is the field manager scripts/testenv.sh applies the
// pinned CRDs with: "another field manager" for these tests.
const testenvManager = "chaosops-testenv"

// The pinned Chaos Mesh CRDs the tests put into charts. The control plane
// and other test packages share them: the tests never change their
// content (a chart holds them byte for byte) and never delete them, and
// only forcedCRD is ever taken over, so that leftCRDs keep their managers.
var (
	leftCRDs  = []string{"awschaos.chaos-mesh.org", "gcpchaos.chaos-mesh.org"}
	forcedCRD = "blockchaos.chaos-mesh.org"
)

// chaosMeshCRD returns the document of the pinned Chaos Mesh CRD file
// whose metadata.name is name, byte for byte.
func chaosMeshCRD(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.SharedDir(t), "crds", "chaos-mesh-crd.yaml"))
	if err != nil {
		t.Fatalf("pinned CRDs: %v (set CHAOSOPS_SHARED_DIR to the dir holding crds/)", err)
	}
	for _, doc := range strings.Split(string(b), "\n---\n") {
		if strings.Contains(doc, "\n  name: "+name+"\n") {
			return strings.TrimPrefix(doc, "---\n") + "\n"
		}
	}
	t.Fatalf("no CRD %s in the pinned Chaos Mesh CRDs", name)
	return ""
}

// testCRD is a CRD of a group of the test's own (CRDs are cluster-scoped
// and outlive the namespace), deleted when the test ends. description is
// its schema's description, a field another manager can hold.
func testCRD(t *testing.T, c *cluster, plural, description string) (name, text string) {
	t.Helper()
	group := c.ns + ".helmtest.chaosops.dev"
	kind := strings.ToUpper(plural[:1]) + strings.TrimSuffix(plural[1:], "s")
	name = plural + "." + group
	text = fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %s
spec:
  group: %s
  scope: Namespaced
  names: {plural: %s, singular: %s, kind: %s, listKind: %sList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          description: %s
          type: object
          x-kubernetes-preserve-unknown-fields: true
`, name, group, plural, strings.TrimSuffix(plural, "s"), kind, kind, description)
	dyn := c.dynamic(t)
	t.Cleanup(func() {
		err := dyn.Resource(crdGVR).Delete(context.WithoutCancel(t.Context()), name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete CRD %s: %v", name, err)
		}
	})
	return name, text
}

// crdChart writes a chart chaosops-crds 0.2.0 into a temporary folder: the
// given CRD documents in crds/, one file each, and a ConfigMap
// <release>-settings.
func crdChart(t *testing.T, crds ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "chaosops-crds")
	files := map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: chaosops-crds\ndescription: A chart with CRDs for the tests of package helm\nversion: 0.2.0\nappVersion: \"2.8.3\"\n",
		"templates/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n" +
			"  greeting: {{ .Values.greeting | default \"hello\" | quote }}\n",
	}
	for i, crd := range crds {
		files[fmt.Sprintf("crds/crd-%d.yaml", i)] = crd
	}
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func (c *cluster) dynamic(t testing.TB) dynamic.Interface {
	t.Helper()
	dyn, err := dynamic.NewForConfig(c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dyn
}

// crd reads a CRD; nil when it does not exist.
func (c *cluster) crd(t testing.TB, name string) *unstructured.Unstructured {
	t.Helper()
	obj, err := c.dynamic(t).Resource(crdGVR).Get(context.WithoutCancel(t.Context()), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// fieldManagers lists the managers of obj's fields (not its status),
// sorted.
func fieldManagers(obj *unstructured.Unstructured) []string {
	var out []string
	for _, mf := range obj.GetManagedFields() {
		if mf.Subresource == "" && !slices.Contains(out, mf.Manager) {
			out = append(out, mf.Manager)
		}
	}
	slices.Sort(out)
	return out
}

// applyAs server-side applies the CRD text with another field manager.
func (c *cluster) applyAs(t *testing.T, manager, text string) {
	t.Helper()
	var obj unstructured.Unstructured
	if err := yaml.Unmarshal([]byte(text), &obj.Object); err != nil {
		t.Fatal(err)
	}
	_, err := c.dynamic(t).Resource(crdGVR).Apply(t.Context(), obj.GetName(), &obj, metav1.ApplyOptions{FieldManager: manager})
	if err != nil {
		t.Fatalf("apply %s as %s: %v", obj.GetName(), manager, err)
	}
}

func schemaDescription(obj *unstructured.Unstructured) string {
	versions, _, _ := unstructured.NestedSlice(obj.Object, "spec", "versions")
	if len(versions) == 0 {
		return ""
	}
	v, _ := versions[0].(map[string]any)
	d, _, _ := unstructured.NestedString(v, "schema", "openAPIV3Schema", "description")
	return d
}

func TestInstallChartCRDs(t *testing.T) {
	c := newCluster(t)
	install := func(t *testing.T, name, dir string, edit func(*Release)) {
		t.Helper()
		r := Release{Name: name, Namespace: c.ns, Chart: dir, Timeout: DefaultTimeout}
		if edit != nil {
			edit(&r)
		}
		if st := c.install(t, r); st.Status != "deployed" {
			t.Fatalf("status %+v", st)
		}
		if !c.configMapExists(t, name+"-settings") {
			t.Errorf("the release's ConfigMap %s-settings was not created", name)
		}
	}

	t.Run("by default CRDs another field manager applied are left as they are and missing ones are created", func(t *testing.T) {
		before := map[string]*unstructured.Unstructured{}
		var docs []string
		for _, name := range leftCRDs {
			obj := c.crd(t, name)
			if obj == nil || !slices.Contains(fieldManagers(obj), testenvManager) {
				t.Fatalf("the control plane's CRD %s is missing or not applied by %s", name, testenvManager)
			}
			before[name] = obj
			docs = append(docs, chaosMeshCRD(t, name))
		}
		newCRD, text := testCRD(t, c, "gizmos", "the chart's")
		install(t, "left", crdChart(t, append(docs, text)...), nil)
		// Other test packages may apply these CRDs meanwhile, with their own
		// field managers and the same content: the generation stays, and
		// helm never becomes one of the managers.
		for name, was := range before {
			now := c.crd(t, name)
			if now.GetGeneration() != was.GetGeneration() {
				t.Errorf("CRD %s changed: generation %d, was %d", name, now.GetGeneration(), was.GetGeneration())
			}
			if got := fieldManagers(now); slices.Contains(got, "helm") || !slices.Contains(got, testenvManager) {
				t.Errorf("CRD %s field managers %v, want %s's without helm", name, got, testenvManager)
			}
		}
		if obj := c.crd(t, newCRD); obj == nil || !slices.Equal(fieldManagers(obj), []string{"helm"}) {
			t.Errorf("the missing CRD %s was not created by field manager helm: %v", newCRD, obj)
		}
		log := c.logs.String()
		for _, want := range []string{
			"left 2 existing CRDs as they are (Helm's rule; force_conflicts: true takes them over): ",
			"CustomResourceDefinition/awschaos.chaos-mesh.org (managed by ", testenvManager,
			"created 1 CRDs: CustomResourceDefinition/" + newCRD,
		} {
			if !strings.Contains(log, want) {
				t.Errorf("log lacks %q:\n%s", want, log)
			}
		}
	})

	// A CRD of our own whose content differs from the chart's, so that
	// server-side apply has a real conflict (Helm v4 alone fails on it).
	conflicted, theirs := testCRD(t, c, "gadgets", "another team's")
	_, ours := testCRD(t, c, "gadgets", "the chart's")
	c.applyAs(t, "another-team", theirs)
	conflictChart := crdChart(t, ours, chaosMeshCRD(t, forcedCRD))

	t.Run("by default a CRD whose fields another manager owns with other values is left alone", func(t *testing.T) {
		was := c.crd(t, conflicted)
		forcedWas := c.crd(t, forcedCRD)
		install(t, "kept", conflictChart, nil)
		now := c.crd(t, conflicted)
		if d := schemaDescription(now); d != "another team's" || now.GetGeneration() != was.GetGeneration() {
			t.Errorf("CRD %s changed: description %q, generation %d (was %d)", conflicted, d, now.GetGeneration(), was.GetGeneration())
		}
		if got := fieldManagers(now); !slices.Equal(got, []string{"another-team"}) {
			t.Errorf("field managers %v, want [another-team]", got)
		}
		// helm may manage it already: earlier runs took it over.
		if now := c.crd(t, forcedCRD); now.GetGeneration() != forcedWas.GetGeneration() {
			t.Errorf("CRD %s changed: generation %d (was %d)", forcedCRD, now.GetGeneration(), forcedWas.GetGeneration())
		}
		if want := "CustomResourceDefinition/" + conflicted + " (managed by another-team)"; !strings.Contains(c.logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, c.logs)
		}
	})

	t.Run("force_conflicts takes existing CRDs over", func(t *testing.T) {
		install(t, "forced", conflictChart, func(r *Release) { r.ForceConflicts = true })
		now := c.crd(t, conflicted)
		if d := schemaDescription(now); d != "the chart's" {
			t.Errorf("CRD %s description %q, want the chart's", conflicted, d)
		}
		if !slices.Contains(fieldManagers(now), "helm") {
			t.Errorf("CRD %s field managers %v, want helm among them", conflicted, fieldManagers(now))
		}
		// The shared CRD gets the same content, so only the ownership moves.
		if got := fieldManagers(c.crd(t, forcedCRD)); !slices.Contains(got, "helm") {
			t.Errorf("CRD %s field managers %v, want helm among them", forcedCRD, got)
		}
		if want := "force_conflicts: taking over 2 existing CRDs: "; !strings.Contains(c.logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, c.logs)
		}
	})

	t.Run("skip_crds creates no CRD, not even a missing one", func(t *testing.T) {
		missing, text := testCRD(t, c, "doodads", "the chart's")
		install(t, "skipped", crdChart(t, text), func(r *Release) { r.SkipCRDs = true })
		if obj := c.crd(t, missing); obj != nil {
			t.Errorf("CRD %s was created", missing)
		}
		if want := "skip_crds: not applying the chart's CRD files chaosops-crds/crds/crd-0.yaml"; !strings.Contains(c.logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, c.logs)
		}
	})
}
