package kube

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

func TestDelete(t *testing.T) {
	c := newCluster(t)
	applied, err := c.mgr.Apply(t.Context(), c.objects(t, "app.yaml", appYAML), ApplyOptions{DefaultNamespace: c.ns})
	if err != nil {
		t.Fatal(err)
	}
	inv := applied.Inventory

	t.Run("deleting an inventory deletes its objects and waits until they are gone", func(t *testing.T) {
		res, err := c.mgr.Delete(t.Context(), DeleteOptions{Inventory: &inv, Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if n := res.ChangeSet.Count(Deleted); n != 4 {
			t.Errorf("%d deleted, want 4:\n%s", n, res.ChangeSet)
		}
		if c.get(t, deployments, c.ns, "web") != nil || c.get(t, configMaps, c.ns, "settings") != nil {
			t.Error("objects still exist after Delete returned")
		}
		if res.Inventory.Len() != 0 {
			t.Errorf("inventory left = %+v, want empty", res.Inventory)
		}
	})
	t.Run("deleting objects that are already gone succeeds", func(t *testing.T) {
		res, err := c.mgr.Delete(t.Context(), DeleteOptions{Inventory: &inv, Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.ChangeSet.Entries {
			if e.Action != Deleted || e.Message != "already gone" {
				t.Errorf("entry = %s, want deleted: already gone", e)
			}
		}
	})
}

func TestDeleteWaitsForFinalizers(t *testing.T) {
	c := newCluster(t)
	applied, err := c.mgr.Apply(t.Context(), c.objects(t, "held.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: held
  finalizers: [example.com/hold]
`), ApplyOptions{DefaultNamespace: c.ns})
	if err != nil {
		t.Fatal(err)
	}
	release := func() {
		patch := []byte(`{"metadata":{"finalizers":null}}`)
		_, err := c.client.Dynamic.Resource(configMaps).Namespace(c.ns).Patch(context.WithoutCancel(t.Context()), "held", types.MergePatchType, patch, metav1.PatchOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("remove finalizer: %v", err)
		}
	}
	defer release()

	t.Run("an object held by a finalizer is reported with the finalizer at the timeout", func(t *testing.T) {
		res, err := c.mgr.Delete(t.Context(), DeleteOptions{Inventory: &applied.Inventory, Timeout: 2 * time.Second})
		mustContain(t, err, "timed out after 2s waiting for 1 object(s) to be deleted",
			"ConfigMap/"+c.ns+"/held: Present: deletion requested at", "held by finalizers example.com/hold")
		if diff := cmp.Diff(applied.Inventory, res.Inventory); diff != "" {
			t.Errorf("inventory left (-want +got):\n%s", diff)
		}
	})
	t.Run("the delete waits until the finalizer is removed", func(t *testing.T) {
		time.AfterFunc(time.Second, release)
		start := time.Now()
		res, err := c.mgr.Delete(t.Context(), DeleteOptions{Inventory: &applied.Inventory, Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < time.Second {
			t.Errorf("returned after %s, before the finalizer was removed", d)
		}
		if c.get(t, configMaps, c.ns, "held") != nil {
			t.Error("held still exists")
		}
		if res.Inventory.Len() != 0 {
			t.Errorf("inventory left = %+v", res.Inventory)
		}
	})
}

func TestDeleteOnlyWhatIsOurs(t *testing.T) {
	c := newCluster(t)
	theirs := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "theirs", "namespace": c.ns},
	}}
	if _, err := c.client.Dynamic.Resource(configMaps).Namespace(c.ns).Create(t.Context(), theirs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	src := c.objects(t, "app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ours}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: theirs}\n")
	if _, err := c.mgr.Apply(t.Context(), src[:1], ApplyOptions{DefaultNamespace: c.ns}); err != nil {
		t.Fatal(err)
	}

	t.Run("deleting the objects of a source skips those we did not apply", func(t *testing.T) {
		res, err := c.mgr.Delete(t.Context(), DeleteOptions{Objects: src, DefaultNamespace: c.ns, Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"ConfigMap/" + c.ns + "/ours deleted", "ConfigMap/" + c.ns + "/theirs skipped"}
		if diff := cmp.Diff(want, refs(res.ChangeSet)); diff != "" {
			t.Errorf("change set (-want +got):\n%s", diff)
		}
		if c.get(t, configMaps, c.ns, "theirs") == nil {
			t.Error("theirs was deleted")
		}
	})

	t.Run("a CRD that still defines objects we did not create is not deleted", func(t *testing.T) {
		crd, group := c.widgetCRD(t)
		res, err := c.mgr.Apply(t.Context(), c.objects(t, "crd.yaml", crd), ApplyOptions{Wait: true, Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		widgets := schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}
		foreign := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": group + "/v1", "kind": "Widget",
			"metadata": map[string]any{"name": "someone-elses", "namespace": c.ns},
		}}
		if _, err := c.client.Dynamic.Resource(widgets).Namespace(c.ns).Create(t.Context(), foreign, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		del, err := c.mgr.Delete(t.Context(), DeleteOptions{Inventory: &res.Inventory, Timeout: time.Minute})
		mustContain(t, err, "CustomResourceDefinition/widgets."+group+": delete failed", "Widget/"+c.ns+"/someone-elses", "delete them first")
		if c.get(t, crds, "", "widgets."+group) == nil {
			t.Error("the CRD was deleted")
		}
		if del.Inventory.Len() != 1 {
			t.Errorf("inventory left = %+v, want the CRD", del.Inventory)
		}
	})
}

func TestDeleteReportsNamespaceContent(t *testing.T) {
	// goneCheck explains a stuck Namespace from its conditions.
	ns := mustObject(t, `apiVersion: v1
kind: Namespace
metadata: {name: demo, deletionTimestamp: "2026-01-01T00:00:00Z", uid: u1}
status:
  conditions:
  - {type: NamespaceContentRemaining, status: "True", message: "Some resources are remaining: widgets.example.com has 1 resource instances"}
  - {type: NamespaceDeletionDiscoveryFailure, status: "False", message: "All resources successfully discovered"}`)
	v := goneCheck(waitTarget{ref: "Namespace/demo", uid: "u1"}, ns)
	if v.done || !strings.Contains(v.status.Message, "NamespaceContentRemaining: Some resources are remaining") || strings.Contains(v.status.Message, "successfully discovered") {
		t.Errorf("verdict = %+v", v)
	}
	if v := goneCheck(waitTarget{ref: "Namespace/demo", uid: "u0"}, ns); !v.done {
		t.Error("an object with another UID should count as gone")
	}
}
