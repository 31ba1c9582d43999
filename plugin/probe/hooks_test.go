package probe

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
)

func TestBefore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		serve   behaviour
		specs   func(url string) []Spec
		timeout time.Duration
		want    string // error; "" for none
		// precheck: the error is a failed gate; instant: nothing to wait for.
		precheck, instant bool
	}{
		{
			name: "a holding gate lets the run start", serve: serveOK,
			specs: func(url string) []Spec { return []Spec{httpSpec("web", url)} },
		},
		{
			name: "a failing gate refuses the run, naming the probe and its value", serve: serveError,
			specs: func(url string) []Spec { return []Spec{httpSpec("web", url)} },
			want:  "probe web: success 0.00 < 0.95 (", precheck: true,
		},
		{
			name: "an aborting target fails the gate", serve: serveAbort,
			specs: func(url string) []Spec { return []Spec{httpSpec("web", url)} },
			want:  "probe web: success 0.00 < 0.95 (", precheck: true,
		},
		{
			name: "every failing gate is named", serve: serveError,
			specs: func(url string) []Spec {
				lenient := httpSpec("lenient", url)
				lenient.StatusMax = 599
				return []Spec{httpSpec("web", url), lenient, httpSpec("api", url)}
			},
			want: "; probe api: success 0.00 < 0.95", precheck: true,
		},
		{
			name: "a probe without the before phase is not a gate", serve: serveError,
			specs: func(url string) []Spec {
				s := httpSpec("web", url)
				s.Phases = []Phase{During, After}
				return []Spec{s}
			},
			instant: true,
		},
		{
			name: "waiting for a window of traffic ends with the context", serve: serveOK, timeout: 300 * time.Millisecond,
			specs: func(url string) []Spec { return []Spec{httpSpec("web", url)} },
			want:  "gate probes: context deadline exceeded",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, tt.serve)
			s := newSet(t, Options{}, tt.specs(a.URL)...)
			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			begin := time.Now()
			s.Start(t.Context())
			err := s.Hooks().Before(ctx)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Before: %v; want the gate to pass", err)
			case tt.want == "":
				if waited := time.Since(begin); tt.instant && waited > 500*time.Millisecond {
					t.Errorf("the gate took %s with nothing to wait for", waited)
				}
				if waited := time.Since(begin); !tt.instant && waited < time.Second {
					t.Errorf("the gate passed after %s; want it to wait for the 1s window of traffic", waited)
				}
			case err == nil:
				t.Fatalf("Before passed; want %q", tt.want)
			case !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Before: %v; want it to contain %q", err, tt.want)
			}
			var pre *chaos.PrecheckError
			if tt.precheck != errors.As(err, &pre) {
				t.Errorf("Before: %T; want a *chaos.PrecheckError exactly when a gate failed", err)
			}
			for _, x := range s.Samples() {
				if x.Phase != Before {
					t.Errorf("sample %+v: want phase before", x)
				}
			}
		})
	}
}

// abortCounter records the reasons the During hook aborts with.
type abortCounter struct {
	mu      sync.Mutex
	reasons []string
}

func (c *abortCounter) abort(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reasons = append(c.reasons, reason)
}

