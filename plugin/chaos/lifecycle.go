package chaos

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

func isTrue(o *api.Object, t api.ConditionType) bool {
	st, ok := api.Condition(o, t)
	return ok && st == corev1.ConditionTrue
}

// observe records condition changes of a new version in the timeline.
// The first version seen of an object this run neither created nor
// adopted (reap, halt_all) is where the watch starts, not a change.
func (x *run) observe(o *api.Object) {
	prev := x.last
	x.last = o
	x.seen.Store(o)
	if prev == nil && x.res.Created.IsZero() {
		return
	}
	for _, t := range api.ConditionTypes {
		was := prev != nil && isTrue(prev, t)
		now := isTrue(o, t)
		if was == now {
			continue
		}
		switch {
		case t == api.ConditionSelected && now:
			x.event(StepSelected, "selected %s", plural(len(o.Status.Experiment.Records), "target"))
		case t == api.ConditionAllInjected && now:
			if x.res.Injected.IsZero() {
				x.res.Injected = x.r.Now()
			}
			after := ""
			if !x.res.Created.IsZero() {
				after = fmt.Sprintf(" after %.2fs", x.r.Now().Sub(x.res.Created).Seconds())
			}
			x.event(StepInjected, "all targets injected%s (%s)", after, plural(len(o.Status.Experiment.Records), "target"))
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
// injection timeout. A permanent failure (see failurePatterns) ends the
// wait at once; a transient one is waited out. On timeout the error
// carries the per-target failures.
func (x *run) waitInjected(ctx context.Context) error {
	wctx, cancel := context.WithTimeoutCause(ctx, x.opts.InjectionTimeout, errInjectionTimeout)
	defer cancel()
	wctx, fail := context.WithCancelCause(wctx)
	defer fail(nil)
	// Selection failures leave no record, only a Kubernetes Event, and
	// the controller does not retry them: look for that Event while
	// nothing is selected.
	var selected atomic.Bool
	events := make(chan eventsState, 1)
	go func() { events <- x.watchSelection(wctx, &selected, fail) }()
	stop := x.track(wctx, "wait for every target to be injected (injection_timeout)", api.PhaseInjected)
	defer stop()
	err := watchObject(wctx, x.r.chaos(x.kind, x.obj.Namespace), x.obj.Name, func(o *api.Object) (bool, error) {
		if o == nil {
			return true, fmt.Errorf("the chaos object was deleted by someone else before injection")
		}
		x.observe(o)
		if o.Status.Experiment.Records != nil {
			selected.Store(true)
		}
		if isTrue(o, api.ConditionAllInjected) {
			return true, nil
		}
		// A retried operation may adopt an object whose fault was injected
		// and has already ended: AllInjected will not be true again.
		if injectedOnce(o) {
			x.event(StepCondition, "every target was injected before this attempt; the fault has ended")
			return true, nil
		}
		if msg, ok := permanentRecordFailure(o); ok {
			return true, &permanentError{msg: msg}
		}
		return false, nil
	})
	fail(nil)
	ev := <-events
	var perr *permanentError
	switch {
	case errors.As(err, &perr):
		x.event(StepFailed, "injection failed for good: %s", perr.msg)
		return fmt.Errorf("injection failed for good, not waiting for injection_timeout %s: %s", x.opts.InjectionTimeout, perr.msg)
	case err != nil && ctx.Err() == nil && errors.Is(context.Cause(wctx), errInjectionTimeout):
		return fmt.Errorf("not all targets injected within %s (injection_timeout)%s%s", x.opts.InjectionTimeout, recordFailures(x.last, api.OperationApply), ev.note())
	}
	return err
}

var errInjectionTimeout = errors.New("injection_timeout")

// permanentError ends a wait on a failure that will not go away.
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

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

// recordFailures lists the latest failed attempt of each record, or what
// its phase means, for messages.
func recordFailures(o *api.Object, op api.RecordOperation) string {
	if o == nil {
		return ": the controller never reported status"
	}
	if len(o.Status.Experiment.Records) == 0 {
		return ": no target was selected"
	}
	var parts []string
	for _, rec := range o.Status.Experiment.Records {
		part := fmt.Sprintf("%s: %s", rec.Id, recordWords(rec))
		for i := len(rec.Events) - 1; i >= 0; i-- {
			ev := rec.Events[i]
			if ev.Operation == op && ev.Type == api.EventFailed {
				part = fmt.Sprintf("%s (%s): %s", rec.Id, recordWords(rec), ev.Message)
				break
			}
		}
		parts = append(parts, part)
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

// waitRecovered waits, after the hold, for the controller to stop the
// fault (desiredPhase Stop) and then for AllRecovered, each within the
// recovery timeout. The stop is often late: Chaos Mesh schedules it with a
// RequeueAfter, but any step that asks for a rate-limited requeue replaces
// that schedule (controllers/common/pipeline/pipeline.go Reconcile), so a
// 20 s duration may stop at +29 s. A late stop is not a failure; the
// recovery timeout is counted from the stop.
func (x *run) waitRecovered(ctx context.Context) error {
	res := x.r.chaos(x.kind, x.obj.Namespace)
	holdEnd := x.r.Now()
	if x.last == nil || x.last.Status.Experiment.DesiredPhase != api.DesiredStop {
		wctx, cancel := context.WithTimeoutCause(ctx, x.opts.RecoveryTimeout, errRecoveryTimeout)
		stop := x.track(wctx, "wait for the controller to stop the fault after the duration (recovery_timeout)", "")
		err := watchObject(wctx, res, x.obj.Name, func(o *api.Object) (bool, error) {
			if o == nil {
				return true, fmt.Errorf("the chaos object was deleted by someone else before recovery was seen")
			}
			x.observe(o)
			return o.Status.Experiment.DesiredPhase == api.DesiredStop || isTrue(o, api.ConditionAllRecovered), nil
		})
		stop()
		cancel()
		if err != nil {
			if ctx.Err() == nil && errors.Is(context.Cause(wctx), errRecoveryTimeout) {
				phase := api.DesiredPhase("")
				if x.last != nil {
					phase = x.last.Status.Experiment.DesiredPhase
				}
				return fmt.Errorf("the controller did not stop the fault within %s after the duration (recovery_timeout): desiredPhase is still %q", x.opts.RecoveryTimeout, phase)
			}
			return err
		}
		if late := x.r.Now().Sub(holdEnd); late > time.Second {
			x.event(StepCondition, "the controller stopped the fault %.1fs after the duration", late.Seconds())
		}
	}
	wctx, cancel := context.WithTimeoutCause(ctx, x.opts.RecoveryTimeout, errRecoveryTimeout)
	defer cancel()
	stop := x.track(wctx, "wait for every target to recover (recovery_timeout)", api.PhaseNotInjected)
	defer stop()
	err := watchObject(wctx, res, x.obj.Name, func(o *api.Object) (bool, error) {
		if o == nil {
			return true, fmt.Errorf("the chaos object was deleted by someone else before recovery was seen")
		}
		x.observe(o)
		if isTrue(o, api.ConditionAllRecovered) {
			return true, nil
		}
		if msg, ok := permanentRecordFailure(o); ok {
			return true, &permanentError{msg: msg}
		}
		return false, nil
	})
	var perr *permanentError
	switch {
	case errors.As(err, &perr):
		return fmt.Errorf("recovery failed for good, not waiting for recovery_timeout %s: %s", x.opts.RecoveryTimeout, perr.msg)
	case err != nil && ctx.Err() == nil && errors.Is(context.Cause(wctx), errRecoveryTimeout):
		return fmt.Errorf("targets not recovered within %s after the controller stopped the fault (recovery_timeout)%s", x.opts.RecoveryTimeout, recordFailures(x.last, api.OperationRecover))
	}
	return err
}

var errRecoveryTimeout = errors.New("recovery_timeout")
