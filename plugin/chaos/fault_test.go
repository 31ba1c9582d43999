package chaos_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/chaosdaemon"
)

// The tests here run on apprig: the demo pod's faults are real on
// f.rig.ProxyURL (real controller -> daemon stand-in -> fault proxy).

func TestCancel(t *testing.T) {
	t.Run("a cancel during injection (a slow daemon call) ends cancelled, with the object gone and no fault left", func(t *testing.T) {
		f := newRig(t)
		// Every daemon call of the namespace takes 5 s: the cancel comes
		// while the controller's first call is under way.
		f.knob(t, chaosdaemon.DelayAnnotation, "5s")
		o := f.opts(f.abortFor(t, 2*time.Minute))
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		ch, n := f.startRun(t, ctx, o)
		f.waitCondition(t, n, api.ConditionSelected, "True")
		cancel()
		out := wait(t, ch, 3*time.Minute)
		res, err := out.res, out.err
		if res.Verdict != chaos.VerdictCancelled || !errors.Is(err, context.Canceled) || chaos.IsCleanupIncomplete(err) {
			t.Fatalf("verdict %s, err %v", res.Verdict, err)
		}
		// The controller completes the slow apply before it recovers, so
		// the cleanup may see the target injected: after the cancel.
		for _, e := range res.Timeline {
			if e.Step == chaos.StepInjected {
				t.Errorf("injected before the cancel: timeline %v", steps(res))
			}
			if e.Step == chaos.StepCancelled {
				break
			}
		}
		if cl := res.Cleanup; cl == nil || cl.Outcome != chaos.CleanupComplete {
			t.Errorf("cleanup %+v", cl)
		}
		f.assertGone(t, n)
		f.assertNoRules(t, n)
		if err := f.get200(); err != nil {
			t.Errorf("after the cancel, requests through the proxy fail: %v", err)
		}
	})

	t.Run("a cancel during the hold ends cancelled, with the object gone and the fault cleared", func(t *testing.T) {
		f := newRig(t)
		if err := f.get200(); err != nil {
			t.Fatalf("before the run: %v", err)
		}
		o := f.opts(f.abortFor(t, 2*time.Minute))
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		ch, n := f.startInjected(t, ctx, o)
		eventually(t, 30*time.Second, func() string {
			if err := f.get200(); err == nil {
				return "requests still succeed while injected"
			}
			return ""
		})
		cancel()
		out := wait(t, ch, 2*time.Minute)
		if out.res.Verdict != chaos.VerdictCancelled || !errors.Is(out.err, context.Canceled) {
			t.Fatalf("verdict %s, err %v", out.res.Verdict, out.err)
		}
		if cl := out.res.Cleanup; cl == nil || cl.Outcome != chaos.CleanupComplete {
			t.Errorf("cleanup %+v", cl)
		}
		f.assertGone(t, n)
		f.assertNoRules(t, n)
		if err := f.get200(); err != nil {
			t.Errorf("after the cancel, requests through the proxy fail: %v", err)
		}
	})
}

// TestPauseResume: the pause annotation set by SetPaused is honoured by
// the real controller, and the run's timeline shows both.
func TestPauseResume(t *testing.T) {
	t.Run("pausing sets the Paused condition and lifts the fault, resuming brings it back, and the run passes", func(t *testing.T) {
		f := newRig(t)
		o := f.opts(f.abortFor(t, 30*time.Second))
		sel := chaos.Selection{Namespace: f.ns, Kind: "HTTPChaos"}
		o.Hooks.During = func(ctx context.Context, _ func(string)) {
			if _, err := f.r.SetPaused(ctx, sel, true); err != nil {
				t.Errorf("pause: %v", err)
				return
			}
		}
		// The hook pauses at once: the run's AllInjected may be True for
		// too short a while to be polled.
		ch, n := f.startRun(t, t.Context(), o)
		eventually(t, time.Minute, func() string {
			if c := condition(f.get(t, n), api.ConditionPaused); c != "True" {
				return "Paused " + c
			}
			if err := f.get200(); err != nil {
				return "paused, requests still fail: " + err.Error()
			}
			return ""
		})
		if _, err := f.r.SetPaused(t.Context(), sel, false); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Minute, func() string {
			u := f.get(t, n)
			if c := condition(u, api.ConditionPaused); c != "False" {
				return "Paused " + c
			}
			if c := condition(u, api.ConditionAllInjected); c != "True" {
				return "resumed, AllInjected " + c
			}
			return ""
		})
		out := wait(t, ch, 3*time.Minute)
		if out.err != nil || out.res.Verdict != chaos.VerdictPass || !hasStep(out.res, chaos.StepPaused) || !hasStep(out.res, chaos.StepResumed) {
			t.Fatalf("verdict %s, err %v, timeline %v", out.res.Verdict, out.err, steps(out.res))
		}
		f.assertGone(t, n)
		f.assertNoRules(t, n)
	})
}
