package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// DeleteOptions tunes Delete. Set Inventory, or Objects when there is no
// inventory.
type DeleteOptions struct {
	// Inventory lists the objects to delete, as returned by Apply. Only an
	// object that still has the recorded UID is deleted.
	Inventory *Inventory
	// Objects are the objects of a source to delete when there is no
	// inventory. Only objects our field manager applied are deleted; the
	// others are reported as skipped.
	Objects []manifest.Object
	// DefaultNamespace is the namespace of namespaced Objects without one;
	// default as in ApplyOptions.
	DefaultNamespace string
	// FieldManager is the field manager that must have applied an object
	// found through Objects; default FieldManager.
	FieldManager string
	// DryRun sends the deletes as server-side dry runs and does not wait.
	DryRun bool
	// Timeout bounds the wait for each tier's objects to be gone; default
	// DefaultTimeout.
	Timeout time.Duration
	// Concurrency is how many objects are deleted at once; default
	// DefaultConcurrency.
	Concurrency int
}

// DeleteResult is what Delete did. Delete returns it with its error too.
type DeleteResult struct {
	// ChangeSet has one entry per object: deleted (also when it was
	// already gone) or skipped (not ours; Message says why).
	ChangeSet ChangeSet `json:"changeSet"`
	// Inventory lists what is left to delete: objects whose deletion failed
	// or did not finish. Empty after a complete delete.
	Inventory Inventory `json:"inventory"`
	// DryRun is true when nothing was deleted.
	DryRun bool `json:"dryRun,omitempty"`
}

// delTarget is one object to delete.
type delTarget struct {
	entry  InventoryEntry
	ref    string
	origin string
	tier   int
	ri     dynamic.ResourceInterface // nil: the kind is not served (CRD gone)
	// owned requires our field manager to manage the object (no UID known).
	owned bool
}