// TestHooks drives Before, During and After as chaos.Run calls them, with
// the app's behaviour switched at the injection and at the recovery.
func TestHooks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		expect        Expect
		phases        []Phase
		window        time.Duration
		settle        time.Duration
		during, after behaviour
		wantAbort     string // prefix of the one abort reason; "" for none
		wantVerdict   chaos.Verdict
		wantReason    string
		wantDeviation bool
	}{
		{
			name: "a must_hold probe that holds passes", expect: MustHold,
			during: serveOK, after: serveOK, wantVerdict: chaos.VerdictPass,
		},
		{
			name: "a must_hold breach aborts the run exactly once", expect: MustHold,
			during: serveAbort, wantAbort: "probe web: success 0.",
		},
		{
			name: "an expected deviation that shows passes", expect: Deviate,
			during: serveAbort, after: serveOK, wantVerdict: chaos.VerdictPass, wantDeviation: true,
		},
		{
			name: "an expected deviation that never shows is no_effect", expect: Deviate,
			during: serveOK, after: serveOK, wantVerdict: chaos.VerdictNoEffect,
			wantReason: "probe web was expected to deviate during the injection but passed all",
		},
		{
			name: "a probe still failing when the settle window ends is recovered_but_degraded", expect: Deviate,
			during: serveError, after: serveError, wantVerdict: chaos.VerdictRecoveredButDegraded, wantDeviation: true,
			wantReason: "probe web did not pass again within the 1.5s settle window: success 0.00 < 0.95",
		},
		{
			name: "an after-only probe judges recovery", expect: MustHold, phases: []Phase{Before, After},
			during: serveError, after: serveError, wantVerdict: chaos.VerdictRecoveredButDegraded,
			wantReason: "probe web did not pass again within the 1.5s settle window",
		},
		{
			// A plain 2s window would still hold the failures of the hold.
			name: "the after phase counts only traffic sent after recovery", expect: Deviate,
			window: 2 * time.Second, settle: 3 * time.Second,
			during: serveError, after: serveOK, wantVerdict: chaos.VerdictPass, wantDeviation: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, serveOK)
			spec := httpSpec("web", a.URL)
			spec.During, spec.Phases = tt.expect, tt.phases
			if tt.window > 0 {
				spec.Window = tt.window
			}
			settle := cmp.Or(tt.settle, 1500*time.Millisecond)
			s := newSet(t, Options{Settle: settle}, spec)
			hooks := s.Hooks()
			s.Start(t.Context())
			if err := hooks.Before(t.Context()); err != nil {
				t.Fatalf("Before: %v", err)
			}

			a.set(tt.during)
			var aborts abortCounter
			hold, cancel := context.WithTimeout(t.Context(), 1200*time.Millisecond)
			hooks.During(hold, aborts.abort)
			cancel()
			if tt.wantAbort != "" {
				if len(aborts.reasons) != 1 || !strings.HasPrefix(aborts.reasons[0], tt.wantAbort) || !strings.Contains(aborts.reasons[0], " < 0.95 (") {
					t.Fatalf("aborts %q; want exactly one starting %q", aborts.reasons, tt.wantAbort)
				}
				return // chaos.Run does not call After on an aborted run
			}
			if len(aborts.reasons) > 0 {
				t.Fatalf("aborts %q; want none", aborts.reasons)
			}

			a.set(tt.after)
			verdict, reason := hooks.After(t.Context(), &chaos.Result{Ref: "HTTPChaos/demo/test"})
			if verdict != tt.wantVerdict || !strings.HasPrefix(reason, tt.wantReason) {
				t.Errorf("After: %s %q; want %s %q…", verdict, reason, tt.wantVerdict, tt.wantReason)
			}

			deviations := 0
			for _, x := range samplesOf(s, During) {
				if strings.HasPrefix(x.Detail, "deviation seen: ") {
					deviations++
				}
			}
			if got := deviations > 0; got != tt.wantDeviation {
				t.Errorf("%d during samples say deviation seen; want some: %v", deviations, tt.wantDeviation)
			}
			if len(samplesOf(s, During)) > 0 != (tt.phases == nil) {
				t.Errorf("%d during samples for phases %v", len(samplesOf(s, During)), tt.phases)
			}
			if len(samplesOf(s, After)) == 0 {
				t.Error("no after sample recorded")
			}
		})
	}
}

// TestNotStarted: HTTP probes judged without traffic would report a false
// failure, so every hook says that Start was not called instead.
func TestNotStarted(t *testing.T) {
	const want = "probe web: its load generator is not running; call Start before the run and Close after it"
	a := newApp(t, serveOK)
	hooks := newSet(t, Options{}, httpSpec("web", a.URL)).Hooks()
	tests := []struct {
		name string
		hook func() string
		want string
	}{
		{"Before refuses the run", func() string {
			if err := hooks.Before(t.Context()); err != nil {
				return err.Error()
			}
			return ""
		}, want},
		{"During aborts", func() string {
			var aborts abortCounter
			hooks.During(t.Context(), aborts.abort)
			return strings.Join(aborts.reasons, "|")
		}, want},
		{"After is an error", func() string {
			v, reason := hooks.After(t.Context(), &chaos.Result{})
			return string(v) + ": " + reason
		}, "error: " + want},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.hook(); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}
