package chaos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

// errAborted ends the hold when a must-hold probe is breached.
var errAborted = errors.New("aborted")

// Run performs one experiment: guardrails and preflight (its reads in
// parallel, with the server-side dry run alongside), gate hook, intent,
// the dry run's outcome, create, wait for Selected and AllInjected,
// hold for the duration, wait for the controller's stop and AllRecovered,
// delete and wait until gone. On cancel it deletes the object and waits
// for it to be gone as a normal cleanup does (DeleteTimeout, and the
// forced steps with ForceCleanup), capped by CleanupGrace when set; an
// object still there is a *CleanupIncompleteError naming its finalizers
// and the next step. The Result is returned with the error, if any.
func (r *Runner) Run(ctx context.Context, opts RunOptions) (*Result, error) {
	opts.setDefaults()
	obj := opts.Object
	if obj == nil || obj.Spec == nil {
		return nil, failure.Invalidf("spec", "no chaos experiment given")
	}
	if obj.Namespace == "" {
		obj.Namespace = opts.Namespace
	}
	if obj.Namespace == "" {
		return nil, failure.Invalidf("namespace", "not set; give the namespace of the chaos object")
	}
	kind, ok := api.KindNamed(obj.Spec.Kind())
	if !ok {
		return nil, failure.Invalidf("kind", "%s is not a chaos kind (one of %s)", obj.Spec.Kind(), strings.Join(api.KindNames(), ", "))
	}
	if opts.Owner.RunID == "" {
		opts.Owner.RunID = NewRunID()
	}
	setDuration(obj, opts.Duration)
	obj.Name = objectName(kind, opts.Owner.RunID)
	obj.APIVersion, obj.Kind = api.GroupVersion.String(), kind.Name
	r.label(obj, opts.Owner)

	run := &run{r: r, opts: opts, kind: kind, obj: obj, res: &Result{
		Kind: kind.Name, Namespace: obj.Namespace, Name: obj.Name, RunID: opts.Owner.RunID,
		Ref: ref(kind.Name, obj.Namespace, obj.Name), Started: r.Now(), Spec: api.Redacted(obj.Spec),
	}}
	if err := opts.Check(); err != nil {
		return run.end(verdictFor(err, VerdictPrecheckFailed), err)
	}
	// The server-side dry run creates nothing: it runs alongside the
	// preflight and its outcome is taken where the serial lifecycle would
	// have made the call, after the gate and the intent.
	dctx, stopDry := context.WithCancel(ctx)
	defer stopDry()
	dry := startRead(func() (struct{}, error) { return struct{}{}, run.dryRun(dctx) })
	if _, err := r.Preflight(ctx, opts); err != nil {
		return run.end(verdictFor(err, VerdictPrecheckFailed), err)
	}
	run.event(StepPreflight, "preflight passed")
	if h := opts.Hooks.Before; h != nil {
		if err := h(ctx); err != nil {
			return run.end(VerdictPrecheckFailed, fmt.Errorf("gate: %w", err))
		}
	}
	if opts.OnIntent != nil {
		if err := opts.OnIntent(obj.Name); err != nil {
			return run.end(VerdictError, fmt.Errorf("record intent: %w", err))
		}
	}
	if _, err := dry.get(); err != nil {
		return run.end(verdictFor(err, VerdictError), err)
	}
	if err := run.create(ctx); err != nil {
		if ctx.Err() != nil {
			// The API server may have created the object although the
			// request was cut off: clean up what this run may own.
			return run.cancelledCreate(ctx, err)
		}
		return run.end(verdictFor(err, VerdictError), err)
	}
	return run.afterCreate(ctx)
}

// cancelledCreate ends a run cancelled while its create was in flight. The
// object's name is the run's, so one of that name labelled with this run is
// this run's: it is deleted as after any cancel. Otherwise nothing was
// created.
func (x *run) cancelledCreate(ctx context.Context, createErr error) (*Result, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), x.cleanupBudget())
	defer cancel()
	got, err := x.r.chaos(x.kind, x.obj.Namespace).Get(cctx, x.obj.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return x.end(VerdictCancelled, createErr)
	case err != nil:
		return x.end(VerdictCancelled, fmt.Errorf("%w; whether the API server created %s is unknown (%v): run chaos_actions.reap", createErr, x.res.Ref, err))
	case got.GetLabels()[LabelRun] != labelValue(x.opts.Owner.RunID):
		return x.end(VerdictCancelled, createErr)
	}
	x.uid = got.GetUID()
	x.res.Created = got.GetCreationTimestamp().Time
	x.event(StepCreated, "created although the create request was cancelled")
	return x.cancelled(ctx)
}

