package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

// CleanupOutcome says how a run's chaos object went away.
type CleanupOutcome string

// The outcomes.
const (
	// CleanupComplete: the controller recovered every target and released
	// the object.
	CleanupComplete CleanupOutcome = "complete"
	// CleanupForced: the object is gone without the controller's recovery:
	// its finalizer was forced off (force_cleanup) or removed by someone
	// else. The run's Pod*Chaos entries were removed by hand; what could
	// not be verified is listed in Cleanup.Check.
	CleanupForced CleanupOutcome = "forced"
	// CleanupIncomplete: the object is still there; Cleanup.Next says what
	// to do.
	CleanupIncomplete CleanupOutcome = "incomplete"
)

// Cleanup is what the cleanup of a chaos object did and what is left.
type Cleanup struct {
	Outcome CleanupOutcome `json:"outcome"`
	// Finalizers held the object (incomplete) or were forced off (forced).
	Finalizers []string `json:"finalizers,omitempty"`
	// Records are the targets not recovered when last seen, in words.
	Records []string `json:"records,omitempty"`
	// RemovedByHand lists what chaosops removed itself instead of the
	// controller: the finalizer, entries of Pod*Chaos objects.
	RemovedByHand []string `json:"removed_by_hand,omitempty"`
	// Check lists what a person must check: faults chaosops could not
	// confirm are gone.
	Check []string `json:"check,omitempty"`
	// Next is the next step when the cleanup is incomplete.
	Next string `json:"next,omitempty"`
}

// CleanupIncompleteError means the chaos object is still there after the
// cleanup: held by a finalizer, or the delete failed.
type CleanupIncompleteError struct {
	Ref     string
	Reason  string // e.g. "still present 1m0s after delete"
	Cleanup *Cleanup
}

func (e *CleanupIncompleteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cleanup incomplete: %s", e.Reason)
	if len(e.Cleanup.Finalizers) > 0 {
		fmt.Fprintf(&b, ", held by finalizers %v", e.Cleanup.Finalizers)
	}
	if e.Cleanup.Next != "" {
		fmt.Fprintf(&b, "; next: %s", e.Cleanup.Next)
	}
	if len(e.Cleanup.Records) > 0 {
		fmt.Fprintf(&b, "; records not recovered: %s", strings.Join(e.Cleanup.Records, ", "))
	}
	return b.String()
}

// IsCleanupIncomplete reports whether err says a chaos object was left
// behind.
func IsCleanupIncomplete(err error) bool {
	var c *CleanupIncompleteError
	return errors.As(err, &c)
}

// cleanupReserve is kept from a bounded cleanup for the calls that report
// what was left (the waits end this much before the deadline).
const cleanupReserve = 2 * time.Second

// childSettle bounds the wait for chaos-daemon to take a removal of
// Pod*Chaos entries (status.observedGeneration reaching the generation).
const childSettle = 3 * time.Second

