package kube

import (
	"encoding/json"
	"strconv"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

// Inventory lists the objects an Apply created or took over, so that a
// later Apply can prune those that left the source and Delete can remove
// them all. Callers store it as JSON (runtime properties, --inventory file).
type Inventory struct {
	// Entries holds one entry per object, in apply order.
	Entries []InventoryEntry `json:"entries"`
}

// InventoryEntry identifies one applied object.
type InventoryEntry struct {
	// Group is the API group; empty for the core group.
	Group string `json:"group,omitempty"`
	// Version is the API version the object was applied with.
	Version string `json:"version"`
	// Kind is the object's kind.
	Kind string `json:"kind"`
	// Namespace is empty for cluster-scoped objects.
	Namespace string `json:"namespace,omitempty"`
	// Name is the object's name.
	Name string `json:"name"`
	// UID is the UID the object had when applied. Prune and Delete only
	// delete an object whose UID still matches; an entry without UID is only
	// deleted when our field manager manages the object.
	UID string `json:"uid,omitempty"`
	// Generation is the object's metadata.generation after our last apply.
	// With it, the next Apply can tell from metadata alone that a large CRD
	// is unchanged, instead of reading it in full.
	Generation int64 `json:"generation,omitempty"`
	// ResourceVersion is the object's metadata.resourceVersion after our
	// last apply, and Hash the HashAnnotation we applied. When both still
	// match, the next Apply knows from one metadata LIST per kind that
	// nobody wrote to the object since, and skips it. Inventories written
	// before these fields existed take the slower path (a read per object).
	ResourceVersion string `json:"resourceVersion,omitempty"`
	Hash            string `json:"hash,omitempty"`
}

// Ref returns the entry's Ref.
func (e InventoryEntry) Ref() string { return Ref(e.Kind, e.Namespace, e.Name) }

// key identifies an object across API versions.
func (e InventoryEntry) key() objKey {
	return objKey{Group: e.Group, Kind: e.Kind, Namespace: e.Namespace, Name: e.Name}
}

// objKey identifies an object regardless of the API version used to reach it.
type objKey struct {
	Group, Kind, Namespace, Name string
}

// ParseInventory decodes an inventory stored as JSON. Empty input is an
// empty inventory.
func ParseInventory(data []byte) (*Inventory, error) {
	inv := &Inventory{}
	if len(data) == 0 {
		return inv, nil
	}
	if err := json.Unmarshal(data, inv); err != nil {
		return nil, &failure.InvalidError{Err: err, Field: "inventory"}
	}
	return inv, nil
}

// JSON encodes the inventory for storage.
func (inv Inventory) JSON() ([]byte, error) {
	if inv.Entries == nil {
		inv.Entries = []InventoryEntry{}
	}
	return json.Marshal(inv)
}

// Len returns the number of entries; a nil inventory has none.
func (inv *Inventory) Len() int {
	if inv == nil {
		return 0
	}
	return len(inv.Entries)
}

// merge returns base with the entries of over added or replacing base's
// entries for the same object; order: base order, then new objects.
func mergeInventories(base *Inventory, over []InventoryEntry) Inventory {
	out := Inventory{Entries: []InventoryEntry{}}
	idx := map[objKey]int{}
	add := func(e InventoryEntry) {
		if i, ok := idx[e.key()]; ok {
			out.Entries[i] = e
			return
		}
		idx[e.key()] = len(out.Entries)
		out.Entries = append(out.Entries, e)
	}
	if base != nil {
		for _, e := range base.Entries {
			add(e)
		}
	}
	for _, e := range over {
		add(e)
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
