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
	"github.com/cloudify-chaos/chaosops/plugin/progress"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// WaitOptions tunes Wait.
type WaitOptions struct {
	// Timeout bounds the wait; default DefaultTimeout.
	Timeout time.Duration
}

// Wait waits until every object of inv is ready by kstatus rules (see
// readiness): Deployments, StatefulSets and DaemonSets rolled out, Jobs
// complete, CRDs Established, LoadBalancer Services with an address,
// Ready/Available conditions True at the current generation. It returns a
// *NotReadyError listing each object not ready, and why, when the timeout
// passes or an object fails for good (e.g. a Deployment past its progress
// deadline).
func (m *Manager) Wait(ctx context.Context, inv Inventory, opts WaitOptions) error {
	if opts.Timeout < 0 {
		return failure.Invalidf("timeout", "%s is negative; use e.g. 5m", opts.Timeout)
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	var targets []waitTarget
	for _, e := range inv.Entries {
		ri, err := m.entryResource(ctx, e)
		if err != nil {
			return &ObjectError{Ref: e.Ref(), Op: "wait", Err: err}
		}
		targets = append(targets, waitTarget{ref: e.Ref(), ri: ri, name: e.Name})
	}
	_, err := m.waitAll(ctx, targets, readyCheck, opts.Timeout, "wait")
	return err
}

// waitTarget is one object to watch.
type waitTarget struct {
	ref  string
	ri   dynamic.ResourceInterface
	name string
	// uid, when set, is the object we wait for: another object by the same
	// name (recreated by a controller) counts as gone.
	uid types.UID
	// last is the last known state (nil: read it first).
	last *unstructured.Unstructured
}

// check judges one state of an object (nil: it does not exist).
type check func(t waitTarget, obj *unstructured.Unstructured) verdict

// verdict is the outcome of a check.
type verdict struct {
	done   bool // the wanted state is reached
	failed bool // the object will not get there; stop waiting for it
	status ObjectStatus
}

func readyCheck(t waitTarget, obj *unstructured.Unstructured) verdict {
	ok, st, msg := readiness(obj)
	return verdict{done: ok, failed: failed(st), status: ObjectStatus{Ref: t.ref, Status: st, Message: msg}}
}

// goneCheck is done when the object (by UID, if known) no longer exists and
// explains what holds it otherwise: finalizers, or for a Namespace the
// conditions of its content removal.
func goneCheck(t waitTarget, obj *unstructured.Unstructured) verdict {
	if obj == nil || (t.uid != "" && obj.GetUID() != t.uid) {
		return verdict{done: true, status: ObjectStatus{Ref: t.ref, Status: statusNotFound}}
	}
	st := ObjectStatus{Ref: t.ref, Status: statusPresent, Finalizers: obj.GetFinalizers()}
	var why []string
	if obj.GetDeletionTimestamp() == nil {
		why = append(why, "not marked for deletion yet")
	} else {
		why = append(why, "deletion requested at "+obj.GetDeletionTimestamp().UTC().Format(time.RFC3339))
	}
	if f := obj.GetFinalizers(); len(f) > 0 {
		why = append(why, "held by finalizers "+strings.Join(f, ", "))
	}
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		cm, _ := c.(map[string]any)
		if cm["status"] == "True" {
			if msg, _ := cm["message"].(string); msg != "" {
				why = append(why, fmt.Sprintf("%v: %s", cm["type"], msg))
			}
		}
	}
	st.Message = strings.Join(why, "; ")
	return verdict{status: st}
}

// waitAll waits for every target in parallel until check says done, one
// fails, or the timeout passes, logging the objects not done yet and why
// every progress.Interval. It returns the last state of each target
// (nil if gone) and, unless all are done, a *NotReadyError — or the
// cancellation of ctx, wrapped.
func (m *Manager) waitAll(ctx context.Context, targets []waitTarget, chk check, timeout time.Duration, op string) ([]*unstructured.Unstructured, error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	finals := make([]*unstructured.Unstructured, len(targets))
	verdicts := make([]verdict, len(targets))
	// latest is each target's last verdict, for the progress lines.
	var mu sync.Mutex
	latest := make([]verdict, len(targets))
	for i, t := range targets {
		latest[i].status = ObjectStatus{Ref: t.ref, Status: "Unknown", Message: "not read yet"}
	}
	pending := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, v := range latest {
			if !v.done {
				out = append(out, v.status.String())
			}
		}
		sort.Strings(out)
		return out
	}
	what := fmt.Sprintf("wait for %d object(s) to become ready", len(targets))
	if op == "delete" {
		what = fmt.Sprintf("wait for %d object(s) to be deleted", len(targets))
	}
	stop := progress.Start(wctx, m.log, what, pending)
	var wg sync.WaitGroup
	for i, t := range targets {
		noted := func(t waitTarget, obj *unstructured.Unstructured) verdict {
			v := chk(t, obj)
			mu.Lock()
			latest[i] = v
			mu.Unlock()
			return v
		}
		wg.Go(func() {
			finals[i], verdicts[i] = m.waitOne(wctx, t, noted)
		})
	}
	wg.Wait()
	stop()
	if err := ctx.Err(); err != nil {
		return finals, fmt.Errorf("%s interrupted: %w", op, err)
	}
	nr := &NotReadyError{Op: op}
	timedOut := false
	for _, v := range verdicts {
		if !v.done {
			nr.Objects = append(nr.Objects, v.status)
			if !v.failed {
				timedOut = true
			}
		}
	}
	if len(nr.Objects) == 0 {
		return finals, nil
	}
	if timedOut {
		nr.Timeout = timeout
	}
	sort.Slice(nr.Objects, func(i, j int) bool { return nr.Objects[i].Ref < nr.Objects[j].Ref })
	return finals, nr
}

