package probe

import (
	"math"
	"testing"
	"time"
)

// totals adds up a probe's traffic.
func totals(pts []Point) (sent, ok, dropped int, p95 time.Duration) {
	for _, p := range pts {
		sent += p.Sent
		ok += p.OK
		dropped += p.Dropped
		p95 = max(p95, p.P95)
	}
	return sent, ok, dropped, p95
}

func TestLoadGenerator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		serve behaviour
		spec  func(*Spec)
		check func(t *testing.T, a *app, sent, ok, dropped int, p95 time.Duration)
	}{
		{
			name: "a healthy target gets every request and answers them all", serve: serveOK,
			check: func(t *testing.T, a *app, sent, ok, dropped int, _ time.Duration) {
				if ok != sent || dropped != 0 {
					t.Errorf("ok %d, dropped %d of %d sent; want all ok", ok, dropped, sent)
				}
			},
		},
		{
			name: "a 500 is a failure", serve: serveError,
			check: func(t *testing.T, a *app, sent, ok, _ int, _ time.Duration) {
				if ok != 0 {
					t.Errorf("%d of %d ok; want none", ok, sent)
				}
			},
		},
		{
			name: "a status in a custom range is a success", serve: serveError,
			spec: func(s *Spec) { s.StatusMin, s.StatusMax = 500, 599 },
			check: func(t *testing.T, a *app, sent, ok, _ int, _ time.Duration) {
				if ok != sent {
					t.Errorf("%d of %d ok; want all", ok, sent)
				}
			},
		},
		{
			name: "an aborted connection is a failure", serve: serveAbort,
			check: func(t *testing.T, a *app, sent, ok, _ int, _ time.Duration) {
				if ok != 0 {
					t.Errorf("%d of %d ok; want none", ok, sent)
				}
			},
		},
		{
			name: "a request past its timeout is a failure", serve: serveSlow,
			spec: func(s *Spec) { s.Timeout = 200 * time.Millisecond },
			check: func(t *testing.T, a *app, sent, ok, dropped int, p95 time.Duration) {
				if ok != 0 || dropped != 0 {
					t.Errorf("%d ok, %d dropped of %d; want all sent and timed out", ok, dropped, sent)
				}
				if p95 < 200*time.Millisecond {
					t.Errorf("p95 %s; want at least the 200ms timeout", p95)
				}
			},
		},
		{
			name: "requests beyond max_in_flight are dropped as failures, not queued", serve: serveSlow,
			spec: func(s *Spec) { s.MaxInFlight, s.Timeout = 2, 5*time.Second },
			check: func(t *testing.T, a *app, sent, ok, dropped int, _ time.Duration) {
				if got := a.maxOpen.Load(); got > 2 {
					t.Errorf("the target saw %d requests at once; want at most 2", got)
				}
				if dropped == 0 || ok != 0 {
					t.Errorf("%d dropped, %d ok of %d; want drops and no success", dropped, ok, sent)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, tt.serve)
			spec := httpSpec("web", a.URL)
			if tt.spec != nil {
				tt.spec(&spec)
			}
			s := newSet(t, Options{}, spec)
			spec = s.Specs()[0]
			begin := time.Now()
			s.Start(t.Context())
			time.Sleep(1500 * time.Millisecond)
			s.Close()
			elapsed := time.Since(begin)

			sent, ok, dropped, p95 := totals(s.Traffic())
			// The rate bound: one request at start, then one per 1/RPS.
			if bound := int(math.Ceil(spec.RPS*elapsed.Seconds())) + 1; int(a.hits.Load()) > bound || sent > bound {
				t.Errorf("the target got %d requests and %d were counted in %s; want at most %d at %v/s", a.hits.Load(), sent, elapsed, bound, spec.RPS)
			}
			if min := int(spec.RPS * 1.0); sent < min {
				t.Errorf("%d requests counted in %s; want at least %d at %v/s", sent, elapsed, min, spec.RPS)
			}
			// Requests cut short by Close are not counted; every other one is.
			if in := int(a.hits.Load()) + dropped - sent; in < 0 || in > spec.MaxInFlight {
				t.Errorf("the target got %d requests, %d were dropped, %d counted; the difference must be the at most %d cut by Close", a.hits.Load(), dropped, sent, spec.MaxInFlight)
			}
			tt.check(t, a, sent, ok, dropped, p95)
		})
	}
}

func TestTraffic(t *testing.T) {
	t.Parallel()
	a := newApp(t, serveOK)
	s := newSet(t, Options{}, httpSpec("b", a.URL), httpSpec("a", a.URL))
	s.Start(t.Context())
	time.Sleep(1200 * time.Millisecond)
	s.Close()
	pts := s.Traffic()
	seen := map[string]bool{}
	for i, p := range pts {
		seen[p.Probe] = true
		if p.At.Truncate(time.Second) != p.At {
			t.Errorf("point %d at %s: want the start of a second", i, p.At)
		}
		if i > 0 && (p.At.Before(pts[i-1].At) || p.At.Equal(pts[i-1].At) && p.Probe < pts[i-1].Probe) {
			t.Errorf("point %d (%s %s) comes after (%s %s): want sorted by time, then probe", i, p.At, p.Probe, pts[i-1].At, pts[i-1].Probe)
		}
		if p.OK > p.Sent || p.Sent == 0 {
			t.Errorf("point %d: %d ok of %d sent", i, p.OK, p.Sent)
		}
	}
	if !seen["a"] || !seen["b"] {
		t.Errorf("traffic of probes %v; want a and b", seen)
	}
}
