package kube

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// listed is what one LIST per kind and namespace says about an object of
// the previous inventory: always its metadata, and for kinds whose status
// Apply reports (see fullListed) the whole object.
type listed struct {
	meta *metav1.PartialObjectMetadata
	live *unstructured.Unstructured
}

// fullListed reports kinds listed in full rather than by metadata: those
// whose status fields Apply reports (a Service's address, a rollout's
// ready replicas, a Ready condition) and whose objects are small.
// CustomResourceDefinitions (often hundreds of KB), ConfigMaps and Secrets
// (large, sensitive) and kinds without status are listed by metadata.
func fullListed(it *item) bool {
	gk := it.gvk.GroupKind()
	switch {
	case gk == crdGK:
		return false
	case it.crd != "":
		return true
	case gk.Group == "":
		return gk.Kind == "Service" || gk.Kind == "PersistentVolumeClaim"
	case gk.Group == "apps", gk.Group == "batch":
		return true
	}
	return false
}

// listKey names an object as a LIST returns it.
type listKey struct {
	gvr       schema.GroupVersionResource
	namespace string
	name      string
}

func (it *item) listKey() listKey {
	return listKey{gvr: it.gvr, namespace: it.obj.GetNamespace(), name: it.obj.GetName()}
}

// listGroup is one LIST: a resource in one namespace ("" when cluster-scoped).
type listGroup struct {
	gvr  schema.GroupVersionResource
	ns   string
	full bool
}

// listKnown reads, with one LIST per resource and namespace, every object
// of the input that the previous inventory knows, so that applyOne can
// skip unchanged objects without a read each. A LIST that fails (e.g. not
// allowed) only means its objects are read one by one.
func (r *applyRun) listKnown(ctx context.Context) {
	if r.opts.DryRun || len(r.prev) == 0 {
		return
	}
	start := time.Now()
	groups := map[listGroup]bool{}
	for _, it := range r.items {
		if p, ok := r.prev[it.key()]; ok && p.UID != "" {
			ns := ""
			if it.namespaced {
				ns = it.obj.GetNamespace()
			}
			groups[listGroup{gvr: it.gvr, ns: ns, full: fullListed(it)}] = true
		}
	}
	found := map[listKey]listed{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, r.opts.Concurrency)
	for g := range groups {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			got, err := r.list(ctx, g)
			if err != nil {
				r.m.log.Debug(fmt.Sprintf("list %s in %q: %v; reading its objects one by one", g.gvr, g.ns, err))
				return
			}
			mu.Lock()
			for k, v := range got {
				found[k] = v
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	r.listed = found
	r.m.log.Debug(fmt.Sprintf("listed %d known object(s) with %d request(s) in %s", len(found), len(groups), time.Since(start).Round(time.Millisecond)))
}

// list runs one LIST and indexes what it returns.
func (r *applyRun) list(ctx context.Context, g listGroup) (map[listKey]listed, error) {
	out := map[listKey]listed{}
	if g.full {
		ri := r.m.resource(g.gvr, g.ns != "", g.ns)
		l, err := ri.List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			u := &l.Items[i]
			pm := &metav1.PartialObjectMetadata{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, pm); err != nil {
				continue
			}
			out[listKey{gvr: g.gvr, namespace: u.GetNamespace(), name: u.GetName()}] = listed{meta: pm, live: u}
		}
		return out, nil
	}
	var l *metav1.PartialObjectMetadataList
	var err error
	if g.ns != "" {
		l, err = r.m.client.metadata.Resource(g.gvr).Namespace(g.ns).List(ctx, metav1.ListOptions{})
	} else {
		l, err = r.m.client.metadata.Resource(g.gvr).List(ctx, metav1.ListOptions{})
	}
	if err != nil {
		return nil, err
	}
	for i := range l.Items {
		pm := &l.Items[i]
		out[listKey{gvr: g.gvr, namespace: pm.Namespace, name: pm.Name}] = listed{meta: pm}
	}
	return out, nil
}

// skip is the outcome of unchangedByList for one item.
type skip struct {
	meta *metav1.PartialObjectMetadata
	live *unstructured.Unstructured // set for fully listed kinds
}

// unchangedByList tells from the LIST of listKnown that an object is up to
// date, so nothing needs to be read or sent. The live object must still be
// the one of the previous inventory (same UID), carry the hash of what we
// would send, and have been applied by our field manager; then either
//   - its resourceVersion is still the one the inventory recorded after
//     our last apply, with that same hash: nobody wrote to it since;
//   - or (its status changed, say) for kinds whose generation counts
//     every spec change, its generation is still the recorded one and its
//     metadata holds ours; CRDs that custom resources to be applied wait
//     for are excluded, since their status is needed;
//   - or, for fully listed kinds, upToDate holds on the listed object.
//
// Anything else (drift, an old inventory, a failed LIST) takes the path of
// applyOne: read the object, compare, apply.
func (r *applyRun) unchangedByList(it *item) (skip, bool) {
	l, ok := r.listed[it.listKey()]
	prev := r.prev[it.key()]
	if !ok || prev.UID == "" || string(l.meta.UID) != prev.UID || l.meta.Annotations[HashAnnotation] != it.hash || it.hash == "" {
		return skip{}, false
	}
	s := skip{meta: l.meta, live: l.live}
	if !hasApplyEntry(l.meta.ManagedFields, r.opts.FieldManager) {
		return skip{}, false
	}
	if prev.ResourceVersion != "" && prev.Hash == it.hash && l.meta.ResourceVersion == prev.ResourceVersion {
		return s, true
	}
	if l.live != nil {
		return s, upToDate(it.obj, l.live, it.hash, r.opts.FieldManager, prev.Generation, it.genTracksSpec())
	}
	if g := r.gates[it.obj.GetName()]; it.gvk.GroupKind() == crdGK && g != nil && g.needed {
		return skip{}, false
	}
	if !it.genTracksSpec() || prev.Generation == 0 || l.meta.Generation != prev.Generation {
		return skip{}, false
	}
	liveMeta, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&l.meta.ObjectMeta)
	if err != nil || !contains(liveMeta, it.obj.Object["metadata"]) {
		return skip{}, false
	}
	return s, true
}

// hasApplyEntry reports whether manager has an apply entry (outside
// subresources) among fields.
func hasApplyEntry(fields []metav1.ManagedFieldsEntry, manager string) bool {
	for _, mf := range fields {
		if mf.Manager == manager && mf.Operation == metav1.ManagedFieldsOperationApply && mf.Subresource == "" {
			return true
		}
	}
	return false
}

// decideSkips runs unchangedByList for every item: custom resources and
// other objects first, so that only CRDs whose custom resources are to be
// applied count as needed (and wait to be Established), then the CRDs.
func (r *applyRun) decideSkips() {
	if r.listed == nil {
		return
	}
	for pass := range 2 {
		for i, it := range r.items {
			if (it.gvk.GroupKind() == crdGK) != (pass == 1) {
				continue
			}
			if s, ok := r.unchangedByList(it); ok {
				r.skips[i] = &s
			}
		}
		if pass == 0 {
			for _, g := range r.gates {
				g.needed = false
			}
			for i, it := range r.items {
				if g := r.gates[it.crd]; it.crd != "" && g != nil && r.skips[i] == nil {
					g.needed = true
				}
			}
		}
	}
}