// waitOne watches one object until check is done or failed, or ctx ends.
// It reads the object, then watches it from that resourceVersion; when the
// watch ends or expires it reads again.
func (m *Manager) waitOne(ctx context.Context, t waitTarget, chk check) (*unstructured.Unstructured, verdict) {
	obj := t.last
	v := verdict{status: ObjectStatus{Ref: t.ref, Status: "Unknown", Message: "not read yet"}}
	fresh := obj != nil
	backoff := 100 * time.Millisecond
	for {
		if !fresh {
			got, err := t.ri.Get(ctx, t.name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				obj = nil
			case err != nil:
				if ctx.Err() != nil {
					return obj, v
				}
				v.status.Message = "cannot read: " + err.Error()
				if !sleep(ctx, &backoff) {
					return obj, v
				}
				continue
			default:
				obj = got
			}
		}
		fresh = false
		if v = chk(t, obj); v.done || v.failed {
			return obj, v
		}
		opts := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", t.name).String()}
		if obj != nil {
			opts.ResourceVersion = obj.GetResourceVersion()
		}
		w, err := t.ri.Watch(ctx, opts)
		if err != nil {
			if ctx.Err() != nil {
				return obj, v
			}
			if !sleep(ctx, &backoff) {
				return obj, v
			}
			continue
		}
		obj, v, fresh = m.consume(ctx, w, t, chk, obj, v)
		w.Stop()
		if v.done || v.failed || ctx.Err() != nil {
			return obj, v
		}
		// The watch ended (server timeout, expired resourceVersion): pause
		// briefly so a server that keeps closing watches is not hammered.
		if !sleep(ctx, &backoff) {
			return obj, v
		}
	}
}

// consume reads watch events until the check is done or failed, the watch
// ends, or ctx ends. fresh reports that obj is current (no read needed).
func (m *Manager) consume(ctx context.Context, w watch.Interface, t waitTarget, chk check, obj *unstructured.Unstructured, v verdict) (*unstructured.Unstructured, verdict, bool) {
	for {
		select {
		case <-ctx.Done():
			return obj, v, false
		case ev, ok := <-w.ResultChan():
			if !ok {
				return obj, v, false
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				if u, ok := ev.Object.(*unstructured.Unstructured); ok {
					obj = u
				}
			case watch.Deleted:
				obj = nil
			case watch.Error:
				// Usually 410 Gone: the resourceVersion is too old; read again.
				return obj, v, false
			default:
				continue
			}
			if v = chk(t, obj); v.done || v.failed {
				return obj, v, true
			}
		}
	}
}

// sleep waits for the backoff (doubling it up to 2s) unless ctx ends.
func sleep(ctx context.Context, backoff *time.Duration) bool {
	t := time.NewTimer(*backoff)
	defer t.Stop()
	*backoff = min(*backoff*2, 2*time.Second)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// entryResource maps an inventory entry to its resource. A kind the API
// server no longer serves (its CRD is gone) yields errKindGone.
func (m *Manager) entryResource(ctx context.Context, e InventoryEntry) (dynamic.ResourceInterface, error) {
	mapping, err := m.client.Mapper.RESTMappingWithContext(ctx, schemaGK(e), e.Version)
	if isNoMatch(err) {
		// The discovery cache may predate a CRD established since.
		m.client.Mapper.ResetWithContext(ctx)
		mapping, err = m.client.Mapper.RESTMappingWithContext(ctx, schemaGK(e), e.Version)
	}
	if err != nil {
		if isNoMatch(err) {
			return nil, errKindGone
		}
		return nil, err
	}
	return m.resource(mapping.Resource, mapping.Scope.Name() == meta.RESTScopeNameNamespace, e.Namespace), nil
}

// errKindGone means the API server does not serve the kind (any more).
var errKindGone = errors.New("the API server does not serve this kind")