// Delete deletes objects in reverse tier order (webhooks, then ordinary
// objects, then CRDs and Namespaces) with foreground propagation, and after
// each tier waits until its objects are gone. Objects already gone count
// as deleted, so Delete can be repeated. A CRD that still has custom
// resources we did not create is not deleted (that would delete them too).
// When objects are still there at the timeout, the *NotReadyError names
// each one and the finalizers holding it.
func (m *Manager) Delete(ctx context.Context, opts DeleteOptions) (*DeleteResult, error) {
	res := &DeleteResult{DryRun: opts.DryRun, Inventory: mergeInventories(opts.Inventory, nil)}
	if opts.Timeout < 0 {
		return res, failure.Invalidf("timeout", "%s is negative; use e.g. 5m", opts.Timeout)
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.FieldManager == "" {
		opts.FieldManager = FieldManager
	}
	var targets []*delTarget
	if opts.Inventory != nil {
		if len(opts.Objects) > 0 {
			return res, failure.Invalidf("delete", "set an inventory or objects, not both")
		}
		var err error
		if targets, err = m.inventoryTargets(ctx, opts.Inventory.Entries); err != nil {
			return res, interrupted(ctx, "delete", err)
		}
	} else {
		items, err := m.resolve(ctx, opts.Objects, opts.DefaultNamespace, true)
		if err != nil {
			return res, interrupted(ctx, "delete", err)
		}
		for _, it := range items {
			t := &delTarget{entry: it.inventoryEntry(""), ref: it.ref, origin: it.origin, tier: it.tier, owned: true}
			if !it.gvr.Empty() {
				t.ri = m.itemResource(it)
			}
			targets = append(targets, t)
		}
	}
	entries, left, err := m.deleteTiers(ctx, targets, opts.FieldManager, opts.Concurrency, opts.DryRun, opts.Timeout, true)
	res.ChangeSet = ChangeSet{Entries: entries}
	if !opts.DryRun {
		res.Inventory = Inventory{Entries: left}
	}
	return res, interrupted(ctx, "delete", err)
}

// inventoryTargets maps inventory entries to delete targets.
func (m *Manager) inventoryTargets(ctx context.Context, entries []InventoryEntry) ([]*delTarget, error) {
	var out []*delTarget
	for _, e := range entries {
		t := &delTarget{entry: e, ref: e.Ref(), tier: tierOf(schemaGK(e)), owned: e.UID == ""}
		ri, err := m.entryResource(ctx, e)
		switch {
		case err == errKindGone:
		case err != nil:
			return nil, &ObjectError{Ref: t.ref, Op: "delete", Err: err}
		default:
			t.ri = ri
		}
		out = append(out, t)
	}
	return out, nil
}

// deleteTiers deletes targets tier by tier, highest first. With wait it
// waits after each tier until its objects are gone and stops at the first
// tier that fails. It returns the entries and the inventory entries left.
func (m *Manager) deleteTiers(ctx context.Context, targets []*delTarget, manager string, n int, dryRun bool, timeout time.Duration, wait bool) ([]ChangeSetEntry, []InventoryEntry, error) {
	entries := make([]*ChangeSetEntry, len(targets))
	deleted := make([]*unstructured.Unstructured, len(targets))
	done := make([]bool, len(targets)) // deleted, gone or not ours: drop from inventory
	keys := map[objKey]bool{}
	for _, t := range targets {
		keys[t.entry.key()] = true
	}
	var err error
	for tier := numTiers - 1; tier >= 0 && err == nil; tier-- {
		var idx []int
		for i, t := range targets {
			if t.tier == tier {
				idx = append(idx, i)
			}
		}
		var mu sync.Mutex
		var errs []error
		sem := make(chan struct{}, n)
		var wg sync.WaitGroup
		for _, i := range idx {
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				e, obj, gone, derr := m.deleteOne(ctx, targets[i], manager, dryRun, keys)
				mu.Lock()
				defer mu.Unlock()
				if derr != nil {
					errs = append(errs, derr)
					return
				}
				entries[i], deleted[i], done[i] = e, obj, gone || e.Action == Skipped
			})
		}
		wg.Wait()
		if len(errs) > 0 {
			err = joinSorted(errs)
			break
		}
		if err = ctx.Err(); err != nil {
			break
		}
		if !wait || dryRun {
			for _, i := range idx {
				if deleted[i] != nil {
					done[i] = true
				}
			}
			continue
		}
		var wt []waitTarget
		var slots []int
		for _, i := range idx {
			if obj := deleted[i]; obj != nil {
				wt = append(wt, waitTarget{ref: targets[i].ref, ri: targets[i].ri, name: obj.GetName(), uid: obj.GetUID(), last: obj})
				slots = append(slots, i)
			}
		}
		if len(wt) == 0 {
			continue
		}
		start := time.Now()
		finals, werr := m.waitAll(ctx, wt, goneCheck, timeout, "delete")
		for k, i := range slots {
			if goneCheck(wt[k], finals[k]).done {
				done[i] = true
			}
		}
		if werr != nil {
			err = werr
			break
		}
		m.log.Info(fmt.Sprintf("%d object(s) gone after %s", len(wt), time.Since(start).Round(time.Millisecond)))
	}
	var out []ChangeSetEntry
	for tier := numTiers - 1; tier >= 0; tier-- {
		for i, t := range targets {
			if t.tier == tier && entries[i] != nil {
				out = append(out, *entries[i])
			}
		}
	}
	var left []InventoryEntry
	for i, t := range targets {
		if !done[i] {
			left = append(left, t.entry)
		}
	}
	return out, left, err
}