// verdictFor maps a failed step to a verdict.
func verdictFor(err error, otherwise Verdict) Verdict {
	switch {
	case IsPrecheck(err) || failure.IsInvalid(err):
		return VerdictPrecheckFailed
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return VerdictCancelled
	}
	return otherwise
}

func (r *Runner) label(obj *api.Object, o Owner) {
	l := obj.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[LabelManagedBy] = ManagedBy
	l[LabelRun] = labelValue(o.RunID)
	for k, v := range map[string]string{LabelDeployment: o.Deployment, LabelBlueprint: o.Blueprint, LabelExecution: o.Execution} {
		if v != "" {
			l[k] = labelValue(v)
		}
	}
	obj.SetLabels(l)
}

// run is the state of one Run.
type run struct {
	r    *Runner
	opts RunOptions
	kind api.Kind
	obj  *api.Object
	res  *Result
	last *api.Object // latest version seen
	// seen is last, for the progress lines of another goroutine.
	seen atomic.Pointer[api.Object]
	uid  types.UID // of the created (or adopted) object

	abortReason string
}

func (x *run) event(step Step, format string, args ...any) {
	now := x.r.Now()
	detail := fmt.Sprintf(format, args...)
	x.res.Timeline = append(x.res.Timeline, Event{At: now, Step: step, Detail: detail})
	since := ""
	if !x.res.Created.IsZero() {
		since = fmt.Sprintf(" (+%.2fs)", now.Sub(x.res.Created).Seconds())
	}
	x.r.Log.Info(fmt.Sprintf("%s: %s%s", x.res.Ref, detail, since))
}

func (x *run) end(v Verdict, err error) (*Result, error) {
	x.res.Verdict = v
	x.res.Ended = x.r.Now()
	if err != nil {
		x.res.Reason = err.Error()
		err = fmt.Errorf("%s: %w", x.res.Ref, err)
	}
	if x.last != nil {
		x.res.Targets = x.last.Status.Experiment.Records
	}
	return x.res, err
}

// dryRun validates the object with a server-side dry run (schema and
// admission webhooks); it creates nothing. An object of the same run
// already there (a retried operation) passes: create adopts it.
func (x *run) dryRun(ctx context.Context) error {
	u, err := api.ToUnstructured(x.obj)
	if err != nil {
		return err
	}
	res := x.r.chaos(x.kind, x.obj.Namespace)
	if _, err := res.Create(ctx, u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: "chaosops"}); err != nil && !apierrors.IsAlreadyExists(err) {
		if denial, ok := webhookDenial(err); ok {
			return precheckf("admission webhook", "the server-side dry run was denied, nothing was created: %s", denial)
		}
		if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
			return failure.Invalidf("spec", "the API server rejected %s: %v", x.res.Ref, err)
		}
		return fmt.Errorf("dry-run create: %w", err)
	}
	return nil
}

// create creates the object, which dryRun has validated. An object of the
// same run already there (a retried operation) is adopted.
func (x *run) create(ctx context.Context) error {
	u, err := api.ToUnstructured(x.obj)
	if err != nil {
		return err
	}
	res := x.r.chaos(x.kind, x.obj.Namespace)
	created, err := res.Create(ctx, u, metav1.CreateOptions{FieldManager: "chaosops"})
	if denial, ok := webhookDenial(err); ok {
		return precheckf("admission webhook", "the create was denied, nothing was created: %s", denial)
	}
	if apierrors.IsAlreadyExists(err) {
		created, err = res.Get(ctx, x.obj.Name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("read existing object: %w", err)
		}
		if created.GetLabels()[LabelRun] != labelValue(x.opts.Owner.RunID) {
			return fmt.Errorf("an object of the same name that chaosops did not create for this run exists; delete it or use another run id")
		}
		x.res.Created = created.GetCreationTimestamp().Time
		x.uid = created.GetUID()
		x.event(StepCreated, "adopted the object created by an earlier attempt of this run")
		return nil
	}
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	x.res.Created = created.GetCreationTimestamp().Time
	x.uid = created.GetUID()
	if x.res.Created.IsZero() {
		x.res.Created = x.r.Now()
	}
	d := ""
	if dur := x.obj.Spec.Common().Duration; dur != nil {
		d = *dur
	}
	x.event(StepCreated, "created (duration %s)", d)
	return nil
}

