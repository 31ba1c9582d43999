package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestApplyDrift(t *testing.T) {
	c := newCluster(t)
	objs := c.objects(t, "app.yaml", appYAML)
	first, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{DefaultNamespace: c.ns})
	if err != nil {
		t.Fatal(err)
	}
	// The out-of-band edits below take the fields they change over (as
	// kubectl edit does), so restoring them needs ForceConflicts.
	apply := func(t *testing.T, inv *Inventory) *ApplyResult {
		t.Helper()
		res, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{DefaultNamespace: c.ns, Inventory: inv, Prune: true, ForceConflicts: true})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	actions := func(cs ChangeSet) map[string]Action {
		out := map[string]Action{}
		for _, e := range cs.Entries {
			out[e.Ref] = e.Action
		}
		return out
	}
	allUnchanged := map[string]Action{
		"ConfigMap/" + c.ns + "/settings": Unchanged, "Secret/" + c.ns + "/creds": Unchanged,
		"Service/" + c.ns + "/web": Unchanged, "Deployment/" + c.ns + "/web": Unchanged,
	}

	t.Run("the inventory records each object's resourceVersion and applied hash", func(t *testing.T) {
		for _, e := range first.Inventory.Entries {
			if e.ResourceVersion == "" || len(e.Hash) != 64 {
				t.Errorf("%s: resourceVersion %q, hash %q", e.Ref(), e.ResourceVersion, e.Hash)
			}
		}
	})
	inv := &first.Inventory
	t.Run("re-applying unchanged objects changes nothing", func(t *testing.T) {
		res := apply(t, inv)
		if diff := cmp.Diff(allUnchanged, actions(res.ChangeSet)); diff != "" {
			t.Errorf("actions (-want +got):\n%s", diff)
		}
		inv = &res.Inventory
	})
	t.Run("objects edited out of band are re-applied and restored", func(t *testing.T) {
		c.update(t, configMaps, c.ns, "settings", func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "tampered", "data", "mode")
		})
		c.update(t, deployments, c.ns, "web", func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, int64(3), "spec", "replicas")
		})
		res := apply(t, inv)
		want := map[string]Action{}
		for k, v := range allUnchanged {
			want[k] = v
		}
		want["ConfigMap/"+c.ns+"/settings"] = Configured
		want["Deployment/"+c.ns+"/web"] = Configured
		if diff := cmp.Diff(want, actions(res.ChangeSet)); diff != "" {
			t.Errorf("actions (-want +got):\n%s", diff)
		}
		if mode, _, _ := unstructured.NestedString(c.get(t, configMaps, c.ns, "settings").Object, "data", "mode"); mode != "calm" {
			t.Errorf("ConfigMap data.mode = %q, want calm", mode)
		}
		if n, _, _ := unstructured.NestedInt64(c.get(t, deployments, c.ns, "web").Object, "spec", "replicas"); n != 1 {
			t.Errorf("Deployment spec.replicas = %d, want 1", n)
		}
		inv = &res.Inventory
	})
	t.Run("an edit that keeps our hash annotation is still detected", func(t *testing.T) {
		c.update(t, configMaps, c.ns, "settings", func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "sneaky", "data", "mode")
		})
		res := apply(t, inv)
		if got := actions(res.ChangeSet)["ConfigMap/"+c.ns+"/settings"]; got != Configured {
			t.Errorf("ConfigMap: %s, want configured", got)
		}
		if mode, _, _ := unstructured.NestedString(c.get(t, configMaps, c.ns, "settings").Object, "data", "mode"); mode != "calm" {
			t.Errorf("ConfigMap data.mode = %q, want calm", mode)
		}
		inv = &res.Inventory
	})
	t.Run("after the repair everything is unchanged again", func(t *testing.T) {
		res := apply(t, inv)
		if diff := cmp.Diff(allUnchanged, actions(res.ChangeSet)); diff != "" {
			t.Errorf("actions (-want +got):\n%s", diff)
		}
		inv = &res.Inventory
	})
	t.Run("an old inventory without resourceVersions still works and gains them", func(t *testing.T) {
		old := Inventory{}
		for _, e := range inv.Entries {
			e.ResourceVersion, e.Hash = "", ""
			old.Entries = append(old.Entries, e)
		}
		res := apply(t, &old)
		if diff := cmp.Diff(allUnchanged, actions(res.ChangeSet)); diff != "" {
			t.Errorf("actions (-want +got):\n%s", diff)
		}
		for _, e := range res.Inventory.Entries {
			if e.ResourceVersion == "" || e.Hash == "" {
				t.Errorf("%s: resourceVersion %q, hash %q", e.Ref(), e.ResourceVersion, e.Hash)
			}
		}
	})
	t.Run("drift with a stale recorded resourceVersion is re-applied too", func(t *testing.T) {
		c.update(t, configMaps, c.ns, "settings", func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "again", "data", "mode")
		})
		stale := Inventory{}
		for _, e := range inv.Entries {
			e.ResourceVersion = "1"
			stale.Entries = append(stale.Entries, e)
		}
		res := apply(t, &stale)
		if got := actions(res.ChangeSet)["ConfigMap/"+c.ns+"/settings"]; got != Configured {
			t.Errorf("ConfigMap: %s, want configured", got)
		}
	})
}
