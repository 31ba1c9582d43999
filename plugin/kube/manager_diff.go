package kube

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
	"github.com/pmezard/go-difflib/difflib"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// DiffOptions tunes Diff; the fields mean what they mean in ApplyOptions.
type DiffOptions struct {
	// DefaultNamespace is set on namespaced objects that have none.
	DefaultNamespace string
	// FieldManager names us in managedFields; default FieldManager.
	FieldManager string
	// ForceConflicts previews taking over fields of other managers.
	ForceConflicts bool
	// Inventory is the inventory of the previous Apply, for Prune.
	Inventory *Inventory
	// Prune previews pruning: objects of Inventory no longer in the input
	// are shown as deleted.
	Prune bool
	// Concurrency is how many objects are compared at once.
	Concurrency int
}

// DiffResult is what Apply would change.
type DiffResult struct {
	// Entries has one entry per object, by tier then input order, then the
	// objects pruning would delete.
	Entries []DiffEntry `json:"entries"`
}

// DiffEntry is the preview for one object.
type DiffEntry struct {
	// Ref is the object's Ref.
	Ref string `json:"ref"`
	// Action is what Apply would do.
	Action Action `json:"action"`
	// Origin says which source, line and document the object came from.
	Origin string `json:"origin,omitempty"`
	// Diff is a unified diff of the object's YAML, live ("a") against the
	// result of a server-side dry-run apply ("b"), without managedFields,
	// resourceVersion, generation, uid, creationTimestamp and status, and
	// with Secret values masked. Empty when unchanged.
	Diff string `json:"diff,omitempty"`
	// Note says when the API server could not check the object (its
	// namespace or CRD is created by the same apply).
	Note string `json:"note,omitempty"`
}

// Changed reports whether applying would change anything.
func (r DiffResult) Changed() bool {
	for _, e := range r.Entries {
		if e.Action != Unchanged && e.Action != Skipped {
			return true
		}
	}
	return false
}

// String renders every change: a "Ref action" line, then its diff.
func (r DiffResult) String() string {
	var b strings.Builder
	for _, e := range r.Entries {
		if e.Action == Unchanged {
			continue
		}
		b.WriteString(e.Ref + " " + string(e.Action))
		if e.Note != "" {
			b.WriteString(" (" + e.Note + ")")
		}
		b.WriteString("\n")
		b.WriteString(e.Diff)
	}
	return b.String()
}

// Diff shows what Apply would change: each object is applied as a
// server-side dry run and compared with the live object. Nothing is
// written. Custom resources of CRDs that do not exist yet, and objects in
// namespaces the same input creates, cannot be dry-run; they are shown in
// full with a Note.
func (m *Manager) Diff(ctx context.Context, objs []manifest.Object, opts DiffOptions) (*DiffResult, error) {
	aopts, err := ApplyOptions{DefaultNamespace: opts.DefaultNamespace, FieldManager: opts.FieldManager,
		ForceConflicts: opts.ForceConflicts, Concurrency: opts.Concurrency, DryRun: true,
		Inventory: opts.Inventory, Prune: opts.Prune}.withDefaults()
	if err != nil {
		return nil, err
	}
	items, err := m.resolve(ctx, objs, aopts.DefaultNamespace, false)
	if err != nil {
		return nil, interrupted(ctx, "diff", err)
	}
	entries := make([]*DiffEntry, len(items))
	newNS := map[string]bool{}
	newCRD := map[string]bool{}
	var mu sync.Mutex
	for tier := range numTiers {
		var batch []int
		for i, it := range items {
			if it.tier == tier {
				batch = append(batch, i)
			}
		}
		batchItems := make([]*item, len(batch))
		for k, i := range batch {
			batchItems[k] = items[i]
		}
		index := map[*item]int{}
		for _, i := range batch {
			index[items[i]] = i
		}
		err := forEach(ctx, batchItems, aopts.Concurrency, func(ctx context.Context, it *item) error {
			unchecked := ""
			switch {
			case it.namespaced && newNS[it.obj.GetNamespace()]:
				unchecked = "not checked by the API server: Namespace/" + it.obj.GetNamespace() + " does not exist yet"
			case it.crd != "" && newCRD[it.crd]:
				unchecked = "not checked by the API server: CustomResourceDefinition/" + it.crd + " does not exist yet"
			}
			e, err := m.diffOne(ctx, it, aopts, unchecked)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			entries[index[it]] = e
			if e.Action == Created && it.gvk.GroupKind() == crdGK {
				newCRD[it.obj.GetName()] = true
			}
			if e.Action == Created && it.gvk.Group == "" && it.gvk.Kind == "Namespace" {
				newNS[it.obj.GetName()] = true
			}
			return nil
		})
		if err != nil {
			return nil, interrupted(ctx, "diff", err)
		}
	}
	res := &DiffResult{Entries: []DiffEntry{}}
	for tier := range numTiers {
		for i, it := range items {
			if it.tier == tier && entries[i] != nil {
				res.Entries = append(res.Entries, *entries[i])
			}
		}
	}
	if opts.Prune && opts.Inventory != nil {
		pruned, _, err := m.prune(ctx, items, aopts)
		if err != nil {
			return nil, interrupted(ctx, "diff", err)
		}
		for _, p := range pruned {
			res.Entries = append(res.Entries, DiffEntry{Ref: p.Ref, Action: p.Action, Note: p.Message})
		}
	}
	return res, nil
}

