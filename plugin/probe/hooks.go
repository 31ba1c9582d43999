package probe

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
)

// Hooks returns the hooks that let the probes gate, watch and judge a run.
// The HTTP probes' traffic must have been started with Start.
func (s *Set) Hooks() chaos.Hooks {
	return chaos.Hooks{Before: s.before, During: s.during, After: s.after}
}

// before waits until every before-phase HTTP probe has a full Window of
// traffic, then evaluates every before-phase probe once. Any failure
// refuses the run with a *chaos.PrecheckError naming the probes.
func (s *Set) before(ctx context.Context) error {
	probes := s.in(Before)
	if err := s.needStarted(probes); err != nil {
		return err
	}
	failures := make([]string, len(probes))
	each(probes, func(i int, p *probe) {
		if p.http != nil && sleep(ctx, p.http.ready(time.Time{}, p.spec.Window)) != nil {
			return
		}
		sample, ok := s.evaluate(ctx, p, Before, time.Time{})
		if !ok {
			return
		}
		s.record(sample)
		s.log.Info(fmt.Sprintf("probe %s (before): %s", p.spec.Name, sample.Detail))
		if !sample.OK {
			failures[i] = fmt.Sprintf("probe %s: %s", p.spec.Name, sample.Detail)
		}
	})
	if ctx.Err() != nil {
		return fmt.Errorf("gate probes: %w", context.Cause(ctx))
	}
	failed := nonEmpty(failures)
	if len(failed) == 0 {
		return nil
	}
	check, msg, _ := strings.Cut(strings.Join(failed, "; "), ": ")
	return &chaos.PrecheckError{Check: check, Msg: msg}
}

// needStarted refuses to judge HTTP probes whose traffic never started.
func (s *Set) needStarted(probes []*probe) error {
	s.mu.Lock()
	started := s.started && !s.closed
	s.mu.Unlock()
	for _, p := range probes {
		if p.http != nil && !started {
			return fmt.Errorf("probe %s: its load generator is not running; call Start before the run and Close after it", p.spec.Name)
		}
	}
	return nil
}

// during evaluates every during-phase probe every Interval until ctx ends,
// counting only HTTP traffic sent since the injection (an HTTP probe first
// waits firstDuringWait for some). A failing
// must_hold probe calls abort once; a failing deviate probe is recorded as
// the deviation the fault was expected to cause.
func (s *Set) during(ctx context.Context, abort func(reason string)) {
	probes := s.in(During)
	if err := s.needStarted(probes); err != nil {
		// Judging no traffic would be a false breach; say why instead.
		abort(err.Error())
		return
	}
	var once sync.Once
	// Only traffic sent since the injection counts: a window reaching back
	// before it would judge the steady state, not the fault.
	begin := s.opts.Now()
	each(probes, func(_ int, p *probe) {
		if p.http != nil && sleep(ctx, p.http.ready(begin, firstDuringWait(p.spec))) != nil {
			return
		}
		tick := time.NewTicker(p.spec.Interval)
		defer tick.Stop()
		for {
			sample, ok := s.evaluate(ctx, p, During, begin)
			if !ok {
				return
			}
			switch {
			case sample.OK:
			case p.spec.During == Deviate:
				sample.Detail = "deviation seen: " + sample.Detail
				s.mu.Lock()
				first := !s.deviated[p.spec.Name]
				s.deviated[p.spec.Name] = true
				s.mu.Unlock()
				if first {
					s.log.Info(fmt.Sprintf("probe %s: %s", p.spec.Name, sample.Detail))
				}
			default:
				once.Do(func() {
					reason := fmt.Sprintf("probe %s: %s", p.spec.Name, sample.Detail)
					s.log.Warn(reason + ": aborting the run")
					abort(reason)
				})
			}
			s.record(sample)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
}

// firstDuringWait is how much injected traffic an HTTP probe waits for
// before its first during-phase sample: short, so that a short injection
// is still judged, but a few requests' worth.
func firstDuringWait(s Spec) time.Duration {
	return min(s.Window, s.Interval, 2*time.Second)
}

// after polls the after-phase probes until each passes or the settle
// window is over, counting only HTTP traffic sent after it began (at least
// min(Window, Settle/2) of it). Then: any probe still failing →
// recovered_but_degraded; a deviate probe that never deviated →
// no_effect; else pass.
func (s *Set) after(ctx context.Context, r *chaos.Result) (chaos.Verdict, string) {
	probes := s.in(After)
	if err := s.needStarted(probes); err != nil {
		return chaos.VerdictError, err.Error()
	}
	begin := s.opts.Now()
	deadline := time.Now().Add(s.opts.Settle)
	failures := make([]string, len(probes))
	each(probes, func(i int, p *probe) {
		if p.http != nil && sleep(ctx, p.http.ready(begin, min(p.spec.Window, s.opts.Settle/2))) != nil {
			return
		}
		poll := min(p.spec.Interval, time.Second)
		for {
			sample, ok := s.evaluate(ctx, p, After, begin)
			if !ok {
				return
			}
			s.record(sample)
			if sample.OK {
				failures[i] = ""
				s.log.Info(fmt.Sprintf("probe %s (after): %s", p.spec.Name, sample.Detail))
				return
			}
			failures[i] = fmt.Sprintf("probe %s did not pass again within the %s settle window: %s", p.spec.Name, s.opts.Settle, sample.Detail)
			left := time.Until(deadline)
			if left <= 0 || sleep(ctx, min(poll, left)) != nil {
				return
			}
		}
	})
	ref := "run"
	if r != nil && r.Ref != "" {
		ref = r.Ref
	}
	if ctx.Err() != nil {
		return chaos.VerdictCancelled, fmt.Sprintf("cancelled while the after-phase probes verified recovery: %v", context.Cause(ctx))
	}
	if failed := nonEmpty(failures); len(failed) > 0 {
		reason := strings.Join(failed, "; ")
		s.log.Warn(fmt.Sprintf("%s: %s", ref, reason))
		return chaos.VerdictRecoveredButDegraded, reason
	}
	if reason := s.noEffect(); reason != "" {
		s.log.Warn(fmt.Sprintf("%s: %s", ref, reason))
		return chaos.VerdictNoEffect, reason
	}
	return chaos.VerdictPass, ""
}

// noEffect says which deviate probes never deviated during the hold ("" when
// all did).
func (s *Set) noEffect() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, p := range s.probes {
		if p.spec.During != Deviate || s.deviated[p.spec.Name] {
			continue
		}
		n, last := 0, ""
		for _, x := range s.samples {
			if x.Probe == p.spec.Name && x.Phase == During {
				n, last = n+1, x.Detail
			}
		}
		if n == 0 {
			out = append(out, fmt.Sprintf("probe %s was expected to deviate during the injection but was never evaluated (the hold was shorter than its window or interval)", p.spec.Name))
			continue
		}
		out = append(out, fmt.Sprintf("probe %s was expected to deviate during the injection but passed all %d samples (last: %s)", p.spec.Name, n, last))
	}
	return strings.Join(out, "; ")
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
