package kube

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ApplyOptions tunes Apply. The zero value applies with the defaults, does
// not prune and does not wait for readiness.
type ApplyOptions struct {
	// DefaultNamespace is set on namespaced objects that have none; default
	// the client's namespace (kubeconfig context), else "default".
	DefaultNamespace string
	// FieldManager names us in managedFields; default FieldManager.
	FieldManager string
	// ForceConflicts takes over fields owned by another field manager
	// instead of failing with a conflict.
	ForceConflicts bool
	// DryRun sends every request as a server-side dry run: the API server
	// validates and defaults but persists nothing. Nothing is pruned or
	// waited for, and the result inventory is the previous one.
	DryRun bool
	// Wait waits, after applying and pruning, until every applied object is
	// ready (see Manager.Wait; CRDs: Established) and pruned objects are
	// gone. Without Wait, Apply returns once everything is applied; a CRD
	// is then only waited for when custom resources of the same input need
	// it, like kubectl apply, which does not wait for CRDs either.
	Wait bool
	// Timeout bounds each wait: for new CRDs to be Established, for
	// readiness, for pruned objects to be gone; default DefaultTimeout.
	Timeout time.Duration
	// Inventory is the inventory returned by the previous Apply, if any.
	Inventory *Inventory
	// Prune deletes the objects of Inventory that are no longer in the
	// input (only those still having the UID recorded there).
	Prune bool
	// Concurrency is how many objects of one tier are applied at once;
	// default DefaultConcurrency.
	Concurrency int
}