// afterCreate runs the rest of the lifecycle; every path ends with the
// object deleted (or reported stuck).
func (x *run) afterCreate(ctx context.Context) (*Result, error) {
	if err := x.waitInjected(ctx); err != nil {
		if ctx.Err() != nil {
			return x.cancelled(ctx)
		}
		tdErr := x.teardown(ctx)
		return x.end(VerdictInjectionFailed, joinLine(err, tdErr))
	}
	aborted, err := x.hold(ctx)
	if ctx.Err() != nil {
		return x.cancelled(ctx)
	}
	if err != nil {
		tdErr := x.teardown(ctx)
		return x.end(VerdictError, joinLine(err, tdErr))
	}
	if !aborted && !x.obj.Spec.OneShot() {
		if err := x.waitRecovered(ctx); err != nil {
			if ctx.Err() != nil {
				return x.cancelled(ctx)
			}
			tdErr := x.teardown(ctx)
			return x.end(VerdictError, joinLine(err, tdErr))
		}
	}
	if err := x.teardown(ctx); err != nil {
		if ctx.Err() != nil {
			return x.cancelled(ctx)
		}
		return x.end(VerdictError, err)
	}
	if aborted {
		return x.end(VerdictSLOBreach, fmt.Errorf("%s", x.abortReason))
	}
	verdict, reason := VerdictPass, ""
	if h := x.opts.Hooks.After; h != nil {
		x.res.Verdict = VerdictPass
		verdict, reason = h(ctx, x.res)
	}
	if x.res.RecoveryUnverified && verdict == VerdictPass {
		verdict, reason = VerdictRecoveredButDegraded, "recovery unverified: the finalizer was forced off (force_cleanup)"
	}
	if verdict != VerdictPass {
		return x.end(verdict, errors.New(reason))
	}
	return x.end(VerdictPass, nil)
}

// cancelled cleans up after a cancel: the same teardown as a normal
// cleanup, on a context of its own.
func (x *run) cancelled(ctx context.Context) (*Result, error) {
	cause := context.Cause(ctx)
	budget := x.cleanupBudget()
	x.event(StepCancelled, "cancelled (%v): deleting the chaos object and waiting up to %s for it to be gone", cause, min(budget, x.opts.DeleteTimeout))
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	defer cancel()
	if err := x.teardown(cctx); err != nil {
		return x.end(VerdictCancelled, fmt.Errorf("cancelled (%w); %w", cause, err))
	}
	return x.end(VerdictCancelled, fmt.Errorf("cancelled: %w", cause))
}

// cleanupBudget bounds the cleanup after a cancel: CleanupBudget, capped
// by CleanupGrace when the caller set one.
func (x *run) cleanupBudget() time.Duration {
	b := CleanupBudget(x.opts.DeleteTimeout, x.opts.ForceCleanup)
	if g := x.opts.CleanupGrace; g > 0 && g < b {
		b = g
	}
	return b
}

// CleanupBudget is what a run's cleanup after a cancel may take: what a
// normal teardown may (the wait for the object to be gone, and with force
// the two forced waits), the reserve for the report and a second for the
// delete and patch calls. A deleteTimeout of 0 is DefaultDeleteTimeout.
func CleanupBudget(deleteTimeout time.Duration, force bool) time.Duration {
	if deleteTimeout <= 0 {
		deleteTimeout = DefaultDeleteTimeout
	}
	waits := time.Duration(1)
	if force {
		waits = 3 // the wait, the one after cleanFinalizer, the one after the patch
	}
	return waits*deleteTimeout + cleanupReserve + time.Second
}

// joinLine joins errors on one line ("; "), so that a one-line outcome
// (a Cloudify abort message) keeps the cleanup's part; errors.Is and
// errors.As see every part.
func joinLine(errs ...error) error {
	var out lineErrors
	for _, e := range errs {
		if e != nil {
			out = append(out, e)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return out
}

type lineErrors []error

func (l lineErrors) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

func (l lineErrors) Unwrap() []error { return l }
