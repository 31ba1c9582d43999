package chaos_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/controllerstandin"
)

func TestRunLifecycle(t *testing.T) {
	t.Run("two runs in a row with the same parameters both inject, as two distinct objects", func(t *testing.T) {
		f := newFixture(t)
		var names []string
		for i := 0; i < 2; i++ {
			res, err := f.r.Run(t.Context(), f.opts(f.httpAbort(t, nil)))
			if err != nil || res.Verdict != chaos.VerdictPass {
				t.Fatalf("run %d: verdict %s, err %v\n%s", i, res.Verdict, err, f.logs)
			}
			for _, s := range []chaos.Step{chaos.StepCreated, chaos.StepSelected, chaos.StepInjected, chaos.StepRecovered, chaos.StepDeleted} {
				if !hasStep(res, s) {
					t.Errorf("run %d: timeline %v lacks %s", i, steps(res), s)
				}
			}
			if len(res.Targets) != 1 {
				t.Errorf("run %d: %d targets, want 1 (mode one)", i, len(res.Targets))
			}
			names = append(names, res.Name)
		}
		if names[0] == names[1] {
			t.Errorf("both runs used the name %s", names[0])
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("a run with changed parameters works", func(t *testing.T) {
		f := newFixture(t)
		obj := f.httpAbort(t, nil)
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

	t.Run("an injection failure deletes the object and names each target's failure", func(t *testing.T) {
		f := newFixture(t)
		o := f.opts(f.httpAbort(t, map[string]string{controllerstandin.FailInjectionAnnotation: "true"}))
		o.InjectionTimeout = 3 * time.Second
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictInjectionFailed || err == nil {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		if !strings.Contains(err.Error(), "not all targets injected within 3s") || !strings.Contains(err.Error(), f.ns+"/demo-") {
			t.Errorf("error does not name the failing targets: %v", err)
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("slow injection within the timeout still passes", func(t *testing.T) {
		f := newFixture(t)
		res, err := f.r.Run(t.Context(), f.opts(f.httpAbort(t, map[string]string{controllerstandin.InjectionDelayAnnotation: "1s"})))
		if err != nil || res.Verdict != chaos.VerdictPass {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		if got := res.Injected.Sub(res.Created); got < time.Second {
			t.Errorf("injected after %s, want ≥ the 1s delay", got)
		}
	})

	t.Run("a stuck finalizer is reported with the records still injected", func(t *testing.T) {
		f := newFixture(t)
		o := f.opts(f.httpAbort(t, map[string]string{controllerstandin.StickyFinalizerAnnotation: "true"}))
		o.DeleteTimeout = 2 * time.Second
		res, err := f.r.Run(t.Context(), o)
		if err == nil || !strings.Contains(err.Error(), "held by finalizers [chaos-mesh/records]") || !strings.Contains(err.Error(), "force_cleanup") {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		// reap with force_cleanup clears it.
		ro := f.opts(nil)
		ro.ForceCleanup, ro.DeleteTimeout = true, 5*time.Second
		if _, err := f.r.Reap(t.Context(), chaos.Selection{Namespace: f.ns}, ro); err != nil {
			t.Fatalf("reap: %v", err)
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("force_cleanup removes a stuck finalizer and marks recovery unverified", func(t *testing.T) {
		f := newFixture(t)
		o := f.opts(f.httpAbort(t, map[string]string{controllerstandin.StickyFinalizerAnnotation: "true"}))
		o.DeleteTimeout, o.ForceCleanup = 2*time.Second, true
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictRecoveredButDegraded || !res.RecoveryUnverified || err == nil {
			t.Fatalf("verdict %s, unverified %v, err %v", res.Verdict, res.RecoveryUnverified, err)
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("a recovery that keeps failing is reported, and force_cleanup still frees the object", func(t *testing.T) {
		f := newFixture(t)
		o := f.opts(f.httpAbort(t, map[string]string{controllerstandin.FailRecoveryAnnotation: "daemon unreachable"}))
		o.RecoveryTimeout, o.DeleteTimeout, o.ForceCleanup = 2*time.Second, 2*time.Second, true
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictError || err == nil || !strings.Contains(err.Error(), "daemon unreachable") || !res.RecoveryUnverified {
			t.Fatalf("verdict %s, unverified %v, err %v", res.Verdict, res.RecoveryUnverified, err)
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("cancel mid-run deletes the object and waits for it to be gone", func(t *testing.T) {
		f := newFixture(t)
		ctx, cancel := context.WithCancel(t.Context())
		o := f.opts(f.httpAbort(t, nil))
		d := "1m"
		o.Object.Spec.Common().Duration = &d
		o.Hooks.During = func(context.Context, func(string)) { cancel() }
		res, err := f.r.Run(ctx, o)
		if res.Verdict != chaos.VerdictCancelled || err == nil {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		if res.Deleted.IsZero() {
			t.Errorf("the object was not seen gone: %v", steps(res))
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("a must-hold breach aborts the run early with slo_breach", func(t *testing.T) {
		f := newFixture(t)
		o := f.opts(f.httpAbort(t, nil))
		d := "1m"
		o.Object.Spec.Common().Duration = &d
		o.Hooks.During = func(_ context.Context, abort func(string)) { abort("error rate 80% > 5%") }
		start := time.Now()
		res, err := f.r.Run(t.Context(), o)
		if res.Verdict != chaos.VerdictSLOBreach || err == nil || !strings.Contains(err.Error(), "error rate 80%") {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		if time.Since(start) > 30*time.Second {
			t.Errorf("the abort did not end the 1m hold early")
		}
		f.assertNoChaosLeft(t)
	})

	t.Run("pause and resume are seen in the timeline", func(t *testing.T) {
		f := newFixture(t)
		o := f.opts(f.httpAbort(t, nil))
		d := "6s"
		o.Object.Spec.Common().Duration = &d
		o.Hooks.During = func(ctx context.Context, _ func(string)) {
			sel := chaos.Selection{Namespace: f.ns, Kind: "HTTPChaos"}
			if _, err := f.r.SetPaused(ctx, sel, true); err != nil {
				t.Errorf("pause: %v", err)
			}
			time.Sleep(time.Second)
			if _, err := f.r.SetPaused(ctx, sel, false); err != nil {
				t.Errorf("resume: %v", err)
			}
		}
		res, err := f.r.Run(t.Context(), o)
		if err != nil || !hasStep(res, chaos.StepPaused) || !hasStep(res, chaos.StepResumed) {
			t.Fatalf("verdict %s, err %v, timeline %v", res.Verdict, err, steps(res))
		}
		f.assertNoChaosLeft(t)
	})
}
