package realtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// TestDaemonFailures: the chaos-daemon stand-in fails the controller's
// calls; the run ends injection_failed, and no rule of the run stays in
// the pod's PodHttpChaos. Both failures (code Unavailable, code Unknown)
// are transient in chaos.FailurePatterns, so the run waits out its
// injection_timeout; it is short here.
func TestDaemonFailures(t *testing.T) {
	testenv.RealChaosMesh(t)
	cases := []struct {
		name string
		// knob is set on the namespace (onNamespace) or the pod.
		onNamespace bool
		key, value  string
		// want is in the error.
		want string
	}{
		{"a daemon unreachable for the namespace ends injection_failed at injection_timeout", true, knobUnreachable, "true", "connection refused"},
		{"a failing daemon call ends injection_failed naming the message", false, knobFail, "boom", "boom"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testenv.RealChaosMesh(t)
			e := newEnv(t)
			if tc.onNamespace {
				e.annotate(t, gvrNamespaces, "", e.rig.Namespace, tc.key, tc.value)
			} else {
				e.annotate(t, gvrPods, e.rig.Namespace, e.pod, tc.key, tc.value)
			}
			o := e.opts(e.abort(t, 30*time.Second))
			o.InjectionTimeout, o.DeleteTimeout = 15*time.Second, 10*time.Second
			start := time.Now()
			res, err := e.r.Run(t.Context(), o)
			took := time.Since(start)
			t.Logf("took %s: %v", took.Round(time.Millisecond), err)
			if res == nil || res.Verdict != chaos.VerdictInjectionFailed || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("verdict %v, err %v; want injection_failed naming %q", res.Verdict, err, tc.want)
			}
			// injection_timeout plus delete_timeout is 25 s.
			if took > 2*time.Minute {
				t.Errorf("injection_failed after %s, want about injection_timeout + delete_timeout (25s)", took)
			}
			switch cl := res.Cleanup; {
			case cl == nil:
				t.Errorf("no cleanup outcome")
			case cl.Outcome == chaos.CleanupIncomplete:
				if cl.Next == "" || !chaos.IsCleanupIncomplete(err) {
					t.Errorf("incomplete cleanup without a next step: %+v, err %v", cl, err)
				}
				// The next step, force_cleanup, must leave no rule.
				ro := e.opts(nil)
				ro.ForceCleanup, ro.DeleteTimeout = true, 10*time.Second
				if _, err := e.r.Reap(t.Context(), chaos.Selection{Namespace: e.rig.Namespace, RunID: res.RunID}, ro); err != nil {
					t.Errorf("reap with force_cleanup: %v", err)
				}
				e.assertGone(t, res.Name)
			case cl.Outcome == chaos.CleanupComplete || cl.Outcome == chaos.CleanupForced:
				e.assertGone(t, res.Name)
			default:
				t.Errorf("cleanup outcome %q", cl.Outcome)
			}
			e.assertNoRules(t, res.Name)
		})
	}
}

// TestStuckFinalizer: injection works, then every daemon call fails, so
// the controller cannot recover and keeps its finalizer.
func TestStuckFinalizer(t *testing.T) {
	testenv.RealChaosMesh(t)
	t.Run("a failing recovery leaves the cleanup incomplete naming the finalizer, and force_cleanup removes the object and its rules", func(t *testing.T) {
		e := newEnv(t)
		o := e.opts(e.abort(t, 8*time.Second))
		o.DeleteTimeout = 10 * time.Second
		ch, n := e.startInjected(t, t.Context(), o)
		e.annotate(t, gvrPods, e.rig.Namespace, e.pod, knobFail, "recovery refused by the test")
		out := wait(t, ch, 3*time.Minute)
		res, err := out.res, out.err
		t.Logf("verdict %s: %v", res.Verdict, err)
		if !chaos.IsCleanupIncomplete(err) || res.Cleanup == nil || res.Cleanup.Outcome != chaos.CleanupIncomplete {
			t.Fatalf("want cleanup incomplete, got verdict %s, cleanup %+v, err %v", res.Verdict, res.Cleanup, err)
		}
		if !strings.Contains(err.Error(), "chaos-mesh/records") || !strings.Contains(res.Cleanup.Next, "force") {
			t.Errorf("the error should name the finalizer chaos-mesh/records and the next step: %v (next %q)", err, res.Cleanup.Next)
		}
		if u := e.get(t, n); u == nil {
			t.Fatalf("the object is gone, want it held by its finalizer")
		}

		ro := e.opts(nil)
		ro.ForceCleanup, ro.DeleteTimeout = true, 10*time.Second
		objs, err := e.r.Reap(t.Context(), chaos.Selection{Namespace: e.rig.Namespace, RunID: res.RunID}, ro)
		if err != nil {
			t.Fatalf("reap with force_cleanup: %v", err)
		}
		if len(objs) != 1 || objs[0].Cleanup == nil || objs[0].Cleanup.Outcome != chaos.CleanupForced {
			t.Errorf("reap: %+v", objs)
		}
		e.assertGone(t, n)
		e.assertNoRules(t, n)
	})
}