// teardown deletes the object and waits until it is gone. A finalizer that
// does not clear is reported with the records not recovered; with
// ForceCleanup it is forced off, first with Chaos Mesh's cleanFinalizer
// annotation, then, when the controller ignores it, with a patch; after
// any removal without recovery, the run's entries are removed from the
// Pod*Chaos objects. The outcome is x.res.Cleanup.
func (x *run) teardown(ctx context.Context) error {
	cl := &Cleanup{}
	x.res.Cleanup = cl
	res := x.r.chaos(x.kind, x.obj.Namespace)
	if err := res.Delete(ctx, x.obj.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		if errors.Is(ctx.Err(), context.Canceled) {
			return fmt.Errorf("delete: %w", err)
		}
		return x.incomplete(cl, fmt.Sprintf("delete failed (%v)", err), x.reapStep())
	}
	waited, err := x.waitGone(ctx, x.opts.DeleteTimeout)
	if err == nil {
		return x.gone(ctx, cl, false)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("wait for deletion: %w", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return x.incomplete(cl, fmt.Sprintf("waiting for the deletion failed (%v)", err), x.reapStep())
	}
	stuck := fmt.Sprintf("still present %s after delete", waited.Round(100*time.Millisecond))
	x.event(StepStuck, "%s, held by finalizers %v%s", stuck, x.finalizers(), notRecovered(x.last))
	if !x.opts.ForceCleanup {
		return x.incomplete(cl, stuck, x.reapStep())
	}

	cl.Finalizers = x.finalizers()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, api.CleanFinalizerAnnotation, api.CleanFinalizerForced)
	if _, err := res.Patch(ctx, x.obj.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return x.incomplete(cl, fmt.Sprintf("%s; forcing the finalizer off failed (%v)", stuck, err), x.patchStep())
	}
	x.res.RecoveryUnverified = true
	cl.RemovedByHand = append(cl.RemovedByHand, fmt.Sprintf("%s: annotation %s=%s set, so the controller drops its finalizers without recovery", x.res.Ref, api.CleanFinalizerAnnotation, api.CleanFinalizerForced))
	x.event(StepForced, "finalizer forced off with %s=%s: recovery unverified", api.CleanFinalizerAnnotation, api.CleanFinalizerForced)
	// Chaos Mesh honours cleanFinalizer in its last pipeline step, which a
	// failing records step never reaches (controllers/common/pipeline:
	// a requeue ends the pass; finalizers.CleanStep comes after
	// records.Step): then waiting for it is pointless.
	if failing, why := recordsStepFailing(x.last); failing {
		x.event(StepForced, "the controller will not honour the annotation while its records step fails (%s)", why)
	} else if _, err := x.waitGone(ctx, x.opts.DeleteTimeout); err == nil {
		return x.gone(ctx, cl, true)
	}
	if _, err := res.Patch(ctx, x.obj.Name, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return x.incomplete(cl, fmt.Sprintf("%s; removing its finalizers failed (%v)", stuck, err), x.patchStep())
	}
	cl.RemovedByHand = append(cl.RemovedByHand, fmt.Sprintf("%s: finalizers %v removed with a patch: the controller kept them while recovery failed", x.res.Ref, cl.Finalizers))
	x.event(StepForced, "finalizers removed directly: the controller kept them while recovery failed")
	if w, err := x.waitGone(ctx, x.opts.DeleteTimeout); err != nil {
		return x.incomplete(cl, fmt.Sprintf("%s; still present %s after its finalizers were removed", stuck, w.Round(100*time.Millisecond)), x.patchStep())
	}
	return x.gone(ctx, cl, true)
}

// waitGone watches until the object is gone, for at most d (less when
// ctx's deadline comes sooner, keeping cleanupReserve for the report). It
// returns the bound it waited with.
func (x *run) waitGone(ctx context.Context, d time.Duration) (time.Duration, error) {
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, max(time.Until(dl)-cleanupReserve, 500*time.Millisecond))
	}
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	stop := x.track(wctx, "wait for the deleted object to be gone (the controller recovers every target first)", api.PhaseNotInjected)
	defer stop()
	err := watchGoneObject(wctx, x.r.chaos(x.kind, x.obj.Namespace), x.obj.Name, func(o *api.Object) (bool, error) {
		if o == nil {
			return true, nil
		}
		x.observe(o)
		return false, nil
	})
	if err != nil && wctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
		err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return d, err
}

// gone ends a teardown whose object is gone. The object was removed
// without recovery when it was forced, or when its last seen records were
// not all recovered (someone removed the finalizer by hand): then the
// run's Pod*Chaos entries are removed and what is left to check is listed.
func (x *run) gone(ctx context.Context, cl *Cleanup, forced bool) error {
	x.res.Deleted = x.r.Now()
	recs := notRecoveredList(x.last)
	if !forced && len(recs) == 0 {
		cl.Outcome = CleanupComplete
		x.event(StepDeleted, "deleted")
		return nil
	}
	cl.Outcome, cl.Records = CleanupForced, recs
	x.res.RecoveryUnverified = true
	if forced {
		x.event(StepDeleted, "deleted (forced)")
	} else {
		cl.RemovedByHand = append(cl.RemovedByHand, fmt.Sprintf("%s: gone before its records recovered: its finalizer was removed outside this cleanup", x.res.Ref))
		x.event(StepDeleted, "deleted without recovery: its finalizer was removed outside this cleanup")
	}
	x.sweepChildren(ctx, cl)
	for _, r := range recs {
		cl.Check = append(cl.Check, fmt.Sprintf("%s (%s): the controller never confirmed its recovery; check that the pod behaves normally, or restart it", r, x.kind.Name))
	}
	return nil
}