func (o ApplyOptions) withDefaults() (ApplyOptions, error) {
	if o.Timeout < 0 {
		return o, failure.Invalidf("timeout", "%s is negative; use e.g. 5m", o.Timeout)
	}
	if o.Concurrency < 0 {
		return o, failure.Invalidf("concurrency", "%d is negative; use e.g. %d", o.Concurrency, DefaultConcurrency)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.FieldManager == "" {
		o.FieldManager = FieldManager
	}
	return o, nil
}

// ApplyResult is what Apply did. Apply returns it with its error too, so
// that what was applied before a failure or cancellation is never lost.
type ApplyResult struct {
	// ChangeSet has one entry per object applied, by tier then input
	// order, followed by the pruned objects.
	ChangeSet ChangeSet `json:"changeSet"`
	// Inventory is what to store for the next Apply or Delete: the applied
	// objects and, when Apply failed midway, also every entry of the
	// previous inventory not yet dealt with (so nothing is forgotten).
	Inventory Inventory `json:"inventory"`
	// DryRun is true when nothing was persisted.
	DryRun bool `json:"dryRun,omitempty"`
}

// Apply server-side-applies objs in tiers: Namespaces and other
// definitions (PriorityClass, StorageClass, RuntimeClass) first; then the
// other objects in parallel, with the CRDs alongside them and each custom
// resource of an input CRD waiting until that CRD is Established; admission
// webhooks last. It then prunes (Prune) and waits (Wait).
//
// Before writing anything it maps every kind and checks scopes, duplicates
// and that the namespaces used exist, so bad input fails with nothing
// applied. Each object's entry says whether it was created, configured or
// left unchanged; an up-to-date object is not written at all (see
// HashAnnotation), so re-applying bumps no generation. On failure or
// cancellation the result still lists what was applied, and its inventory
// keeps the previous entries.
func (m *Manager) Apply(ctx context.Context, objs []manifest.Object, opts ApplyOptions) (*ApplyResult, error) {
	res := &ApplyResult{DryRun: opts.DryRun, Inventory: mergeInventories(opts.Inventory, nil)}
	opts, err := opts.withDefaults()
	if err != nil {
		return res, err
	}
	if len(objs) == 0 && opts.Prune && opts.Inventory.Len() > 0 {
		// An empty source is more often a mistake (a template that rendered
		// to nothing) than a wish to delete everything.
		return res, failure.Invalidf("source", "has no objects; refusing to prune all %d objects of the inventory (use delete to remove them)", opts.Inventory.Len())
	}
	start := time.Now()
	items, err := m.resolve(ctx, objs, opts.DefaultNamespace, false)
	if err == nil {
		err = m.checkNamespaces(ctx, items)
	}
	m.log.Debug(fmt.Sprintf("resolved %d object(s) in %s", len(objs), time.Since(start).Round(time.Millisecond)))
	if err != nil {
		return res, interrupted(ctx, "apply", err)
	}

	run := newApplyRun(m, opts, items)
	err = run.applyTiers(ctx)
	res.ChangeSet = run.changeSet()
	if opts.DryRun {
		if err == nil && opts.Prune {
			var pruned []ChangeSetEntry
			pruned, _, err = m.prune(ctx, items, opts)
			res.ChangeSet.Entries = append(res.ChangeSet.Entries, pruned...)
		}
		return res, interrupted(ctx, "apply", err)
	}
	if err != nil {
		res.Inventory = mergeInventories(opts.Inventory, run.inventory())
		return res, interrupted(ctx, "apply", err)
	}

	kept := run.inventory()
	var pruned []ChangeSetEntry
	if opts.Prune {
		var left []InventoryEntry
		pruned, left, err = m.prune(ctx, items, opts)
		res.ChangeSet.Entries = append(res.ChangeSet.Entries, pruned...)
		kept = append(kept, left...)
	} else {
		// Not pruned, so still ours: a later Delete must find them.
		kept = append(kept, staleEntries(opts.Inventory, items)...)
	}
	res.Inventory = Inventory{Entries: kept}
	if err != nil {
		return res, interrupted(ctx, "apply", err)
	}
	if opts.Wait {
		err = run.waitReady(ctx, res, pruned)
	}
	return res, interrupted(ctx, "apply", err)
}

// applyRun is the state of one Apply.
type applyRun struct {
	m     *Manager
	opts  ApplyOptions
	items []*item

	mu      sync.Mutex
	index   map[*item]int                // item → position in items
	prev    map[objKey]InventoryEntry    // the previous inventory
	entries []*ChangeSetEntry            // by item index; nil: not applied
	lives   []*unstructured.Unstructured // state after apply, by item index
	gens    []int64                      // generation after apply, by item index
	rvs     []string                     // resourceVersion after apply, by item index
	gates   map[string]*crdGate          // by CRD name
	listed  map[listKey]listed           // known objects as listed; nil: not listed
	skips   []*skip                      // by item index; nil: read and compare
}

func newApplyRun(m *Manager, opts ApplyOptions, items []*item) *applyRun {
	index := map[*item]int{}
	for i, it := range items {
		index[it] = i
	}
	prev := map[objKey]InventoryEntry{}
	if opts.Inventory != nil {
		for _, e := range opts.Inventory.Entries {
			prev[e.key()] = e
		}
	}
	return &applyRun{m: m, opts: opts, items: items, index: index, prev: prev,
		gens:    make([]int64, len(items)),
		rvs:     make([]string, len(items)),
		skips:   make([]*skip, len(items)),
		entries: make([]*ChangeSetEntry, len(items)),
		lives:   make([]*unstructured.Unstructured, len(items)),
		gates:   map[string]*crdGate{}}
}

// applyTiers applies the tiers in order. CRDs, though definitions, are
// applied alongside the ordinary objects: only their custom resources need
// them, and those wait for their own CRD's gate. This overlaps the API
// server's slowest work (creating and establishing large CRDs) with the
// rest of the apply.
func (r *applyRun) applyTiers(ctx context.Context) error {
	var defs, crdItems, objects, webhooks []*item
	for _, it := range r.items {
		switch {
		case it.gvk.GroupKind() == crdGK:
			crdItems = append(crdItems, it)
		case it.tier == tierDefinitions:
			defs = append(defs, it)
		case it.tier == tierObjects:
			objects = append(objects, it)
		default:
			webhooks = append(webhooks, it)
		}
	}
	r.prepareGates(crdItems)
	r.listKnown(ctx)
	r.decideSkips()
	if err := r.applyBatch(ctx, "definitions", defs); err != nil {
		return err
	}
	crdCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	crdDone := make(chan error, 1)
	go func() { crdDone <- r.applyCRDs(crdCtx, crdItems) }()
	err := r.applyBatch(ctx, "objects", objects)
	if err != nil {
		cancel()
	}
	if crdErr := <-crdDone; crdErr != nil && err == nil {
		err = crdErr
	}
	if err != nil {
		return err
	}
	if err := r.applyBatch(ctx, "webhooks", webhooks); err != nil {
		return err
	}
	for i, it := range r.items {
		if it.gvk.GroupKind() == crdGK && !r.opts.DryRun && r.entries[i].Action != Unchanged {
			// Later calls (Wait, Delete, the next Apply) see the new kinds.
			r.m.client.Reset()
			break
		}
	}
	return nil
}

// applyBatch applies items in parallel and records their entries.
func (r *applyRun) applyBatch(ctx context.Context, what string, batch []*item) error {
	if len(batch) == 0 {
		return nil
	}
	start := time.Now()
	err := forEach(ctx, batch, r.opts.Concurrency, func(ctx context.Context, it *item) error {
		if r.skipped(it) {
			// Unchanged, so it does not need its CRD.
			_, _, err := r.applyAndRecord(ctx, it)
			return err
		}
		if err := r.awaitCRD(ctx, it); err != nil {
			return err
		}
		_, _, err := r.applyAndRecord(ctx, it)
		return err
	})
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		r.m.log.Debug(fmt.Sprintf("%s: %d object(s) in %s", what, len(batch), time.Since(start).Round(time.Millisecond)))
	}
	return err
}

