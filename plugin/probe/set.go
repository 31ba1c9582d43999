// Package probe measures the steady state of a system under a chaos run:
// HTTP probes (a bounded built-in load generator and its success rate) and
// PromQL probes (an instant query against a threshold), evaluated before
// the injection (a gate), during it (must hold, or must deviate) and after
// it (recovery within a settle window). A Set turns them into chaos.Hooks
// and keeps every sample and every second of traffic for the report.
package probe

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

// DefaultSettle is how long after-phase probes may take to pass again.
const DefaultSettle = 30 * time.Second

// Options configure a Set.
type Options struct {
	Log *slog.Logger
	// Settle bounds how long the after phase waits for its probes to pass
	// again (default DefaultSettle).
	Settle time.Duration
	// Now stamps samples and traffic and places the windows; default
	// time.Now. Waits use the real clock, so a replacement must keep pace
	// with it.
	Now func() time.Time
}

// evaluator is one kind of probe. since limits the traffic an HTTP probe
// judges (the after phase counts only what was sent after recovery).
type evaluator interface {
	evaluate(ctx context.Context, since time.Time) Sample
}

// probe is one validated spec and its evaluator.
type probe struct {
	spec Spec
	eval evaluator
	http *httpProbe // nil for PromQL
}

// Set is the probes of one run. Its methods are safe for concurrent use.
type Set struct {
	probes []*probe
	opts   Options
	log    *slog.Logger

	mu       sync.Mutex
	started  bool
	closed   bool
	samples  []Sample
	deviated map[string]bool
}

// New validates specs, fills their defaults and prepares a Set. Errors
// are *failure.InvalidError naming the probe and the field.
func New(specs []Spec, opts Options) (*Set, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Settle == 0 {
		opts.Settle = DefaultSettle
	}
	specs, err := Check(specs, opts.Settle)
	if err != nil {
		return nil, err
	}
	s := &Set{opts: opts, log: opts.Log, deviated: map[string]bool{}}
	for _, spec := range specs {
		p := &probe{spec: spec}
		switch spec.Kind {
		case HTTP:
			load, err := newLoadGen(spec, opts.Now)
			if err != nil {
				return nil, specError(spec.Name, "ca_file", "%v", err)
			}
			p.http = &httpProbe{spec: spec, load: load, now: opts.Now}
			p.eval = p.http
		case PromQL:
			pp, err := newPromProbe(spec, opts.Now, opts.Log)
			if err != nil {
				return nil, err
			}
			p.eval = pp
		}
		s.probes = append(s.probes, p)
	}
	return s, nil
}

// Check validates specs and returns them with their defaults filled,
// without starting anything, so that an adapter refuses bad probes before
// it connects. Errors are *failure.InvalidError naming the probe and the
// field (a *FieldError inside).
func Check(specs []Spec, settle time.Duration) ([]Spec, error) {
	if settle < 0 {
		return nil, failure.Invalidf("settle", "%s is negative; use e.g. %s", settle, DefaultSettle)
	}
	out := make([]Spec, 0, len(specs))
	seen := map[string]bool{}
	for i, spec := range specs {
		spec.Phases = slices.Clone(spec.Phases)
		if err := spec.normalize(i + 1); err != nil {
			return nil, err
		}
		if seen[spec.Name] {
			return nil, specError(spec.Name, "name", "used by two probes; give each probe its own name")
		}
		seen[spec.Name] = true
		out = append(out, spec)
	}
	return out, nil
}

// Start starts the load generators of the HTTP probes; they run until
// Close or until ctx ends, so the traffic has a baseline before the
// injection and a tail after it. Later calls do nothing.
func (s *Set) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	for _, p := range s.probes {
		if p.http != nil {
			p.http.load.start(ctx)
			s.log.Info(fmt.Sprintf("probe %s: sending %v requests/s to %s", p.spec.Name, p.spec.RPS, redact.Password(p.spec.URL, "(invalid URL)")))
		}
	}
}

// Close stops the load generators and waits for their open requests.
func (s *Set) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	for _, p := range s.probes {
		if p.http != nil {
			p.http.load.stop()
		}
	}
}

// Specs returns the validated specs with their defaults.
func (s *Set) Specs() []Spec {
	out := make([]Spec, len(s.probes))
	for i, p := range s.probes {
		out[i] = p.spec
		out[i].Phases = slices.Clone(p.spec.Phases)
	}
	return out
}

// Samples returns every evaluation so far, in the order they were made.
func (s *Set) Samples() []Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.samples)
}

// Traffic returns the load generators' traffic per second and probe,
// sorted by time (then probe name).
func (s *Set) Traffic() []Point {
	var pts []Point
	for _, p := range s.probes {
		if p.http != nil {
			pts = append(pts, p.http.load.points()...)
		}
	}
	slices.SortStableFunc(pts, func(a, b Point) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Probe, b.Probe)
	})
	return pts
}

// evaluate runs p once; ok is false when ctx ended during the evaluation,
// which then observed nothing. The caller records the sample.
func (s *Set) evaluate(ctx context.Context, p *probe, phase Phase, since time.Time) (sample Sample, ok bool) {
	sample = p.eval.evaluate(ctx, since)
	sample.Phase = phase
	return sample, ctx.Err() == nil
}

func (s *Set) record(sample Sample) {
	s.mu.Lock()
	s.samples = append(s.samples, sample)
	s.mu.Unlock()
	s.log.Debug(fmt.Sprintf("probe %s (%s): %s", sample.Probe, sample.Phase, sample.Detail))
}

// in returns the probes that run at phase.
func (s *Set) in(phase Phase) []*probe {
	var out []*probe
	for _, p := range s.probes {
		if p.spec.has(phase) {
			out = append(out, p)
		}
	}
	return out
}

// each runs f for every probe concurrently and waits.
func each(probes []*probe, f func(i int, p *probe)) {
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() { f(i, p) })
	}
	wg.Wait()
}
