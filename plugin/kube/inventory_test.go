package kube

import (
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/google/go-cmp/cmp"
)

func TestInventory(t *testing.T) {
	a := InventoryEntry{Version: "v1", Kind: "ConfigMap", Namespace: "demo", Name: "a", UID: "u1"}
	b := InventoryEntry{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "demo", Name: "b", UID: "u2"}
	t.Run("an inventory survives a JSON round trip", func(t *testing.T) {
		inv := Inventory{Entries: []InventoryEntry{a, b}}
		data, err := inv.JSON()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseInventory(data)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(inv, *got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	})
	t.Run("the JSON uses lower-case field names and omits empty group and namespace", func(t *testing.T) {
		data, _ := Inventory{Entries: []InventoryEntry{{Version: "v1", Kind: "Namespace", Name: "demo", UID: "u"}}}.JSON()
		if got, want := string(data), `{"entries":[{"version":"v1","kind":"Namespace","name":"demo","uid":"u"}]}`; got != want {
			t.Errorf("JSON = %s, want %s", got, want)
		}
	})
	t.Run("an empty stored value is an empty inventory", func(t *testing.T) {
		inv, err := ParseInventory(nil)
		if err != nil || inv.Len() != 0 {
			t.Errorf("ParseInventory(nil) = %v, %v", inv, err)
		}
	})
	t.Run("a corrupt stored value is invalid input", func(t *testing.T) {
		_, err := ParseInventory([]byte("{"))
		if !failure.IsInvalid(err) {
			t.Errorf("error %v is not invalid input", err)
		}
	})
	t.Run("merging keeps the old order and replaces entries of the same object", func(t *testing.T) {
		a2 := a
		a2.UID, a2.Version = "u3", "v1"
		c := InventoryEntry{Version: "v1", Kind: "Secret", Namespace: "demo", Name: "c", UID: "u4"}
		got := mergeInventories(&Inventory{Entries: []InventoryEntry{a, b}}, []InventoryEntry{c, a2})
		want := Inventory{Entries: []InventoryEntry{a2, b, c}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("merge (-want +got):\n%s", diff)
		}
	})
}
