package tproxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

// Timeouts and limits of the proxy's servers and of its upstream client.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	dialTimeout       = 5 * time.Second
	// upstreamTimeout bounds the wait for the upstream's response headers.
	upstreamTimeout = time.Minute
	adminTimeout    = 10 * time.Second
	shutdownTimeout = 5 * time.Second
)

// Options configure New.
type Options struct {
	// Listen is the address the proxied traffic arrives at (default
	// "127.0.0.1:0", a free port).
	Listen string
	// Admin is the address of the admin API (default "127.0.0.1:0").
	Admin string
	// Upstream is the app's base URL, e.g. "http://127.0.0.1:5000"
	// (required).
	Upstream string
	// Port is the container port the proxy answers for: rules for other
	// ports do not apply (required).
	Port int
	// Log receives rule changes, faults applied (at debug level) and errors
	// (nil discards).
	Log *slog.Logger
}

// Proxy is a reverse proxy to one upstream that applies HTTPChaos rules to
// the traffic passing through it.
type Proxy struct {
	port     int
	upstream *url.URL
	log      *slog.Logger
	listener net.Listener
	admin    net.Listener
	rp       *httputil.ReverseProxy
	served   atomic.Bool

	mu    sync.Mutex                  // serializes rule changes
	rules atomic.Pointer[[]*compiled] // in id order; replaced, never changed
}

// New checks opts and binds both listeners, so that Addr and AdminURL are
// known before Serve. Serve releases the listeners.
func New(opts Options) (*Proxy, error) {
	if opts.Upstream == "" {
		return nil, errors.New("upstream: missing; set the app's URL, e.g. http://127.0.0.1:5000")
	}
	up, err := url.Parse(opts.Upstream)
	if err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "" {
		return nil, fmt.Errorf("upstream: %q is not an http URL; use e.g. http://127.0.0.1:5000", opts.Upstream)
	}
	if opts.Port < 1 || opts.Port > 65535 {
		return nil, fmt.Errorf("port: %d is not a port; set the container port the app listens on, e.g. 8080", opts.Port)
	}
	p := &Proxy{port: opts.Port, upstream: up, log: opts.Log}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.rules.Store(&[]*compiled{})
	if p.listener, err = listen("listen", opts.Listen); err != nil {
		return nil, err
	}
	if p.admin, err = listen("admin", opts.Admin); err != nil {
		p.listener.Close()
		return nil, err
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up)
			pr.Out.Host = pr.In.Host // transparent, as chaos-tproxy
		},
		Transport: &http.Transport{
			Proxy:                 nil, // the upstream is local; never an environment proxy
			DialContext:           (&net.Dialer{Timeout: dialTimeout}).DialContext,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: upstreamTimeout,
			DisableCompression:    true,
		},
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.upstreamError,
		ErrorLog:       slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
	}
	return p, nil
}

func listen(field, addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; use a free host:port, e.g. 127.0.0.1:0", field, err)
	}
	return l, nil
}

// Addr is the host:port the proxied traffic goes to.
func (p *Proxy) Addr() string { return p.listener.Addr().String() }

// AdminURL is the base URL of the admin API, e.g. "http://127.0.0.1:19080".
func (p *Proxy) AdminURL() string { return "http://" + p.admin.Addr().String() }

// Serve proxies traffic and answers the admin API until ctx is cancelled,
// then stops: requests in a delay end at once, others get shutdownTimeout
// to finish. It returns nil after a cancel, or why a server failed. It may
// be called once.
func (p *Proxy) Serve(ctx context.Context) error {
	if !p.served.CompareAndSwap(false, true) {
		return errors.New("fault proxy: Serve called twice")
	}
	// Cancelled on the way out, so that delayed requests do not hold up
	// the shutdown.
	reqCtx, cancelRequests := context.WithCancel(ctx)
	defer cancelRequests()
	errLog := slog.NewLogLogger(p.log.Handler(), slog.LevelWarn)
	traffic := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
		ErrorLog:          errLog,
	}
	admin := &http.Server{
		Handler:           p.adminHandler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       adminTimeout,
		WriteTimeout:      adminTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
		ErrorLog:          errLog,
	}
	servers := []struct {
		srv *http.Server
		l   net.Listener
	}{{traffic, p.listener}, {admin, p.admin}}
	errs := make(chan error, len(servers))
	for _, s := range servers {
		go func() { errs <- s.srv.Serve(s.l) }()
	}
	p.log.Info("fault proxy ready", "listen", p.Addr(), "admin", p.AdminURL(), "upstream", p.upstream.String(), "port", p.port)

	var first error
	select {
	case <-ctx.Done():
	case first = <-errs:
		first = fmt.Errorf("fault proxy: %w", first)
	}
	cancelRequests()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.srv.Shutdown(shutdownCtx); err != nil {
			s.srv.Close()
		}
	}
	// Collect the servers' returns; a failed one's was read above.
	pending := len(servers)
	if first != nil {
		pending--
	}
	for range pending {
		<-errs
	}
	p.rp.Transport.(*http.Transport).CloseIdleConnections()
	p.log.Info("fault proxy stopped", "listen", p.Addr())
	return first
}

