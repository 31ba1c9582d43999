package kube

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
)

func TestApplyPrunes(t *testing.T) {
	c := newCluster(t)
	two := `apiVersion: v1
kind: ConfigMap
metadata: {name: keep}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: drop}
`
	one := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep}\n"
	apply := func(t *testing.T, text string, opts ApplyOptions) *ApplyResult {
		t.Helper()
		opts.DefaultNamespace = c.ns
		res, err := c.mgr.Apply(t.Context(), c.objects(t, "app.yaml", text), opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	t.Run("objects that left the source are pruned", func(t *testing.T) {
		first := apply(t, two, ApplyOptions{})
		res := apply(t, one, ApplyOptions{Inventory: &first.Inventory, Prune: true, Wait: true, Timeout: time.Minute})
		want := []string{"ConfigMap/" + c.ns + "/keep unchanged", "ConfigMap/" + c.ns + "/drop deleted"}
		if diff := cmp.Diff(want, refs(res.ChangeSet)); diff != "" {
			t.Errorf("change set (-want +got):\n%s", diff)
		}
		if c.get(t, configMaps, c.ns, "drop") != nil {
			t.Error("drop still exists")
		}
		if len(res.Inventory.Entries) != 1 || res.Inventory.Entries[0].Name != "keep" {
			t.Errorf("inventory = %+v, want only keep", res.Inventory)
		}
	})
	t.Run("an empty source does not prune everything", func(t *testing.T) {
		first := apply(t, two, ApplyOptions{})
		_, err := c.mgr.Apply(t.Context(), nil, ApplyOptions{DefaultNamespace: c.ns, Inventory: &first.Inventory, Prune: true})
		mustContain(t, err, "source: has no objects; refusing to prune all 2 objects")
		if c.get(t, configMaps, c.ns, "drop") == nil {
			t.Error("drop was deleted")
		}
	})
	t.Run("with prune off objects that left the source stay, and stay in the inventory", func(t *testing.T) {
		first := apply(t, two, ApplyOptions{})
		res := apply(t, one, ApplyOptions{Inventory: &first.Inventory, Prune: false})
		if c.get(t, configMaps, c.ns, "drop") == nil {
			t.Error("drop was deleted")
		}
		if len(res.Inventory.Entries) != 2 {
			t.Errorf("inventory = %+v, want keep and drop", res.Inventory)
		}
	})
	t.Run("an object recreated by someone else is not pruned", func(t *testing.T) {
		first := apply(t, two, ApplyOptions{})
		stale := first.Inventory
		stale.Entries = append([]InventoryEntry(nil), stale.Entries...)
		stale.Entries[1].UID = string(types.UID("00000000-0000-0000-0000-000000000000"))
		res := apply(t, one, ApplyOptions{Inventory: &stale, Prune: true})
		if c.get(t, configMaps, c.ns, "drop") == nil {
			t.Fatal("drop was deleted although its UID differs from the inventory's")
		}
		if got := res.ChangeSet.Entries[1]; got.Action != Skipped || !strings.Contains(got.Message, "not the object we applied") {
			t.Errorf("entry = %s, want skipped", got)
		}
		if len(res.Inventory.Entries) != 1 {
			t.Errorf("inventory = %+v, want the skipped object forgotten", res.Inventory)
		}
	})
}
