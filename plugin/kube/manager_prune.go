package kube

import (
	"context"
	"time"

	k8stypes "k8s.io/apimachinery/pkg/types"
)

// prune deletes the objects of the previous inventory that are not among
// items, without waiting. It returns their entries and the inventory
// entries whose deletion failed.
func (m *Manager) prune(ctx context.Context, items []*item, opts ApplyOptions) ([]ChangeSetEntry, []InventoryEntry, error) {
	if opts.Inventory == nil {
		return nil, nil, nil
	}
	stale := staleEntries(opts.Inventory, items)
	if len(stale) == 0 {
		return nil, nil, nil
	}
	targets, err := m.inventoryTargets(ctx, stale)
	if err != nil {
		return nil, stale, err
	}
	entries, left, err := m.deleteTiers(ctx, targets, opts.FieldManager, opts.Concurrency, opts.DryRun, opts.Timeout, false)
	for i := range entries {
		if entries[i].Action == Deleted && entries[i].Message == "" {
			entries[i].Message = "pruned: no longer in the source"
		}
	}
	return entries, left, err
}

// staleEntries returns the entries of inv whose objects are not among items.
func staleEntries(inv *Inventory, items []*item) []InventoryEntry {
	if inv == nil {
		return nil
	}
	keep := map[objKey]bool{}
	for _, it := range items {
		keep[it.key()] = true
	}
	var stale []InventoryEntry
	for _, e := range inv.Entries {
		if !keep[e.key()] {
			stale = append(stale, e)
		}
	}
	return stale
}

// waitGone waits until the deleted objects among entries are gone.
func (m *Manager) waitGone(ctx context.Context, entries []ChangeSetEntry, timeout time.Duration) error {
	var wt []waitTarget
	for _, e := range entries {
		if e.Action != Deleted || e.Message == "already gone" {
			continue
		}
		inv := InventoryEntry{Group: e.Group, Version: e.Version, Kind: e.Kind, Namespace: e.Namespace, Name: e.Name}
		ri, err := m.entryResource(ctx, inv)
		if err == errKindGone {
			continue
		}
		if err != nil {
			return &ObjectError{Ref: e.Ref, Op: "wait", Err: err}
		}
		wt = append(wt, waitTarget{ref: e.Ref, ri: ri, name: e.Name, uid: k8stypes.UID(e.UID)})
	}
	_, err := m.waitAll(ctx, wt, goneCheck, timeout, "delete")
	return err
}