// incomplete records a cleanup that left the object behind.
func (x *run) incomplete(cl *Cleanup, reason, next string) error {
	cl.Outcome, cl.Next = CleanupIncomplete, next
	cl.Finalizers, cl.Records = x.finalizers(), notRecoveredList(x.last)
	return &CleanupIncompleteError{Ref: x.res.Ref, Reason: reason, Cleanup: cl}
}

func (x *run) finalizers() []string {
	if x.last == nil {
		return nil
	}
	return x.last.GetFinalizers()
}

// reapStep is the next step for an object held by its finalizer.
func (x *run) reapStep() string {
	sel := "-n " + x.obj.Namespace
	if d := x.obj.Labels[LabelDeployment]; d != "" {
		sel += " --deployment " + d
	}
	if r := x.obj.Labels[LabelRun]; r != "" {
		sel += " --run " + r
	}
	return fmt.Sprintf("reap it with force_cleanup (chaosops chaos reap %s --force-cleanup; in Cloudify chaos_actions.reap with force_cleanup: true)", sel)
}

// patchStep is the next step when even forcing failed.
func (x *run) patchStep() string {
	return fmt.Sprintf(`remove its finalizers by hand (kubectl patch %s %s -n %s --type merge -p '{"metadata":{"finalizers":null}}'), then remove the entries of source %s from the Pod*Chaos objects of its targets`,
		x.kind.Resource, x.obj.Name, x.obj.Namespace, api.RuleSource(x.obj.Namespace, x.obj.Name))
}

// recordsStepFailing reports a deleted object whose controller keeps
// failing on a record: its latest attempt failed and it is not recovered.
func recordsStepFailing(o *api.Object) (bool, string) {
	if o == nil {
		return false, ""
	}
	for _, rec := range o.Status.Experiment.Records {
		if rec.Phase == api.PhaseNotInjected || len(rec.Events) == 0 {
			continue
		}
		if ev := rec.Events[len(rec.Events)-1]; ev.Type == api.EventFailed {
			return true, fmt.Sprintf("%s: %s %s: %s", rec.Id, ev.Operation, ev.Type, ev.Message)
		}
	}
	return false, ""
}

// notRecoveredList says, in words, which records are not recovered.
func notRecoveredList(o *api.Object) []string {
	if o == nil {
		return nil
	}
	var out []string
	for _, r := range o.Status.Experiment.Records {
		if r.Phase != api.PhaseNotInjected {
			out = append(out, r.Id+" "+recordWords(r))
		}
	}
	sort.Strings(out)
	return out
}

func notRecovered(o *api.Object) string {
	l := notRecoveredList(o)
	if len(l) == 0 {
		return ""
	}
	return "; records not recovered: " + strings.Join(l, ", ")
}

