package kube

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestApplyChaosMeshCRDsAndAnHTTPChaosInOneCall(t *testing.T) {
	c := newCluster(t)
	crdFile := filepath.Join(testenv.SharedDir(t), "crds", "chaos-mesh-crd.yaml")
	objs, err := manifest.Load(t.Context(), []manifest.Source{
		{Path: crdFile},
		{Name: "chaos.yaml", Inline: `apiVersion: chaos-mesh.org/v1alpha1
kind: HTTPChaos
metadata: {name: abort-3f9c, namespace: ` + c.ns + `}
spec:
  mode: all
  selector: {namespaces: [` + c.ns + `]}
  target: Request
  port: 80
  path: "*"
  abort: true
  duration: 30s
`}}, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(res.ChangeSet.Entries); got != 24 {
		t.Fatalf("%d entries, want 23 CRDs and 1 HTTPChaos:\n%s", got, res.ChangeSet)
	}
	last := res.ChangeSet.Entries[23]
	if last.Ref != "HTTPChaos/"+c.ns+"/abort-3f9c" || last.Action != Created || last.Origin != "chaos.yaml:1 (document 1)" {
		t.Errorf("last entry = %+v, want the HTTPChaos created after the CRDs", last)
	}
	t.Run("re-applying changes nothing", func(t *testing.T) {
		res, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{Inventory: &res.Inventory, Prune: true})
		if err != nil {
			t.Fatal(err)
		}
		if n := res.ChangeSet.Count(Unchanged); n != 24 {
			t.Errorf("%d unchanged, want 24:\n%s", n, res.ChangeSet)
		}
	})
}

func TestApplyANewCRDAndItsCustomResourceInOneCall(t *testing.T) {
	c := newCluster(t)
	crd, group := c.widgetCRD(t)
	// The custom resource comes first in the source: tiers reorder it.
	objs := c.objects(t, "widgets.yaml", `apiVersion: `+group+`/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3}
---
`+crd)
	res, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{DefaultNamespace: c.ns})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CustomResourceDefinition/widgets." + group + " created", "Widget/" + c.ns + "/w1 created"}
	if diff := cmp.Diff(want, refs(res.ChangeSet)); diff != "" {
		t.Errorf("change set (-want +got):\n%s", diff)
	}
	w := c.get(t, schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}, c.ns, "w1")
	if w == nil {
		t.Fatal("widget not found")
	}
	if got, want := res.ChangeSet.Entries[1].Origin, "widgets.yaml:1 (document 1)"; got != want {
		t.Errorf("origin = %q, want %q", got, want)
	}
	if len(res.Inventory.Entries) != 2 || res.Inventory.Entries[1].UID != string(w.GetUID()) {
		t.Errorf("inventory = %+v, want both objects with their UIDs", res.Inventory)
	}
}

func TestReapplyCRDs(t *testing.T) {
	c := newCluster(t)
	crd, group := c.widgetCRD(t)
	name := "widgets." + group
	objs := c.objects(t, "crd.yaml", strings.Replace(crd, "  name: widgets.", "  labels: {team: chaos}\n  name: widgets.", 1))
	first, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if first.Inventory.Entries[0].Generation != 1 {
		t.Fatalf("inventory = %+v, want generation 1 recorded", first.Inventory)
	}
	reapply := func(t *testing.T) ChangeSetEntry {
		t.Helper()
		res, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{Inventory: &first.Inventory, ForceConflicts: true})
		if err != nil {
			t.Fatal(err)
		}
		return res.ChangeSet.Entries[0]
	}
	t.Run("an unchanged CRD is recognised from its metadata", func(t *testing.T) {
		if e := reapply(t); e.Action != Unchanged || e.UID != first.Inventory.Entries[0].UID {
			t.Errorf("entry = %s (uid %s), want unchanged with the same UID", e, e.UID)
		}
	})
	t.Run("a spec changed by someone else is restored", func(t *testing.T) {
		c.update(t, crds, "", name, func(live *unstructured.Unstructured) {
			versions, _, _ := unstructured.NestedSlice(live.Object, "spec", "versions")
			unstructured.SetNestedField(versions[0].(map[string]any), "edited by hand", "schema", "openAPIV3Schema", "description")
			unstructured.SetNestedSlice(live.Object, versions, "spec", "versions")
		})
		if e := reapply(t); e.Action != Configured {
			t.Errorf("entry = %s, want configured", e)
		}
		versions, _, _ := unstructured.NestedSlice(c.get(t, crds, "", name).Object, "spec", "versions")
		if d, _, _ := unstructured.NestedString(versions[0].(map[string]any), "schema", "openAPIV3Schema", "description"); d != "" {
			t.Errorf("description = %q, want it removed", d)
		}
	})
	t.Run("a label removed by someone else is restored", func(t *testing.T) {
		c.update(t, crds, "", name, func(live *unstructured.Unstructured) { live.SetLabels(nil) })
		if e := reapply(t); e.Action != Configured {
			t.Errorf("entry = %s, want configured", e)
		}
		if got := c.get(t, crds, "", name).GetLabels()["team"]; got != "chaos" {
			t.Errorf("label team = %q, want chaos", got)
		}
	})
}
