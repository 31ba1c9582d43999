package kube

import (
	"context"

	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
)

// Plan checks objs as Apply would (kinds, scopes, duplicates, defaulted
// namespaces) without writing anything, and returns the inventory Apply is
// about to create: opts.Inventory plus the objects, without UIDs. Store it
// before calling Apply, so that objects created by an Apply that never
// returns (the process is killed) can still be found; Delete and prune
// only remove an entry without UID when our field manager applied it.
func (m *Manager) Plan(ctx context.Context, objs []manifest.Object, opts ApplyOptions) (Inventory, error) {
	items, err := m.resolve(ctx, objs, opts.DefaultNamespace, false)
	if err != nil {
		return mergeInventories(opts.Inventory, nil), interrupted(ctx, "plan", err)
	}
	planned := make([]InventoryEntry, 0, len(items))
	prev := map[objKey]InventoryEntry{}
	if opts.Inventory != nil {
		for _, e := range opts.Inventory.Entries {
			prev[e.key()] = e
		}
	}
	for tier := range numTiers {
		for _, it := range items {
			if it.tier != tier {
				continue
			}
			// Keep what is known of an object that may exist already.
			e := it.inventoryEntry(prev[it.key()].UID)
			e.Generation = prev[it.key()].Generation
			planned = append(planned, e)
		}
	}
	return mergeInventories(opts.Inventory, planned), nil
}