// diffOne previews one object.
func (m *Manager) diffOne(ctx context.Context, it *item, opts ApplyOptions, unchecked string) (*DiffEntry, error) {
	e := &DiffEntry{Ref: it.ref, Origin: it.origin}
	if unchecked != "" {
		e.Action, e.Note = Created, unchecked
		e.Diff = unifiedDiff("/dev/null", it.ref, "", toYAML(cleanForDiff(it.obj, nil, "")))
		return e, nil
	}
	ri := m.itemResource(it)
	name := it.obj.GetName()
	live, err := ri.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		live = nil
	case err != nil:
		return nil, it.fail("get", err)
	}
	var prevGen int64
	if opts.Inventory != nil {
		for _, e := range opts.Inventory.Entries {
			if e.key() == it.key() {
				prevGen = e.Generation
			}
		}
	}
	if live != nil && upToDate(it.obj, live, it.hash, opts.FieldManager, prevGen, it.genTracksSpec()) {
		e.Action = Unchanged
		return e, nil
	}
	out, err := ri.Apply(ctx, name, it.obj, metav1.ApplyOptions{FieldManager: opts.FieldManager,
		Force: opts.ForceConflicts, DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return nil, it.fail("apply (dry run)", err)
	}
	if live == nil {
		e.Action = Created
		e.Diff = unifiedDiff("/dev/null", it.ref, "", toYAML(cleanForDiff(out, nil, "")))
		return e, nil
	}
	before, after := cleanForDiff(live, out, "before"), cleanForDiff(out, live, "after")
	e.Diff = unifiedDiff(it.ref+" (live)", it.ref+" (after apply)", toYAML(before), toYAML(after))
	e.Action = Configured
	if e.Diff == "" {
		e.Action = Unchanged
	}
	return e, nil
}

// equalForDiff reports whether two states of an object differ only in
// what cleanForDiff drops.
func equalForDiff(a, b *unstructured.Unstructured) bool {
	return reflect.DeepEqual(cleanForDiff(a, b, "before"), cleanForDiff(b, a, "after"))
}

// cleanForDiff returns obj without the fields that change on every write
// or that Apply does not set, with Secret values masked; other is the
// object it is compared with and side ("before" or "after") labels the
// masks of values that differ between the two.
func cleanForDiff(obj, other *unstructured.Unstructured, side string) map[string]any {
	c := runtime.DeepCopyJSON(obj.Object)
	delete(c, "status")
	if md, ok := c["metadata"].(map[string]any); ok {
		for _, k := range []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"} {
			delete(md, k)
		}
		if ann, ok := md["annotations"].(map[string]any); ok {
			delete(ann, HashAnnotation)
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
	}
	if obj.GetKind() == "Secret" && obj.GroupVersionKind().Group == "" {
		var otherObj map[string]any
		if other != nil {
			otherObj = other.Object
		}
		for _, field := range []string{"data", "stringData"} {
			maskSecret(c, otherObj, field, side)
		}
	}
	return c
}

// maskSecret replaces the values of a Secret's data: "***" when the other
// side has the same value (or there is no other side), "*** (before)" and
// "*** (after)" when it differs, so a diff shows which keys change but
// never a value.
func maskSecret(c, other map[string]any, field, side string) {
	data, ok := c[field].(map[string]any)
	if !ok {
		return
	}
	var od map[string]any
	if other != nil {
		od, _ = other[field].(map[string]any)
	}
	for k, v := range data {
		ov, present := od[k]
		if other != nil && present && !reflect.DeepEqual(ov, v) {
			data[k] = "*** (" + side + ")"
			continue
		}
		data[k] = "***"
	}
}

func toYAML(m map[string]any) string {
	out, err := yaml.Marshal(m)
	if err != nil {
		return fmt.Sprintf("# cannot render as YAML: %v\n", err)
	}
	return string(out)
}

// unifiedDiff returns a unified diff of a and b with three lines of
// context, or "" when they are equal.
func unifiedDiff(aName, bName, a, b string) string {
	if a == b {
		return ""
	}
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: diffLines(a), B: diffLines(b), FromFile: aName, ToFile: bName, Context: 3,
	})
	if err != nil {
		// Only the writer can fail, and a strings.Builder does not.
		return fmt.Sprintf("--- %s\n+++ %s\n(no diff: %v)\n", aName, bName, err)
	}
	return d
}

// diffLines splits s into lines that each end in a newline; difflib's own
// SplitLines adds an empty last line.
func diffLines(s string) []string {
	if s == "" {
		return nil
	}
	l := strings.SplitAfter(s, "\n")
	if l[len(l)-1] == "" {
		return l[:len(l)-1]
	}
	l[len(l)-1] += "\n"
	return l
}
