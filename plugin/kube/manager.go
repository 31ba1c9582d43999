package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/kube/manifest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// Defaults for the options of Manager's methods.
const (
	// FieldManager is the server-side apply field manager used when the
	// options leave it empty.
	FieldManager = "chaosops"
	// DefaultConcurrency is how many objects of one tier are handled at once.
	DefaultConcurrency = 16
	// DefaultTimeout bounds waits (readiness, CRDs established, deletion).
	DefaultTimeout = 5 * time.Minute
)

// Manager applies, waits for, diffs and deletes objects in one cluster.
// It is safe for concurrent use.
type Manager struct {
	client *Client
	log    *slog.Logger
}

// NewManager returns a Manager that logs to log (nil discards).
func NewManager(c *Client, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{client: c, log: log}
}

// item is one object ready to be sent: namespace defaulted, resource
// mapped, hash annotation set.
type item struct {
	obj        *unstructured.Unstructured
	origin     string
	ref        string
	gvk        schema.GroupVersionKind
	gvr        schema.GroupVersionResource
	namespaced bool
	tier       int
	// crd is the name of the CustomResourceDefinition in the same input
	// that defines this object's kind, if any.
	crd  string
	hash string
}

// genTracksSpec reports kinds whose metadata.generation the API server
// bumps on every change outside metadata and status: CRDs, custom
// resources (of a CRD in the input, so known to be one) and workloads.
func (it *item) genTracksSpec() bool {
	gk := it.gvk.GroupKind()
	switch {
	case gk == crdGK, it.crd != "":
		return true
	case gk.Group == "apps":
		return gk.Kind == "Deployment" || gk.Kind == "StatefulSet" || gk.Kind == "DaemonSet" || gk.Kind == "ReplicaSet"
	case gk.Group == "batch":
		return gk.Kind == "Job" || gk.Kind == "CronJob"
	}
	return false
}

func (it *item) key() objKey {
	return objKey{Group: it.gvk.Group, Kind: it.gvk.Kind, Namespace: it.obj.GetNamespace(), Name: it.obj.GetName()}
}

func (it *item) inventoryEntry(uid string) InventoryEntry {
	return InventoryEntry{Group: it.gvk.Group, Version: it.gvk.Version, Kind: it.gvk.Kind,
		Namespace: it.obj.GetNamespace(), Name: it.obj.GetName(), UID: uid}
}

func (it *item) entry(a Action, live *unstructured.Unstructured) ChangeSetEntry {
	e := ChangeSetEntry{Ref: it.ref, Group: it.gvk.Group, Version: it.gvk.Version, Kind: it.gvk.Kind,
		Namespace: it.obj.GetNamespace(), Name: it.obj.GetName(), Action: a, Origin: it.origin}
	if live != nil {
		e.UID = string(live.GetUID())
		e.Status = statusFields(live)
	}
	return e
}

func (it *item) fail(op string, err error) *ObjectError {
	return &ObjectError{Ref: it.ref, Origin: it.origin, Op: op, Err: err}
}

// resource returns the dynamic client for the item's resource.
func (m *Manager) resource(gvr schema.GroupVersionResource, namespaced bool, ns string) dynamic.ResourceInterface {
	r := m.client.Dynamic.Resource(gvr)
	if namespaced {
		return r.Namespace(ns)
	}
	return r
}

func (m *Manager) itemResource(it *item) dynamic.ResourceInterface {
	return m.resource(it.gvr, it.namespaced, it.obj.GetNamespace())
}

// crdInfo is what a CustomResourceDefinition in the input says about its kind.
type crdInfo struct {
	name       string
	plural     string
	namespaced bool
	versions   map[string]bool // served versions
}

