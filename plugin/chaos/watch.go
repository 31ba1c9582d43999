package chaos

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

// observeFunc sees each new version of the object (nil once it is gone);
// returning true ends the watch.
type observeFunc func(obj *api.Object) (done bool, err error)

// watchObject calls fn with the current object and then with every change,
// until fn says done, the context ends, or fn fails. A watch that breaks
// (API server restart, expired resourceVersion) is re-established from a
// fresh read, so no change is missed and nothing is created twice.
func watchObject(ctx context.Context, res dynamic.ResourceInterface, name string, fn observeFunc) error {
	return watchFrom(ctx, res, name, false, fn)
}

// watchGoneObject is watchObject for an object this process has read and
// deleted: its first read comes from the API server's watch cache
// (resourceVersion "0"), which answers at once where a consistent list may
// wait up to the cache's 100 ms progress-request period for it to catch
// up. The cache already served every version this process saw, so a
// cached read that still shows the object is followed by its deletion on
// the watch; one that shows it gone is checked with a consistent read
// before fn hears of it.
func watchGoneObject(ctx context.Context, res dynamic.ResourceInterface, name string, fn observeFunc) error {
	return watchFrom(ctx, res, name, true, fn)
}

func watchFrom(ctx context.Context, res dynamic.ResourceInterface, name string, cachedFirst bool, fn observeFunc) error {
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	backoff := 100 * time.Millisecond
	for {
		lo := metav1.ListOptions{FieldSelector: sel}
		if cachedFirst {
			lo.ResourceVersion = "0"
		}
		list, err := res.List(ctx, lo)
		if cachedFirst && err == nil && len(list.Items) == 0 {
			list, err = res.List(ctx, metav1.ListOptions{FieldSelector: sel})
		}
		cachedFirst = false
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if !retriable(err) {
				return fmt.Errorf("read %s: %w", name, err)
			}
			if werr := sleepCtx(ctx, backoff); werr != nil {
				return werr
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		var cur *api.Object
		if len(list.Items) > 0 {
			if cur, err = api.FromUnstructured(&list.Items[0]); err != nil {
				return err
			}
		}
		if done, err := fn(cur); done || err != nil {
			return err
		}
		w, err := res.Watch(ctx, metav1.ListOptions{FieldSelector: sel, ResourceVersion: list.GetResourceVersion(), AllowWatchBookmarks: true})
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if err := sleepCtx(ctx, backoff); err != nil {
				return err
			}
			continue
		}
		backoff = 100 * time.Millisecond
		done, err := drain(ctx, w, fn)
		w.Stop()
		if done || err != nil {
			return err
		}
		// The watch ended without a verdict: read again and re-watch.
	}
}

func drain(ctx context.Context, w watch.Interface, fn observeFunc) (bool, error) {
	for {
		select {
		case <-ctx.Done():
			return false, context.Cause(ctx)
		case ev, ok := <-w.ResultChan():
			if !ok {
				return false, nil
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				u, isU := ev.Object.(*unstructured.Unstructured)
				if !isU {
					continue
				}
				obj, err := api.FromUnstructured(u)
				if err != nil {
					return false, err
				}
				if done, err := fn(obj); done || err != nil {
					return done, err
				}
			case watch.Deleted:
				if done, err := fn(nil); done || err != nil {
					return done, err
				}
			case watch.Error:
				return false, nil // e.g. 410 Gone: re-list
			}
		}
	}
}

// retriable says whether an API error is worth another try: throttling,
// server errors, timeouts and connection failures.
func retriable(err error) bool {
	return apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err) ||
		isConnError(err)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
