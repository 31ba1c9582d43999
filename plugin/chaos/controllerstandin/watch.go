package controllerstandin

import (
	"context"
	"sync"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
)

// watchRetry is the pause before listing again after a failed list or watch.
const watchRetry = time.Second

// watcher lists and watches one kind, queueing objects on creation and on
// relevant updates, as an informer with Chaos Mesh's event filter would.
// (A plain list-and-watch loop: client-go's informers need a module the
// project's go.sum does not pin.)
type watcher struct {
	c    *controller
	kind api.Kind
	// seen holds the last version of every object, to filter updates.
	seen map[string]*unstructured.Unstructured
	// synced is closed after the first list has been queued.
	synced chan struct{}
	once   sync.Once
}

func newWatcher(c *controller, kind api.Kind) *watcher {
	return &watcher{c: c, kind: kind, seen: map[string]*unstructured.Unstructured{}, synced: make(chan struct{})}
}

func (w *watcher) enqueue(u *unstructured.Unstructured) {
	w.c.queue.Add(key{kind: w.kind.Name, namespace: u.GetNamespace(), name: u.GetName()})
}

// run lists and watches until ctx ends, listing again whenever the watch
// ends with an error (such as an expired resourceVersion).
func (w *watcher) run(ctx context.Context) {
	res := w.c.dyn.Resource(w.kind.GroupVersionResource())
	var resync <-chan time.Time
	if w.c.opts.Resync > 0 {
		t := time.NewTicker(w.c.opts.Resync)
		defer t.Stop()
		resync = t.C
	}
	for ctx.Err() == nil {
		list, err := res.List(ctx, metav1.ListOptions{})
		if err != nil {
			w.c.log.Warn("list", "resource", w.kind.Resource, "err", err)
			sleep(ctx, watchRetry)
			continue
		}
		fresh := map[string]*unstructured.Unstructured{}
		for i := range list.Items {
			u := &list.Items[i]
			k := u.GetNamespace() + "/" + u.GetName()
			if old, ok := w.seen[k]; !ok || relevantUpdate(old, u) {
				w.enqueue(u)
			}
			fresh[k] = u
		}
		w.seen = fresh
		w.once.Do(func() { close(w.synced) })
		w.watch(ctx, list.GetResourceVersion(), resync)
	}
}

// watch follows changes from rv until the watch fails or ctx ends.
func (w *watcher) watch(ctx context.Context, rv string, resync <-chan time.Time) {
	res := w.c.dyn.Resource(w.kind.GroupVersionResource())
	for ctx.Err() == nil {
		wi, err := res.Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			w.c.log.Warn("watch", "resource", w.kind.Resource, "err", err)
			sleep(ctx, watchRetry)
			return
		}
		rv = w.follow(ctx, wi, rv, resync)
		wi.Stop()
		if rv == "" {
			return // list again
		}
	}
}

// follow handles the events of one watch; it returns the resourceVersion
// to resume from, or "" when the caller must list again.
func (w *watcher) follow(ctx context.Context, wi watch.Interface, rv string, resync <-chan time.Time) string {
	for {
		select {
		case <-ctx.Done():
			return rv
		case <-resync:
			for _, u := range w.seen {
				w.enqueue(u)
			}
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return rv // the server ended the watch; resume
			}
			if ev.Type == watch.Error {
				err := apierrors.FromObject(ev.Object)
				w.c.log.Info("watch ended", "resource", w.kind.Resource, "err", err)
				return ""
			}
			u, isU := ev.Object.(*unstructured.Unstructured)
			if !isU {
				continue
			}
			rv = u.GetResourceVersion()
			k := u.GetNamespace() + "/" + u.GetName()
			switch ev.Type {
			case watch.Added:
				w.seen[k] = u
				w.enqueue(u)
			case watch.Modified:
				if old, ok := w.seen[k]; !ok || relevantUpdate(old, u) {
					w.enqueue(u)
				}
				w.seen[k] = u
			case watch.Deleted:
				delete(w.seen, k)
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
