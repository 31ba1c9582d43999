package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// PatchOptions tunes Patch and Unpatch.
type PatchOptions struct {
	// FieldManager owns the patched fields. It is required and must not be
	// FieldManager: a patch is a partial object, and server-side apply
	// removes every field a manager stops applying, so a patch under the
	// manager that applied the whole object would strip the rest of it.
	FieldManager string
	// DefaultNamespace is set on namespaced objects that have none; default
	// as in ApplyOptions.
	DefaultNamespace string
	// ForceConflicts takes over fields another field manager owns with a
	// different value instead of failing with a conflict.
	ForceConflicts bool
	// Wait waits, after patching (or unpatching), until the changed objects
	// are ready again, e.g. a Deployment rolled out with the patch.
	Wait bool
	// Timeout bounds the wait; default DefaultTimeout.
	Timeout time.Duration
}

func (o PatchOptions) withDefaults() (PatchOptions, error) {
	switch {
	case o.FieldManager == "":
		return o, failure.Invalidf("field manager", "not set; a patch needs a field manager of its own, e.g. chaosops-patch")
	case o.FieldManager == FieldManager:
		return o, failure.Invalidf("field manager", "%q is the manager of whole objects applied by chaosops; a partial apply under it would remove their other fields, so use another name", FieldManager)
	case len(o.FieldManager) > 128:
		return o, failure.Invalidf("field manager", "%d characters; the API server takes at most 128", len(o.FieldManager))
	case o.Timeout < 0:
		return o, failure.Invalidf("timeout", "%s is negative; use e.g. 5m", o.Timeout)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	return o, nil
}

// PatchResult is what Patch or Unpatch did; returned with the error too.
type PatchResult struct {
	// ChangeSet has one entry per object: configured (our fields set or
	// released), unchanged, or skipped (Unpatch: the object is gone).
	ChangeSet ChangeSet `json:"changeSet"`
	// Inventory lists the patched objects. After Patch: every object now
	// carrying our fields, for Unpatch. After Unpatch: the objects whose
	// fields could not be released yet (empty when done).
	Inventory Inventory `json:"inventory"`
}

// Patch server-side-applies each of objs, a partial object naming an
// existing object and only the fields to set, under opts.FieldManager.
// The object's other fields, owned by other managers, stay as they are;
// a later apply of the whole object by its own manager keeps ours.
// Patch never creates: an object that does not exist fails the call, as
// does a field another manager owns with another value (unless
// ForceConflicts). Re-patching with the same fields changes nothing; with
// fewer fields, the ones left out are removed.
func (m *Manager) Patch(ctx context.Context, objs []manifest.Object, opts PatchOptions) (*PatchResult, error) {
	res := &PatchResult{ChangeSet: ChangeSet{Entries: []ChangeSetEntry{}}, Inventory: Inventory{Entries: []InventoryEntry{}}}
	opts, err := opts.withDefaults()
	if err != nil {
		return res, err
	}
	items, err := m.resolve(ctx, objs, opts.DefaultNamespace, false)
	if err != nil {
		return res, interrupted(ctx, "patch", err)
	}
	entries := make([]*ChangeSetEntry, len(items))
	lives := make([]*unstructured.Unstructured, len(items))
	index := map[*item]int{}
	for i, it := range items {
		index[it] = i
		// The hash annotation describes a whole object; on a patch it would
		// be a field of ours clashing with the one the object's own apply set.
		unsetHash(it.obj)
	}
	err = forEach(ctx, items, DefaultConcurrency, func(ctx context.Context, it *item) error {
		e, live, err := m.patchOne(ctx, it, opts)
		if err == nil {
			i := index[it]
			entries[i], lives[i] = e, live
		}
		return err
	})
	if err == nil {
		err = ctx.Err()
	}
	var targets []waitTarget
	for i, it := range items {
		if entries[i] == nil {
			continue
		}
		res.ChangeSet.Entries = append(res.ChangeSet.Entries, *entries[i])
		res.Inventory.Entries = append(res.Inventory.Entries, it.inventoryEntry(entries[i].UID))
		targets = append(targets, waitTarget{ref: it.ref, ri: m.itemResource(it), name: it.obj.GetName(), last: lives[i]})
	}
	if err != nil {
		return res, interrupted(ctx, "patch", err)
	}
	if opts.Wait {
		err = m.waitPatched(ctx, targets, opts.Timeout)
	}
	return res, interrupted(ctx, "patch", err)
}

// patchOne applies one partial object to its existing object.
func (m *Manager) patchOne(ctx context.Context, it *item, opts PatchOptions) (*ChangeSetEntry, *unstructured.Unstructured, error) {
	ri := m.itemResource(it)
	live, err := ri.Get(ctx, it.obj.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil, it.fail("patch", &failure.InvalidError{Err: errors.New("the object does not exist; a patch only changes an existing object, so apply the object first")})
	}
	if err != nil {
		return nil, nil, it.fail("get", err)
	}
	out, err := ri.Apply(ctx, it.obj.GetName(), it.obj, metav1.ApplyOptions{FieldManager: opts.FieldManager, Force: opts.ForceConflicts})
	if err != nil {
		return nil, nil, it.fail("patch", err)
	}
	action := Configured
	// A controller may write between our read and the apply (status, or the
	// Deployment controller's revision annotation after a template change),
	// so a changed resourceVersion does not prove that the patch changed
	// anything. The API server writes nothing for a no-op apply, so our
	// manager's entry, field set and time, is then as it was.
	if out.GetResourceVersion() == live.GetResourceVersion() || sameApplyEntry(live, out, opts.FieldManager) {
		action = Unchanged
	}
	e := it.entry(action, out)
	m.log.Debug(fmt.Sprintf("%s %s (field manager %s)", it.ref, action, opts.FieldManager))
	return &e, out, nil
}

// Unpatch releases every field opts.FieldManager owns in the objects of
// inv (as returned by Patch): it applies each object's identity with no
// fields under that manager, so server-side apply removes the fields only
// that manager owned and leaves those another manager also set. It then
// checks that the object no longer lists the manager. An object that is
// gone, or holds no field of the manager, counts as done; Unpatch can be
// repeated.
func (m *Manager) Unpatch(ctx context.Context, inv Inventory, opts PatchOptions) (*PatchResult, error) {
	res := &PatchResult{ChangeSet: ChangeSet{Entries: []ChangeSetEntry{}}, Inventory: mergeInventories(&inv, nil)}
	opts, err := opts.withDefaults()
	if err != nil {
		return res, err
	}
	entries := make([]*ChangeSetEntry, len(inv.Entries))
	targets := make([]*waitTarget, len(inv.Entries))
	var errs []error
	for i, e := range inv.Entries {
		if ctx.Err() != nil {
			break
		}
		entries[i], targets[i], err = m.unpatchOne(ctx, e, opts.FieldManager)
		errs = append(errs, err)
	}
	err = errors.Join(errs...)
	if err == nil {
		err = ctx.Err()
	}
	left := Inventory{Entries: []InventoryEntry{}}
	var changed []waitTarget
	for i, e := range inv.Entries {
		if entries[i] == nil {
			left.Entries = append(left.Entries, e)
			continue
		}
		res.ChangeSet.Entries = append(res.ChangeSet.Entries, *entries[i])
		if targets[i] != nil {
			changed = append(changed, *targets[i])
		}
	}
	res.Inventory = left
	if err != nil {
		return res, interrupted(ctx, "unpatch", err)
	}
	if opts.Wait {
		err = m.waitPatched(ctx, changed, opts.Timeout)
	}
	return res, interrupted(ctx, "unpatch", err)
}

// unpatchOne releases the manager's fields of one object. The wait target
// is set when the object changed.
func (m *Manager) unpatchOne(ctx context.Context, e InventoryEntry, manager string) (*ChangeSetEntry, *waitTarget, error) {
	ref := e.Ref()
	entry := &ChangeSetEntry{Ref: ref, Group: e.Group, Version: e.Version, Kind: e.Kind, Namespace: e.Namespace, Name: e.Name, UID: e.UID}
	ri, err := m.entryResource(ctx, e)
	if errors.Is(err, errKindGone) {
		entry.Action, entry.Message = Skipped, "its kind is no longer served, so the object is gone"
		return entry, nil, nil
	}
	if err != nil {
		return nil, nil, &ObjectError{Ref: ref, Op: "unpatch", Err: err}
	}
	live, err := ri.Get(ctx, e.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		entry.Action, entry.Message = Skipped, "the object is gone"
		return entry, nil, nil
	}
	if err != nil {
		return nil, nil, &ObjectError{Ref: ref, Op: "get", Err: err}
	}
	entry.UID = string(live.GetUID())
	if !appliedBy(live, manager) {
		entry.Action = Unchanged
		m.log.Debug(fmt.Sprintf("%s holds no field of %s", ref, manager))
		return entry, nil, nil
	}
	identity := &unstructured.Unstructured{}
	identity.SetGroupVersionKind(schema.GroupVersionKind{Group: e.Group, Version: e.Version, Kind: e.Kind})
	identity.SetNamespace(e.Namespace)
	identity.SetName(e.Name)
	out, err := ri.Apply(ctx, e.Name, identity, metav1.ApplyOptions{FieldManager: manager})
	if err != nil {
		return nil, nil, &ObjectError{Ref: ref, Op: "unpatch", Err: err}
	}
	if appliedBy(out, manager) {
		return nil, nil, &ObjectError{Ref: ref, Op: "unpatch", Err: fmt.Errorf("field manager %s is still listed in managedFields after applying no fields", manager)}
	}
	entry.Action = Configured
	entry.Status = statusFields(out)
	m.log.Debug(fmt.Sprintf("%s released by %s", ref, manager))
	return entry, &waitTarget{ref: ref, ri: ri, name: e.Name, last: out}, nil
}

// waitPatched waits until the patched objects are ready.
func (m *Manager) waitPatched(ctx context.Context, targets []waitTarget, timeout time.Duration) error {
	if len(targets) == 0 {
		return nil
	}
	start := time.Now()
	if _, err := m.waitAll(ctx, targets, readyCheck, timeout, "wait"); err != nil {
		return err
	}
	m.log.Info(fmt.Sprintf("%d patched object(s) ready after %s", len(targets), time.Since(start).Round(time.Millisecond)))
	return nil
}

// appliedBy reports whether manager has applied fields of obj (outside
// subresources).
func appliedBy(obj *unstructured.Unstructured, manager string) bool {
	for _, mf := range obj.GetManagedFields() {
		if mf.Manager == manager && mf.Operation == metav1.ManagedFieldsOperationApply && mf.Subresource == "" {
			return true
		}
	}
	return false
}

// sameApplyEntry reports whether manager's apply entry in managedFields
// (its fields and the time they last changed) is the same in a and b.
func sameApplyEntry(a, b *unstructured.Unstructured, manager string) bool {
	ea, eb := applyEntry(a, manager), applyEntry(b, manager)
	if ea == nil || eb == nil {
		return false
	}
	return string(ea.FieldsV1.Raw) == string(eb.FieldsV1.Raw) && ea.Time.Equal(eb.Time)
}

func applyEntry(obj *unstructured.Unstructured, manager string) *metav1.ManagedFieldsEntry {
	for _, mf := range obj.GetManagedFields() {
		if mf.Manager == manager && mf.Operation == metav1.ManagedFieldsOperationApply && mf.Subresource == "" && mf.FieldsV1 != nil {
			return &mf
		}
	}
	return nil
}

// unsetHash removes the HashAnnotation that resolve set.
func unsetHash(obj *unstructured.Unstructured) {
	ann := obj.GetAnnotations()
	if _, ok := ann[HashAnnotation]; !ok {
		return
	}
	delete(ann, HashAnnotation)
	if len(ann) == 0 {
		ann = nil
	}
	obj.SetAnnotations(ann)
}