// TestCancelDuringHold: a cancel while the fault holds deletes the object
// and the controller recovers the target.
func TestCancelDuringHold(t *testing.T) {
	testenv.RealChaosMesh(t)
	t.Run("a cancel during the hold ends cancelled with the object gone and the fault cleared", func(t *testing.T) {
		e := newEnv(t)
		if err := get200(e.rig.ProxyURL); err != nil {
			t.Fatalf("before the run: %v", err)
		}
		o := e.opts(e.abort(t, 2*time.Minute))
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		ch, n := e.startInjected(t, ctx, o)
		eventually(t, 30*time.Second, func() string {
			if err := get200(e.rig.ProxyURL); err == nil {
				return "requests still succeed while injected"
			}
			return ""
		})
		time.Sleep(2 * time.Second)
		cancel()
		out := wait(t, ch, 2*time.Minute)
		if out.res.Verdict != chaos.VerdictCancelled || !errors.Is(out.err, context.Canceled) {
			t.Fatalf("verdict %s, err %v", out.res.Verdict, out.err)
		}
		if cl := out.res.Cleanup; cl == nil || cl.Outcome != chaos.CleanupComplete {
			t.Errorf("cleanup %+v", cl)
		}
		e.assertGone(t, n)
		e.assertNoRules(t, n)
		if err := get200(e.rig.ProxyURL); err != nil {
			t.Errorf("after the cancel, requests through the proxy fail: %v", err)
		}
	})
}

// TestPauseResume: the pause annotation set by SetPaused is honoured by
// the real controller.
func TestPauseResume(t *testing.T) {
	testenv.RealChaosMesh(t)
	t.Run("pausing a running experiment sets the Paused condition and resuming clears it", func(t *testing.T) {
		e := newEnv(t)
		o := e.opts(e.abort(t, 2*time.Minute))
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		ch, n := e.startInjected(t, ctx, o)
		sel := chaos.Selection{Namespace: e.rig.Namespace, RunID: o.Owner.RunID, Name: n}
		if o.Owner.RunID == "" {
			sel = chaos.Selection{Namespace: e.rig.Namespace, Name: n}
		}
		if _, err := e.r.SetPaused(t.Context(), sel, true); err != nil {
			t.Fatal(err)
		}
		eventually(t, 60*time.Second, func() string {
			if c := condition(e.get(t, n), "Paused"); c != "True" {
				return "Paused " + c
			}
			return ""
		})
		eventually(t, 30*time.Second, func() string {
			if err := get200(e.rig.ProxyURL); err != nil {
				return "paused, requests still fail: " + err.Error()
			}
			return ""
		})
		if _, err := e.r.SetPaused(t.Context(), sel, false); err != nil {
			t.Fatal(err)
		}
		eventually(t, 60*time.Second, func() string {
			u := e.get(t, n)
			if c := condition(u, "Paused"); c != "False" {
				return "Paused " + c
			}
			if c := condition(u, "AllInjected"); c != "True" {
				return "resumed, AllInjected " + c
			}
			return ""
		})
		cancel()
		out := wait(t, ch, 2*time.Minute)
		if out.res.Verdict != chaos.VerdictCancelled {
			t.Errorf("verdict %s, err %v", out.res.Verdict, out.err)
		}
		e.assertGone(t, n)
		e.assertNoRules(t, n)
	})
}

// TestReapAndHaltAll: objects of a run whose process died are removed by
// reap (one run) and halt_all (every chaosops object of the namespace).
func TestReapAndHaltAll(t *testing.T) {
	testenv.RealChaosMesh(t)
	cases := []struct {
		name string
		sel  func(e *env, runID string) chaos.Selection
	}{
		{"reap removes the objects of one run", func(e *env, runID string) chaos.Selection {
			return chaos.Selection{Namespace: e.rig.Namespace, RunID: runID}
		}},
		{"halt_all removes every object chaosops created in the namespace", func(e *env, _ string) chaos.Selection {
			return chaos.Selection{Namespace: e.rig.Namespace}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			o := e.opts(e.abort(t, 2*time.Minute))
			o.Owner.RunID = chaos.NewRunID()
			// The run's process "dies" once injected: its context ends
			// without the cleanup (CleanupGrace 1ns leaves no time).
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			o.CleanupGrace = time.Nanosecond
			ch, n := e.startInjected(t, ctx, o)
			cancel()
			wait(t, ch, 2*time.Minute)
			if e.get(t, n) == nil {
				t.Skip("the cancelled run's own cleanup removed the object before reap could")
			}
			objs, err := e.r.Reap(t.Context(), tc.sel(e, o.Owner.RunID), e.opts(nil))
			if err != nil {
				t.Fatalf("reap: %v", err)
			}
			if len(objs) != 1 || objs[0].Name != n || objs[0].Cleanup == nil || objs[0].Cleanup.Outcome != chaos.CleanupComplete {
				t.Errorf("reap: %+v", objs)
			}
			e.assertGone(t, n)
			e.assertNoRules(t, n)
			eventually(t, 30*time.Second, func() string {
				if err := get200(e.rig.ProxyURL); err != nil {
					return "after reap, requests fail: " + err.Error()
				}
				return ""
			})
		})
	}
}