// snapshotKey carries the rules of one request from ServeHTTP to
// modifyResponse, so that a request sees one set of rules throughout.
type snapshotKey struct{}

// ServeHTTP applies the matching request rules, forwards the request
// upstream and lets modifyResponse apply the response rules.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rules := *p.rules.Load()
	// Like chaos-tproxy, select every rule against the request as it came
	// in, then apply them in order.
	matched := selected(rules, api.HTTPRequest, func(c *compiled) bool { return c.matchRequest(p.port, r) })
	for _, c := range matched {
		if err := c.applyRequest(r); err != nil {
			p.fail(w, r, c, err)
			return
		}
		p.log.Debug("request fault", "rule", c.id, "method", r.Method, "path", r.URL.Path)
	}
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), snapshotKey{}, rules)))
}

// modifyResponse applies the response rules that match resp.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	rules, _ := resp.Request.Context().Value(snapshotKey{}).([]*compiled)
	matched := selected(rules, api.HTTPResponse, func(c *compiled) bool { return c.matchResponse(p.port, resp) })
	for _, c := range matched {
		if err := c.applyResponse(resp); err != nil {
			return &ruleError{c, err}
		}
		p.log.Debug("response fault", "rule", c.id, "method", resp.Request.Method, "path", resp.Request.URL.Path, "code", resp.StatusCode)
	}
	return nil
}

// selected returns the rules for target that match, in id order.
func selected(rules []*compiled, target api.HTTPTarget, match func(*compiled) bool) []*compiled {
	var out []*compiled
	for _, c := range rules {
		if c.rule.Target == target && match(c) {
			out = append(out, c)
		}
	}
	return out
}

// ruleError is a response rule's error, for upstreamError.
type ruleError struct {
	rule *compiled
	err  error
}

func (e *ruleError) Error() string { return "rule " + e.rule.id + ": " + e.err.Error() }
func (e *ruleError) Unwrap() error { return e.err }

// upstreamError handles the reverse proxy's errors: a response rule's
// error closes the connection; an unreachable upstream yields 502, as in
// chaos-tproxy.
func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if re, ok := errors.AsType[*ruleError](err); ok {
		p.fail(w, r, re.rule, re.err)
		return
	}
	if r.Context().Err() != nil {
		return // the client went away: nobody to answer
	}
	p.log.Warn("upstream", "upstream", p.upstream.String(), "method", r.Method, "path", r.URL.Path, "err", err)
	w.WriteHeader(http.StatusBadGateway)
}

// fail ends a request whose rule asked to abort or could not be applied,
// or whose delay ended because the client went away or the proxy stops:
// the connection is closed without a response.
func (p *Proxy) fail(w http.ResponseWriter, r *http.Request, c *compiled, err error) {
	switch {
	case errors.Is(err, errAbort):
		p.log.Debug("abort", "rule", c.id, "method", r.Method, "path", r.URL.Path)
	case r.Context().Err() != nil:
	default:
		p.log.Warn("rule cannot be applied; closing the connection", "rule", c.id, "method", r.Method, "path", r.URL.Path, "err", err)
	}
	closeConnection(w)
}

// closeConnection closes the client's connection without writing a
// response.
func closeConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	// Not hijackable: the server aborts the response and the connection.
	panic(http.ErrAbortHandler)
}