// deleteOne deletes one object if it is ours. It returns its entry, the
// object as marked for deletion (nil when there is nothing to wait for),
// and whether it is already gone.
func (m *Manager) deleteOne(ctx context.Context, t *delTarget, manager string, dryRun bool, keys map[objKey]bool) (*ChangeSetEntry, *unstructured.Unstructured, bool, error) {
	e := &ChangeSetEntry{Ref: t.ref, Group: t.entry.Group, Version: t.entry.Version, Kind: t.entry.Kind,
		Namespace: t.entry.Namespace, Name: t.entry.Name, UID: t.entry.UID, Action: Deleted, Origin: t.origin}
	fail := func(err error) error { return &ObjectError{Ref: t.ref, Origin: t.origin, Op: "delete", Err: err} }
	if t.ri == nil {
		e.Message = "already gone"
		return e, nil, true, nil
	}
	live, err := t.ri.Get(ctx, t.entry.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		e.Message = "already gone"
		return e, nil, true, nil
	}
	if err != nil {
		return nil, nil, false, fail(err)
	}
	if t.entry.UID != "" && live.GetUID() != k8stypes.UID(t.entry.UID) {
		e.Action, e.Message = Skipped, fmt.Sprintf("not deleted: its UID is %s, not %s as recorded, so it is not the object we applied", live.GetUID(), t.entry.UID)
		m.log.Warn(t.ref + " " + e.Message)
		return e, nil, false, nil
	}
	if t.owned && !managedBy(live, manager) {
		e.Action, e.Message = Skipped, fmt.Sprintf("not deleted: field manager %q did not apply it", manager)
		m.log.Warn(t.ref + " " + e.Message)
		return e, nil, false, nil
	}
	if live.GroupVersionKind().GroupKind() == crdGK {
		if blocker, err := m.foreignInstances(ctx, live, keys); err != nil {
			return nil, nil, false, fail(err)
		} else if blocker != "" {
			return nil, nil, false, fail(&failure.InvalidError{Err: fmt.Errorf("it still defines objects we did not create (%s), which deleting it would delete too; delete them first", blocker)})
		}
	}
	uid := live.GetUID()
	do := metav1.DeleteOptions{
		Preconditions:     &metav1.Preconditions{UID: &uid},
		PropagationPolicy: ptr(metav1.DeletePropagationForeground),
	}
	if dryRun {
		do.DryRun = []string{metav1.DryRunAll}
	}
	if err := t.ri.Delete(ctx, t.entry.Name, do); err != nil {
		if apierrors.IsNotFound(err) {
			e.Message = "already gone"
			return e, nil, true, nil
		}
		// A precondition failure means it was replaced by another object.
		if apierrors.IsConflict(err) {
			e.Action, e.Message = Skipped, "not deleted: replaced by another object while deleting"
			return e, nil, false, nil
		}
		return nil, nil, false, fail(err)
	}
	e.UID = string(uid)
	msg := t.ref + " deleted"
	if dryRun {
		msg += " (dry run)"
	}
	m.log.Debug(msg)
	return e, live, false, nil
}

// foreignInstances returns a few refs of custom resources of crd that are
// not in keys, or "" when there are none.
func (m *Manager) foreignInstances(ctx context.Context, crd *unstructured.Unstructured, keys map[objKey]bool) (string, error) {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	version := ""
	for _, v := range versions {
		vm, _ := v.(map[string]any)
		if served, _ := vm["served"].(bool); served {
			version, _ = vm["name"].(string)
			break
		}
	}
	if version == "" {
		return "", nil
	}
	list, err := m.client.Dynamic.Resource(schema.GroupVersionResource{Group: group, Version: version, Resource: plural}).
		List(ctx, metav1.ListOptions{Limit: 500})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("list %s: %w", plural, err)
	}
	var foreign []string
	for _, o := range list.Items {
		if !keys[objKey{Group: group, Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()}] {
			foreign = append(foreign, Ref(kind, o.GetNamespace(), o.GetName()))
		}
	}
	if len(foreign) == 0 {
		return "", nil
	}
	sort.Strings(foreign)
	more := ""
	if len(foreign) > 3 {
		more = fmt.Sprintf(" and %d more", len(foreign)-3)
		foreign = foreign[:3]
	}
	return strings.Join(foreign, ", ") + more, nil
}

// managedBy reports whether manager has applied obj.
func managedBy(obj *unstructured.Unstructured, manager string) bool {
	for _, mf := range obj.GetManagedFields() {
		if mf.Manager == manager && mf.Operation == metav1.ManagedFieldsOperationApply {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }

// joinSorted joins errors in the order of their messages, so that errors
// from parallel work read the same on every run.
func joinSorted(errs []error) error {
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}