// applyAndRecord applies one item and stores its entry and live state.
func (r *applyRun) applyAndRecord(ctx context.Context, it *item) (*ChangeSetEntry, *unstructured.Unstructured, error) {
	e, live, gen, rv, err := r.applyOne(ctx, it)
	if err != nil {
		return nil, nil, err
	}
	r.mu.Lock()
	i := r.index[it]
	r.entries[i], r.lives[i], r.gens[i], r.rvs[i] = e, live, gen, rv
	r.mu.Unlock()
	return e, live, nil
}

// applyOne reads the live object, skips it when up to date, else applies
// it and tells created, configured and unchanged apart by the
// resourceVersion (or, in a dry run, by content). It returns the entry,
// the object as now live (nil when only its metadata was read) and its
// generation and resourceVersion.
func (r *applyRun) applyOne(ctx context.Context, it *item) (*ChangeSetEntry, *unstructured.Unstructured, int64, string, error) {
	ri := r.m.itemResource(it)
	name := it.obj.GetName()
	if s := r.skips[r.index[it]]; s != nil {
		e := it.entry(Unchanged, s.live)
		e.UID = string(s.meta.UID)
		r.m.log.Debug(it.ref + " unchanged")
		return &e, s.live, s.meta.Generation, s.meta.ResourceVersion, nil
	}
	var live *unstructured.Unstructured
	isNew := r.mustBeNew(it)
	if !isNew {
		if pm := r.unchangedByMetadata(ctx, it); pm != nil {
			e := it.entry(Unchanged, nil)
			e.UID = string(pm.UID)
			r.m.log.Debug(it.ref + " unchanged")
			return &e, nil, pm.Generation, pm.ResourceVersion, nil
		}
		if l, ok := r.listed[it.listKey()]; ok && l.live != nil {
			// Listed in full just now: no need to read it again.
			live = l.live
		} else {
			got, err := ri.Get(ctx, name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				return nil, nil, 0, "", it.fail("get", err)
			default:
				live = got
			}
		}
	}
	if live != nil && upToDate(it.obj, live, it.hash, r.opts.FieldManager, r.prev[it.key()].Generation, it.genTracksSpec()) {
		e := it.entry(Unchanged, live)
		r.m.log.Debug(it.ref + " unchanged")
		return &e, live, live.GetGeneration(), live.GetResourceVersion(), nil
	}
	if isNew && r.opts.DryRun {
		// Its namespace or CRD was only dry-run, so the API server cannot
		// check it.
		e := it.entry(Created, nil)
		r.m.log.Warn(it.ref + " created (dry run; not checked by the API server: its namespace or CustomResourceDefinition does not exist yet)")
		return &e, nil, 0, "", nil
	}
	ao := metav1.ApplyOptions{FieldManager: r.opts.FieldManager, Force: r.opts.ForceConflicts}
	if r.opts.DryRun {
		ao.DryRun = []string{metav1.DryRunAll}
	}
	out, err := ri.Apply(ctx, name, it.obj, ao)
	if err != nil {
		return nil, nil, 0, "", it.fail("apply", err)
	}
	action := Configured
	switch {
	case live == nil:
		action = Created
	case r.opts.DryRun && equalForDiff(live, out):
		action = Unchanged
	case !r.opts.DryRun && out.GetResourceVersion() == live.GetResourceVersion():
		action = Unchanged
	}
	e := it.entry(action, out)
	if r.opts.DryRun && action == Created {
		e.UID = ""
	}
	msg := it.ref + " " + string(action)
	if r.opts.DryRun {
		msg += " (dry run)"
	}
	// Per-object lines are Debug: callers render the ChangeSet.
	r.m.log.Debug(msg)
	return &e, out, out.GetGeneration(), out.GetResourceVersion(), nil
}

