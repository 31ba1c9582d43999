package kube

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPlan(t *testing.T) {
	c := newCluster(t)
	objs := c.objects(t, "app.yaml", appYAML)
	t.Run("the plan lists every object without writing anything", func(t *testing.T) {
		inv, err := c.mgr.Plan(t.Context(), objs, ApplyOptions{DefaultNamespace: c.ns})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range inv.Entries {
			got = append(got, e.Ref()+" uid="+e.UID)
		}
		want := []string{"ConfigMap/" + c.ns + "/settings uid=", "Secret/" + c.ns + "/creds uid=", "Service/" + c.ns + "/web uid=", "Deployment/" + c.ns + "/web uid="}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("plan (-want +got):\n%s", diff)
		}
		if c.get(t, configMaps, c.ns, "settings") != nil {
			t.Error("Plan wrote an object")
		}
	})
	t.Run("objects of a plan whose apply never returned are deleted when ours", func(t *testing.T) {
		planned, err := c.mgr.Plan(t.Context(), objs, ApplyOptions{DefaultNamespace: c.ns})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.mgr.Apply(t.Context(), objs, ApplyOptions{DefaultNamespace: c.ns}); err != nil {
			t.Fatal(err)
		}
		res, err := c.mgr.Delete(t.Context(), DeleteOptions{Inventory: &planned, Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if n := res.ChangeSet.Count(Deleted); n != 4 {
			t.Errorf("%d deleted, want 4:\n%s", n, res.ChangeSet)
		}
	})
	t.Run("a plan of bad input fails like Apply", func(t *testing.T) {
		_, err := c.mgr.Plan(t.Context(), c.objects(t, "bad.yaml", "apiVersion: example.com/v1\nkind: Gizmo\nmetadata: {name: g}\n"), ApplyOptions{DefaultNamespace: c.ns})
		mustContain(t, err, "Gizmo/g from bad.yaml:1 (document 1): resolve failed")
	})
}
