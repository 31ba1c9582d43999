package probe

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// maxBody is how much of a response the load generator reads; the rest
// is discarded with the connection.
const maxBody = 64 << 10

// outcome is one request of the load generator.
type outcome struct {
	sent time.Time
	ok   bool
}

// bucket is one second of traffic.
type bucket struct {
	sent, ok, dropped int
	latencies         []time.Duration
}

// loadGen sends Spec.RPS requests per second to Spec.URL from start until
// stop, with at most Spec.MaxInFlight open at once, and keeps the outcome
// of each by the time it was due.
type loadGen struct {
	spec   Spec
	client *http.Client
	now    func() time.Time
	slots  chan struct{}

	mu       sync.Mutex
	started  time.Time
	outcomes []outcome // the last Window+Timeout, for success rates
	buckets  map[int64]*bucket

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newLoadGen(spec Spec, now func() time.Time) (*loadGen, error) {
	tlsCfg, err := spec.tlsConfig()
	if err != nil {
		return nil, err
	}
	// Each request opens a new connection: a fault injected into new
	// connections (Chaos Mesh redirects them through its proxy) must not be
	// dodged by a connection kept alive from before, and no transport is
	// shared with another probe.
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: spec.Timeout}).DialContext,
		TLSClientConfig:     tlsCfg,
		TLSHandshakeTimeout: spec.Timeout,
		DisableKeepAlives:   true,
		MaxConnsPerHost:     spec.MaxInFlight,
	}
	return &loadGen{
		spec: spec,
		client: &http.Client{
			Transport: tr,
			// The status of the URL itself is the signal, not where it
			// redirects to.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now:     now,
		slots:   make(chan struct{}, spec.MaxInFlight),
		buckets: map[int64]*bucket{},
	}, nil
}

// start begins sending; traffic stops when ctx ends or stop is called.
func (g *loadGen) start(ctx context.Context) {
	ctx, g.cancel = context.WithCancel(ctx)
	g.mu.Lock()
	g.started = g.now()
	g.mu.Unlock()
	period := time.Duration(float64(time.Second) / g.spec.RPS)
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			g.fire(ctx)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}

// fire sends one request, or drops it when MaxInFlight are open.
func (g *loadGen) fire(ctx context.Context) {
	due := g.now()
	select {
	case g.slots <- struct{}{}:
	default:
		g.record(due, false, true, 0)
		return
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() { <-g.slots }()
		ok, latency := g.send(ctx)
		if ctx.Err() != nil {
			return // cut short by stop: not an observation of the target
		}
		g.record(due, ok, false, latency)
	}()
}

// send makes one request; any error (refused, reset, aborted, timed out)
// or a status outside [StatusMin, StatusMax] is a failure.
func (g *loadGen) send(ctx context.Context) (ok bool, latency time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, g.spec.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, g.spec.Method, g.spec.URL, nil)
	if err != nil {
		return false, 0
	}
	req.Header.Set("User-Agent", "chaosops-probe/"+g.spec.Name)
	begin := time.Now()
	resp, err := g.client.Do(req)
	if err != nil {
		return false, time.Since(begin)
	}
	// A connection cut while the body streams is a failure too.
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	latency = time.Since(begin)
	return err == nil && resp.StatusCode >= g.spec.StatusMin && resp.StatusCode <= g.spec.StatusMax, latency
}

func (g *loadGen) record(due time.Time, ok, dropped bool, latency time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sec := due.Truncate(time.Second).Unix()
	b := g.buckets[sec]
	if b == nil {
		b = &bucket{}
		g.buckets[sec] = b
	}
	b.sent++
	if ok {
		b.ok++
	}
	if dropped {
		b.dropped++
	} else {
		b.latencies = append(b.latencies, latency)
	}
	g.outcomes = append(g.outcomes, outcome{sent: due, ok: ok})
	// Outcomes arrive roughly in order; dropping the old prefix is enough
	// to keep the slice bounded.
	horizon := due.Add(-g.spec.Window - g.spec.Timeout - time.Second)
	i := 0
	for i < len(g.outcomes) && g.outcomes[i].sent.Before(horizon) {
		i++
	}
	if i > 0 {
		g.outcomes = slices.Delete(g.outcomes, 0, i)
	}
}

// stop ends the traffic and waits for the requests still open.
func (g *loadGen) stop() {
	if g.cancel != nil {
		g.cancel()
	}
	g.wg.Wait()
	g.client.CloseIdleConnections()
}

// since returns when traffic started (zero before start).
func (g *loadGen) since() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.started
}

// rate counts the requests due in [from, to] whose outcome is known.
func (g *loadGen) rate(from, to time.Time) (ok, total int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, o := range g.outcomes {
		if !o.sent.Before(from) && !o.sent.After(to) {
			total++
			if o.ok {
				ok++
			}
		}
	}
	return ok, total
}

// points returns the traffic per second, oldest first.
func (g *loadGen) points() []Point {
	g.mu.Lock()
	defer g.mu.Unlock()
	pts := make([]Point, 0, len(g.buckets))
	for sec, b := range g.buckets {
		pts = append(pts, Point{At: time.Unix(sec, 0), Probe: g.spec.Name, Sent: b.sent, OK: b.ok, Dropped: b.dropped, P95: p95(b.latencies)})
	}
	slices.SortFunc(pts, func(a, b Point) int { return a.At.Compare(b.At) })
	return pts
}

// p95 is the nearest-rank 95th percentile (0 for none).
func p95(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	rank := (95*len(s) + 99) / 100 // ceil(0.95 n), from 1
	return s[rank-1]
}
