package chaos

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

func isTrue(o *api.Object, t api.ConditionType) bool {
	st, ok := api.Condition(o, t)
	return ok && st == corev1.ConditionTrue
}

// observe records condition changes of a new version in the timeline.
func (x *run) observe(o *api.Object) {
	prev := x.last
	x.last = o
	for _, t := range api.ConditionTypes {
		was := prev != nil && isTrue(prev, t)
		now := isTrue(o, t)
		if was == now {
			continue
		}
		switch {
		case t == api.ConditionSelected && now:
			x.event(StepSelected, "selected %d targets", len(o.Status.Experiment.Records))
		case t == api.ConditionAllInjected && now:
			if x.res.Injected.IsZero() {
				x.res.Injected = x.r.Now()
			}
			x.event(StepInjected, "all %d targets injected after %.2fs", len(o.Status.Experiment.Records), x.r.Now().Sub(x.res.Created).Seconds())
		case t == api.ConditionAllRecovered && now:
			x.res.Recovered = x.r.Now()
			x.event(StepRecovered, "all targets recovered")
		case t == api.ConditionPaused && now:
			x.event(StepPaused, "paused")
		case t == api.ConditionPaused && !now:
			x.event(StepResumed, "resumed")
		default:
			x.event(StepCondition, "%s is %v", t, now)
		}
	}
}

// waitInjected waits with a watch for Selected and AllInjected within the
// injection timeout. On timeout the error carries the per-target failures.
func (x *run) waitInjected(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, x.opts.InjectionTimeout)
	defer cancel()
	err := watchObject(wctx, x.r.chaos(x.kind, x.obj.Namespace), x.obj.Name, func(o *api.Object) (bool, error) {
		if o == nil {
			return true, fmt.Errorf("the chaos object was deleted by someone else before injection")
		}
		x.observe(o)
		if isTrue(o, api.ConditionAllInjected) {
			return true, nil
		}
		// A retried operation may adopt an object whose fault was injected
		// and has already ended: AllInjected will not be true again.
		if injectedOnce(o) {
			x.event(StepCondition, "every target was injected before this attempt; the fault has ended")
			return true, nil
		}
		return false, nil
	})
	if err != nil && ctx.Err() == nil && wctx.Err() != nil {
		return fmt.Errorf("not all targets injected within %s (injection_timeout)%s", x.opts.InjectionTimeout, recordFailures(x.last, api.OperationApply))
	}
	return err
}

// injectedOnce reports an object whose every target was injected and
// recovered since, as the controller leaves it once the duration is over.
func injectedOnce(o *api.Object) bool {
	recs := o.Status.Experiment.Records
	if len(recs) == 0 || !isTrue(o, api.ConditionAllRecovered) {
		return false
	}
	for _, r := range recs {
		if r.InjectedCount == 0 {
			return false
		}
	}
	return true
}

// recordFailures lists the failed attempts of each record, for messages.
func recordFailures(o *api.Object, op api.RecordOperation) string {
	if o == nil {
		return ": the controller never reported status"
	}
	if len(o.Status.Experiment.Records) == 0 {
		return ": no target was selected"
	}
	var parts []string
	for _, rec := range o.Status.Experiment.Records {
		for i := len(rec.Events) - 1; i >= 0; i-- {
			ev := rec.Events[i]
			if ev.Operation == op && ev.Type == api.EventFailed {
				parts = append(parts, fmt.Sprintf("%s: %s", rec.Id, ev.Message))
				break
			}
		}
		if len(parts) == 0 || !strings.HasPrefix(parts[len(parts)-1], rec.Id+":") {
			parts = append(parts, fmt.Sprintf("%s: %s", rec.Id, rec.Phase))
		}
	}
	sort.Strings(parts)
	return ": " + strings.Join(parts, "; ")
}

// hold waits until the duration is over (counted from creation, as the
// controller counts it), while the During hook runs and may abort.
func (x *run) hold(ctx context.Context) (aborted bool, err error) {
	if x.obj.Spec.OneShot() {
		return false, nil
	}
	d, err := holdFor(x.obj)
	if err != nil {
		return false, err
	}
	hctx, cancel := context.WithDeadlineCause(ctx, x.res.Created.Add(d), errHoldOver)
	defer cancel()
	hctx, abort := context.WithCancelCause(hctx)
	defer abort(nil)
	var wg sync.WaitGroup
	var once sync.Once
	if h := x.opts.Hooks.During; h != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h(hctx, func(reason string) {
				once.Do(func() {
					x.abortReason = reason
					abort(errAborted)
				})
			})
		}()
	}
	werr := watchObject(hctx, x.r.chaos(x.kind, x.obj.Namespace), x.obj.Name, func(o *api.Object) (bool, error) {
		if o == nil {
			return true, fmt.Errorf("the chaos object was deleted by someone else during the hold")
		}
		x.observe(o)
		return false, nil
	})
	abort(nil)
	wg.Wait()
	cause := context.Cause(hctx)
	switch {
	case ctx.Err() != nil:
		return false, context.Cause(ctx)
	case errors.Is(cause, errAborted):
		x.event(StepAborted, "aborted: %s", x.abortReason)
		return true, nil
	case errors.Is(cause, errHoldOver):
		x.event(StepHoldEnded, "duration over")
		return false, nil
	}
	return false, werr
}