// sweepChildren removes the run's entries (source namespace/name) from
// every Pod*Chaos object of the kind's child kinds in the namespaces of
// its targets, and lists what a person must check: the objects it changed
// and the targets' own ones (whose entries the controller may have removed
// while chaos-daemon refused the change) when chaos-daemon has not applied
// them.
func (x *run) sweepChildren(ctx context.Context, cl *Cleanup) {
	kinds := api.ChildKindsOf(x.kind.Name)
	if len(kinds) == 0 {
		return
	}
	src := api.RuleSource(x.obj.Namespace, x.obj.Name)
	type changed struct {
		kind api.ChildKind
		ns   string
		name string
	}
	var toCheck []changed
	targets := x.targetPods()
	for _, k := range kinds {
		for _, ns := range x.childNamespaces() {
			ri := x.r.Dynamic.Resource(k.GroupVersionResource()).Namespace(ns)
			list, err := ri.List(ctx, metav1.ListOptions{})
			if err != nil {
				cl.Check = append(cl.Check, fmt.Sprintf("%s in %s could not be listed (%v): remove the entries of source %s by hand", k.Name, ns, err, src))
				continue
			}
			for i := range list.Items {
				u := &list.Items[i]
				n, err := removeEntries(ctx, ri, u, k, src)
				r := ref(k.Name, ns, u.GetName())
				switch {
				case err != nil:
					cl.Check = append(cl.Check, fmt.Sprintf("%s: its entries of source %s could not be removed (%v): remove them by hand", r, src, err))
				case n > 0:
					cl.RemovedByHand = append(cl.RemovedByHand, fmt.Sprintf("%s: removed %s of source %s", r, plural(n, "entry"), src))
					x.event(StepForced, "%s: removed %s of source %s", r, plural(n, "entry"), src)
					toCheck = append(toCheck, changed{k, ns, u.GetName()})
				case targets[ns+"/"+u.GetName()]:
					toCheck = append(toCheck, changed{k, ns, u.GetName()})
				}
			}
		}
	}
	// chaos-daemon takes the change once the controller's Pod*Chaos
	// reconciler has applied it: status.observedGeneration reaches the
	// generation and no failedMessage is set.
	deadline := time.Now().Add(childSettle)
	for _, c := range toCheck {
		ri := x.r.Dynamic.Resource(c.kind.GroupVersionResource()).Namespace(c.ns)
		var gen, seen int64
		var failed string
		for {
			u, err := ri.Get(ctx, c.name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				gen, seen = 0, 0
				break
			}
			if err == nil {
				gen = u.GetGeneration()
				seen, _, _ = unstructured.NestedInt64(u.Object, "status", "observedGeneration")
				failed, _, _ = unstructured.NestedString(u.Object, "status", "failedMessage")
				if seen >= gen && failed == "" {
					break
				}
			}
			if time.Now().After(deadline) || sleepCtx(ctx, 200*time.Millisecond) != nil {
				break
			}
		}
		if seen < gen || failed != "" {
			msg := fmt.Sprintf("%s: chaos-daemon has not applied the removal (status.observedGeneration %d of generation %d", ref(c.kind.Name, c.ns, c.name), seen, gen)
			if failed != "" {
				msg += ", failedMessage " + failed
			}
			cl.Check = append(cl.Check, msg+fmt.Sprintf("): the fault may still act in pod %s/%s until it does; check the pod, or restart it", c.ns, c.name))
		}
	}
}

// targetPods are the run's target pods ("namespace/name") from its last
// records; a Pod*Chaos object is named after its pod.
func (x *run) targetPods() map[string]bool {
	out := map[string]bool{}
	if x.last == nil {
		return out
	}
	for _, r := range x.last.Status.Experiment.Records {
		parts := strings.SplitN(r.Id, "/", 3) // namespace/pod[/container]
		if len(parts) >= 2 {
			out[parts[0]+"/"+parts[1]] = true
		}
	}
	return out
}

// childNamespaces are where the run's Pod*Chaos objects can be: the
// namespaces of its records and of its selectors.
func (x *run) childNamespaces() []string {
	out := []string{x.obj.Namespace}
	if x.obj.Spec != nil {
		out = append(out, targetNamespaces(x.obj)...)
	}
	if x.last != nil {
		for _, r := range x.last.Status.Experiment.Records {
			if ns, _, ok := strings.Cut(r.Id, "/"); ok {
				out = append(out, ns)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// removeEntries removes the entries of source src from u's lists and
// updates it, re-reading it on conflicts (the controller updates these
// objects too). It returns how many entries it removed.
func removeEntries(ctx context.Context, ri dynamic.ResourceInterface, u *unstructured.Unstructured, k api.ChildKind, src string) (int, error) {
	for attempt := 0; ; attempt++ {
		removed := 0
		for _, path := range k.Entries {
			list, found, err := unstructured.NestedSlice(u.Object, path...)
			if err != nil || !found {
				continue
			}
			kept := make([]any, 0, len(list))
			for _, e := range list {
				if m, ok := e.(map[string]any); ok && m[api.SourceField] == src {
					removed++
					continue
				}
				kept = append(kept, e)
			}
			if len(kept) != len(list) {
				if err := unstructured.SetNestedSlice(u.Object, kept, path...); err != nil {
					return 0, err
				}
			}
		}
		if removed == 0 {
			return 0, nil
		}
		_, err := ri.Update(ctx, u, metav1.UpdateOptions{FieldManager: "chaosops"})
		if err == nil {
			return removed, nil
		}
		if !apierrors.IsConflict(err) || attempt >= 4 {
			return 0, err
		}
		if u, err = ri.Get(ctx, u.GetName(), metav1.GetOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return 0, nil
			}
			return 0, err
		}
	}
}
