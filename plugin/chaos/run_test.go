package chaos_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/chaosdaemon"
)

func TestRunLifecycle(t *testing.T) {
	t.Run("two runs in a row with the same parameters both inject, as two distinct objects", func(t *testing.T) {
		f := newFixture(t)
		var names []string
		for i := 0; i < 2; i++ {
			res, err := f.r.Run(t.Context(), f.opts(f.httpAbort(t)))
			if err != nil || res.Verdict != chaos.VerdictPass {
				t.Fatalf("run %d: verdict %s, err %v\n%s", i, res.Verdict, err, f.logs)
			}
			for _, s := range []chaos.Step{chaos.StepCreated, chaos.StepSelected, chaos.StepInjected, chaos.StepRecovered, chaos.StepDeleted} {
				if !hasStep(res, s) {
					t.Errorf("run %d: timeline %v lacks %s", i, steps(res), s)
				}
			}
			// The controller's last word on the record: recovered.
			if len(res.Targets) != 1 || res.Targets[0].Phase != api.PhaseNotInjected || res.Targets[0].InjectedCount == 0 {
				t.Errorf("run %d: targets %+v, want 1 (mode one), injected and recovered", i, res.Targets)
			}
			if res.Cleanup == nil || res.Cleanup.Outcome != chaos.CleanupComplete || res.RecoveryUnverified {
				t.Errorf("run %d: cleanup %+v, recovery unverified %v", i, res.Cleanup, res.RecoveryUnverified)
			}
			f.assertNoRules(t, res.Name)
			names = append(names, res.Name)
		}
		if names[0] == names[1] {
			t.Errorf("both runs used the name %s", names[0])
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("a run with changed parameters works", func(t *testing.T) {
		f := newFixture(t)
		obj := f.httpAbort(t)
		res, err := f.r.Run(t.Context(), f.opts(obj))
		if err != nil || res.Verdict != chaos.VerdictPass {
			t.Fatalf("first: %s %v", res.Verdict, err)
		}
		changed, err := chaos.HTTPObject(chaos.HTTPOptions{Namespace: f.ns, Selector: map[string]string{"app": "demo"}, Mode: "all", Port: 8080, Path: "/api", Delay: 300 * time.Millisecond, Duration: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		o := f.opts(changed)
		o.Guard.AllowAllTargets = true
		res, err = f.r.Run(t.Context(), o)
		if err != nil || res.Verdict != chaos.VerdictPass || len(res.Targets) != 2 {
			t.Fatalf("changed: verdict %s, %d targets, err %v", res.Verdict, len(res.Targets), err)
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("a slow daemon within the injection timeout still passes", func(t *testing.T) {
		f := newFixture(t)
		f.knob(t, chaosdaemon.DelayAnnotation, "2s")
		res, err := f.r.Run(t.Context(), f.opts(f.httpAbort(t)))
		if err != nil || res.Verdict != chaos.VerdictPass {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		f.assertNoRules(t, res.Name)
	})

	t.Run("a recovery that keeps failing is reported naming the stuck finalizer, and reap with force_cleanup frees the object and its rules", func(t *testing.T) {
		f := newFixture(t)
		f.knob(t, chaosdaemon.FailRecoveryAnnotation, "recovery refused by the test")
		o := f.opts(f.httpAbort(t))
		o.RecoveryTimeout, o.DeleteTimeout = 10*time.Second, 2*time.Second
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictError || !chaos.IsCleanupIncomplete(err) {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		for _, want := range []string{"targets not recovered within 10s", "recovery refused by the test", "held by finalizers [chaos-mesh/records]", "still injected", "force_cleanup"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
		f.reapForced(t, res)
		f.assertNoChaosLeft(t)
	})

	t.Run("force_cleanup frees an object whose recovery keeps failing and marks recovery unverified, leaving no rule", func(t *testing.T) {
		f := newFixture(t)
		f.knob(t, chaosdaemon.FailRecoveryAnnotation, "recovery refused by the test")
		o := f.opts(f.httpAbort(t))
		o.RecoveryTimeout, o.DeleteTimeout, o.ForceCleanup = 10*time.Second, 2*time.Second, true
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictError || err == nil || chaos.IsCleanupIncomplete(err) || !strings.Contains(err.Error(), "recovery refused by the test") || !res.RecoveryUnverified {
			t.Fatalf("verdict %s, unverified %v, err %v", res.Verdict, res.RecoveryUnverified, err)
		}
		if cl := res.Cleanup; cl == nil || cl.Outcome != chaos.CleanupForced || !strings.Contains(strings.Join(cl.RemovedByHand, "\n"), "finalizers [chaos-mesh/records] removed") {
			t.Errorf("cleanup %+v", res.Cleanup)
		}
		// chaos-daemon refused the removal: the pod's PodHttpChaos says so
		// (failedMessage), and the outcome names it for a person to check.
		if cl := res.Cleanup; cl == nil || !strings.Contains(strings.Join(cl.Check, "\n"), "PodHttpChaos/"+f.ns+"/") || !strings.Contains(strings.Join(cl.Check, "\n"), "recovery refused by the test") {
			t.Errorf("the check list should name the pod's PodHttpChaos and the daemon's refusal: %+v", res.Cleanup)
		}
		f.assertNoRules(t, res.Name)
		f.assertNoChaosLeft(t)
	})

	t.Run("cancel mid-run deletes the object and waits for it to be gone", func(t *testing.T) {
		f := newFixture(t)
		ctx, cancel := context.WithCancel(t.Context())
		o := f.opts(f.httpAbort(t))
		d := "1m"
		o.Object.Spec.Common().Duration = &d
		o.Hooks.During = func(context.Context, func(string)) { cancel() }
		res, err := f.r.Run(ctx, o)
		if res.Verdict != chaos.VerdictCancelled || err == nil {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		if res.Deleted.IsZero() || res.Cleanup == nil || res.Cleanup.Outcome != chaos.CleanupComplete {
			t.Errorf("the object was not seen gone: %v, cleanup %+v", steps(res), res.Cleanup)
		}
		f.assertNoRules(t, res.Name)
		f.assertNoChaosLeft(t)
	})

	t.Run("a must-hold breach aborts the run early with slo_breach, and the fault is gone", func(t *testing.T) {
		// The probes that decide the breach are plugin/experiment's; here
		// the During hook reports it once the fault is real.
		f := newRig(t)
		o := f.opts(f.abortFor(t, 2*time.Minute))
		o.Hooks.During = func(ctx context.Context, abort func(string)) {
			for ctx.Err() == nil {
				if f.get200() != nil {
					abort("success rate 0% < 99%")
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictSLOBreach || err == nil || !strings.Contains(err.Error(), "success rate 0%") || !hasStep(res, chaos.StepAborted) {
			t.Fatalf("verdict %s, err %v, timeline %v", res.Verdict, err, steps(res))
		}
		if res.Ended.Sub(res.Created) >= 2*time.Minute {
			t.Errorf("the abort did not end the 2m hold early: %s", res.Ended.Sub(res.Created))
		}
		if res.Cleanup == nil || res.Cleanup.Outcome != chaos.CleanupComplete {
			t.Errorf("cleanup %+v", res.Cleanup)
		}
		f.assertNoRules(t, res.Name)
		f.assertNoChaosLeft(t)
		if err := f.get200(); err != nil {
			t.Errorf("after the abort, requests through the proxy fail: %v", err)
		}
	})
}