// sourceCRDs indexes the CustomResourceDefinitions among objs by the kind
// they define, so that their custom resources can be mapped before the
// CRDs exist in the cluster.
func sourceCRDs(objs []manifest.Object) map[schema.GroupKind]crdInfo {
	crds := map[schema.GroupKind]crdInfo{}
	for _, o := range objs {
		if o.GroupVersionKind().GroupKind() != crdGK {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		plural, _, _ := unstructured.NestedString(o.Object, "spec", "names", "plural")
		scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
		info := crdInfo{name: o.GetName(), plural: plural, namespaced: scope != "Cluster", versions: map[string]bool{}}
		versions, _, _ := unstructured.NestedSlice(o.Object, "spec", "versions")
		for _, v := range versions {
			vm, _ := v.(map[string]any)
			name, _ := vm["name"].(string)
			if served, _ := vm["served"].(bool); served {
				info.versions[name] = true
			}
		}
		crds[schema.GroupKind{Group: group, Kind: kind}] = info
	}
	return crds
}

// resolve maps every object to its resource, defaults namespaces and sets
// the hash annotation. It checks everything it can before anything is
// written: unknown kinds, scope, duplicates. The input is not modified.
// With unknownOK, objects of kinds the API server does not serve are
// returned as items without resource (gvr empty) instead of failing: for
// Delete they are simply gone.
func (m *Manager) resolve(ctx context.Context, objs []manifest.Object, defaultNS string, unknownOK bool) ([]*item, error) {
	if defaultNS == "" {
		defaultNS = m.client.Namespace
	}
	if defaultNS == "" {
		defaultNS = metav1.NamespaceDefault
	}
	crds := sourceCRDs(objs)
	items := make([]*item, 0, len(objs))
	seen := map[objKey]*item{}
	var errs []error
	for _, o := range objs {
		obj := o.DeepCopy()
		gvk := obj.GroupVersionKind()
		it := &item{obj: obj, origin: o.Origin(), gvk: gvk, tier: tierOf(gvk.GroupKind())}
		it.ref = refOf(obj)
		if info, ok := crds[gvk.GroupKind()]; ok {
			if !info.versions[gvk.Version] {
				errs = append(errs, it.fail("resolve", &failure.InvalidError{Err: fmt.Errorf("version %s is not served by CustomResourceDefinition/%s", gvk.Version, info.name)}))
				continue
			}
			it.gvr = gvk.GroupVersion().WithResource(info.plural)
			it.namespaced = info.namespaced
			it.crd = info.name
		} else {
			mapping, err := m.client.Mapper.RESTMappingWithContext(ctx, gvk.GroupKind(), gvk.Version)
			if err != nil {
				if meta.IsNoMatchError(err) && unknownOK {
					items = append(items, it)
					continue
				}
				if meta.IsNoMatchError(err) {
					errs = append(errs, it.fail("resolve", &failure.InvalidError{Err: fmt.Errorf("the API server has no kind %s in %s: a typo, or its CustomResourceDefinition is not installed", gvk.Kind, gvk.GroupVersion())}))
					continue
				}
				return nil, it.fail("resolve", err)
			}
			it.gvr = mapping.Resource
			it.namespaced = mapping.Scope.Name() == meta.RESTScopeNameNamespace
		}
		switch {
		case it.namespaced && obj.GetNamespace() == "":
			obj.SetNamespace(defaultNS)
		case !it.namespaced && obj.GetNamespace() != "":
			errs = append(errs, it.fail("resolve", &failure.InvalidError{Err: fmt.Errorf("%s is cluster-scoped but metadata.namespace is %q; remove the namespace", gvk.Kind, obj.GetNamespace())}))
			continue
		}
		it.ref = refOf(obj)
		if prev, ok := seen[it.key()]; ok {
			errs = append(errs, it.fail("resolve", &failure.InvalidError{Err: fmt.Errorf("duplicate of the object from %s", prev.origin)}))
			continue
		}
		seen[it.key()] = it
		it.hash = setHash(obj)
		items = append(items, it)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return items, nil
}

// checkNamespaces makes sure the namespaces that items use exist or are
// among the items, so a missing namespace fails before anything is written.
func (m *Manager) checkNamespaces(ctx context.Context, items []*item) error {
	inSource := map[string]bool{}
	for _, it := range items {
		if it.gvk.GroupKind() == (schema.GroupKind{Kind: "Namespace"}) {
			inSource[it.obj.GetName()] = true
		}
	}
	users := map[string]*item{}
	var names []string
	for _, it := range items {
		ns := it.obj.GetNamespace()
		if !it.namespaced || inSource[ns] || users[ns] != nil {
			continue
		}
		users[ns] = it
		names = append(names, ns)
	}
	nsRes := m.client.Dynamic.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"})
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, ns := range names {
		wg.Go(func() {
			_, err := nsRes.Get(ctx, ns, metav1.GetOptions{})
			if err != nil {
				if apierrors.IsNotFound(err) {
					errs[i] = users[ns].fail("apply", err)
				} else {
					errs[i] = users[ns].fail("get namespace", err)
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// forEach runs fn for every item with at most n at once and returns the
// errors joined. It stops starting new items when ctx ends.
func forEach(ctx context.Context, items []*item, n int, fn func(ctx context.Context, it *item) error) error {
	sem := make(chan struct{}, n)
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = fn(ctx, it)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func schemaGK(e InventoryEntry) schema.GroupKind {
	return schema.GroupKind{Group: e.Group, Kind: e.Kind}
}

func isNoMatch(err error) bool { return meta.IsNoMatchError(err) }
