package probe

import (
	"context"
	"fmt"
	"time"
)

// httpProbe judges the load generator's success rate.
type httpProbe struct {
	spec Spec
	load *loadGen
	now  func() time.Time
}

// evaluate returns the success rate of the requests due in the last
// Window, or since `since` when that is later (the after phase counts only
// traffic sent after recovery).
func (p *httpProbe) evaluate(_ context.Context, since time.Time) Sample {
	now := p.now()
	from := now.Add(-p.spec.Window)
	if since.After(from) {
		from = since
	}
	span := now.Sub(from).Round(100 * time.Millisecond)
	ok, total := p.load.rate(from, now)
	s := Sample{At: now, Probe: p.spec.Name}
	if total == 0 {
		s.Detail = fmt.Sprintf("no request completed in the last %s yet", span)
		return s
	}
	s.Value = float64(ok) / float64(total)
	s.OK = s.Value >= p.spec.MinSuccess
	op := ">="
	if !s.OK {
		op = "<"
	}
	s.Detail = fmt.Sprintf("success %.2f %s %.2f (%d of %d requests ok in the last %s)", s.Value, op, p.spec.MinSuccess, ok, total, span)
	return s
}

// ready returns how long until the generator has sent traffic for d since
// `since` (or since it started, when later); 0 when it has.
func (p *httpProbe) ready(since time.Time, d time.Duration) time.Duration {
	started := p.load.since()
	if started.IsZero() {
		return d
	}
	if started.After(since) {
		since = started
	}
	return max(0, since.Add(d).Sub(p.now()))
}