var errHoldOver = errors.New("duration over")

// waitRecovered waits for AllRecovered after the duration.
func (x *run) waitRecovered(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, x.opts.RecoveryTimeout)
	defer cancel()
	err := watchObject(wctx, x.r.chaos(x.kind, x.obj.Namespace), x.obj.Name, func(o *api.Object) (bool, error) {
		if o == nil {
			return true, fmt.Errorf("the chaos object was deleted by someone else before recovery was seen")
		}
		x.observe(o)
		return isTrue(o, api.ConditionAllRecovered), nil
	})
	if err != nil && ctx.Err() == nil && wctx.Err() != nil {
		return fmt.Errorf("targets not recovered within %s after the duration (recovery_timeout)%s", x.opts.RecoveryTimeout, recordFailures(x.last, api.OperationRecover))
	}
	return err
}

// teardown deletes the object and waits until it is gone. A finalizer that
// does not clear is reported with the records still injected; with
// ForceCleanup it is removed with Chaos Mesh's cleanFinalizer annotation.
func (x *run) teardown(ctx context.Context) error {
	res := x.r.chaos(x.kind, x.obj.Namespace)
	err := res.Delete(ctx, x.obj.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete: %w", err)
	}
	gone := func(ctx context.Context) error {
		return watchObject(ctx, res, x.obj.Name, func(o *api.Object) (bool, error) {
			if o == nil {
				return true, nil
			}
			x.observe(o)
			return false, nil
		})
	}
	wctx, cancel := context.WithTimeout(ctx, x.opts.DeleteTimeout)
	err = gone(wctx)
	cancel()
	if err == nil {
		x.res.Deleted = x.r.Now()
		x.event(StepDeleted, "deleted")
		return nil
	}
	if ctx.Err() != nil || wctx.Err() == nil {
		return fmt.Errorf("wait for deletion: %w", err)
	}
	stuck := fmt.Sprintf("still present %s after delete, held by finalizers %v%s", x.opts.DeleteTimeout, x.last.GetFinalizers(), injectedRecords(x.last))
	x.event(StepStuck, "%s", stuck)
	if !x.opts.ForceCleanup {
		return fmt.Errorf("%s; set force_cleanup: true to remove the finalizer (recovery then unverified)", stuck)
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, api.CleanFinalizerAnnotation, api.CleanFinalizerForced)
	if _, err := res.Patch(ctx, x.obj.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("%s; forcing the finalizer off failed: %w", stuck, err)
	}
	x.res.RecoveryUnverified = true
	x.event(StepForced, "finalizer forced off with %s=%s: recovery unverified", api.CleanFinalizerAnnotation, api.CleanFinalizerForced)
	wctx, cancel = context.WithTimeout(ctx, x.opts.DeleteTimeout)
	defer cancel()
	if err := gone(wctx); err != nil {
		// Chaos Mesh only honours cleanFinalizer once its records step
		// passes; when recovery keeps failing, remove the finalizers directly.
		if _, perr := res.Patch(ctx, x.obj.Name, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); perr != nil && !apierrors.IsNotFound(perr) {
			return fmt.Errorf("still present after forcing the finalizer off: %w; removing finalizers failed: %w", err, perr)
		}
		x.event(StepForced, "finalizers removed directly: the controller kept them while recovery failed")
		wctx2, cancel2 := context.WithTimeout(ctx, x.opts.DeleteTimeout)
		defer cancel2()
		if err := gone(wctx2); err != nil {
			return fmt.Errorf("still present after removing its finalizers: %w", err)
		}
	}
	x.res.Deleted = x.r.Now()
	x.event(StepDeleted, "deleted (forced)")
	return nil
}

func injectedRecords(o *api.Object) string {
	if o == nil {
		return ""
	}
	var ids []string
	for _, r := range o.Status.Experiment.Records {
		if r.Phase != api.PhaseNotInjected {
			ids = append(ids, r.Id+" ("+string(r.Phase)+")")
		}
	}
	if len(ids) == 0 {
		return ""
	}
	return "; records still injected: " + strings.Join(ids, ", ")
}