// skipped reports whether decideSkips found it unchanged.
func (r *applyRun) skipped(it *item) bool { return r.skips[r.index[it]] != nil }

// mustBeNew is true for an object that cannot exist yet, so there is
// nothing to read: its namespace or its CRD was created by this run.
// Outside a dry run the created container is real, so this only skips
// needless GETs; in a dry run it also avoids reading from a namespace or
// resource that does not exist.
func (r *applyRun) mustBeNew(it *item) bool {
	for i, c := range r.items {
		gk := c.gvk.GroupKind()
		isCRD := it.crd != "" && gk == crdGK && c.obj.GetName() == it.crd
		isNS := it.namespaced && gk == (schema.GroupKind{Kind: "Namespace"}) && c.obj.GetName() == it.obj.GetNamespace()
		if !isCRD && !isNS {
			continue
		}
		r.mu.Lock()
		e := r.entries[i]
		r.mu.Unlock()
		if e != nil && e.Action == Created {
			return true
		}
	}
	return false
}

// changeSet returns the entries of applied objects, by tier then input order.
func (r *applyRun) changeSet() ChangeSet {
	cs := ChangeSet{Entries: []ChangeSetEntry{}}
	for tier := range numTiers {
		for i, it := range r.items {
			if it.tier == tier && r.entries[i] != nil {
				cs.Entries = append(cs.Entries, *r.entries[i])
			}
		}
	}
	return cs
}

// inventory lists the applied objects by tier, then input order.
func (r *applyRun) inventory() []InventoryEntry {
	var out []InventoryEntry
	for tier := range numTiers {
		for i, it := range r.items {
			if e := r.entries[i]; it.tier == tier && e != nil && e.UID != "" {
				ie := it.inventoryEntry(e.UID)
				ie.Generation = r.gens[i]
				ie.ResourceVersion = r.rvs[i]
				ie.Hash = it.hash
				out = append(out, ie)
			}
		}
	}
	return out
}

// waitReady waits for the applied objects to be ready and the pruned ones
// to be gone, then refreshes the status fields of the change set.
func (r *applyRun) waitReady(ctx context.Context, res *ApplyResult, pruned []ChangeSetEntry) error {
	var targets []waitTarget
	var slots []int
	for i, it := range r.items {
		if r.entries[i] == nil {
			continue
		}
		targets = append(targets, waitTarget{ref: it.ref, ri: r.m.itemResource(it), name: it.obj.GetName(), last: r.lives[i]})
		slots = append(slots, i)
	}
	start := time.Now()
	finals, err := r.m.waitAll(ctx, targets, readyCheck, r.opts.Timeout, "wait")
	for k, i := range slots {
		if finals[k] != nil {
			r.entries[i].Status = statusFields(finals[k])
		}
	}
	res.ChangeSet = r.changeSet()
	res.ChangeSet.Entries = append(res.ChangeSet.Entries, pruned...)
	if err != nil {
		return err
	}
	r.m.log.Info(fmt.Sprintf("%d object(s) ready after %s", len(targets), time.Since(start).Round(time.Millisecond)))
	if len(pruned) > 0 {
		return r.m.waitGone(ctx, pruned, r.opts.Timeout)
	}
	return nil
}
