package kube

import (
	"testing"
	"time"
)

func TestWait(t *testing.T) {
	c := newCluster(t)
	res, err := c.mgr.Apply(t.Context(), c.objects(t, "app.yaml", appYAML), ApplyOptions{DefaultNamespace: c.ns})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("applied objects become ready", func(t *testing.T) {
		if err := c.mgr.Wait(t.Context(), res.Inventory, WaitOptions{Timeout: time.Minute}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a missing object is reported as not found at the timeout", func(t *testing.T) {
		inv := Inventory{Entries: []InventoryEntry{{Version: "v1", Kind: "ConfigMap", Namespace: c.ns, Name: "missing"}}}
		err := c.mgr.Wait(t.Context(), inv, WaitOptions{Timeout: time.Second})
		mustContain(t, err, "ConfigMap/"+c.ns+"/missing: NotFound")
	})
}
