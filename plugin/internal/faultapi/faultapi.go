// Package faultapi is a fault-injecting reverse proxy in front of a real
// Kubernetes API server, for reliability tests. Clients reach it with a
// kubeconfig it writes (its own TLS certificate, any bearer token); it
// forwards to the real API server with the admin credentials, except for
// the requests its rules pick, which it answers with 429 (with or without
// Retry-After), a 5xx status, or a dropped connection. It counts what it
// saw, so a test can check how often a client retried and that it backed
// off. It is a test tool: the real server still does all the work.
package faultapi

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// Fault is how a picked request is answered.
type Fault struct {
	// Status is the HTTP status to answer with (429, 500, 503, ...); 0
	// drops the connection without an answer, as a crashing server or
	// a broken network does.
	Status int
	// RetryAfter, when > 0, is sent as the Retry-After header (whole
	// seconds, at least 1), as the API server's priority and fairness does
	// with 429.
	RetryAfter time.Duration
}

// Rule picks requests to fault. A request matches when its method and path
// match; the first Skip matches pass, the next Times matches get the Fault
// (Times < 0: every later match), the rest pass.
type Rule struct {
	// Method is the HTTP method, e.g. POST; empty matches any.
	Method string
	// Path is a substring of the URL path, e.g. "/httpchaos"; empty
	// matches any.
	Path string
	// Watch, when true, matches only watch requests (?watch=true) and,
	// when false, only other requests.
	Watch bool
	// AnyWatch matches watch and non-watch requests alike.
	AnyWatch bool
	Skip     int
	Times    int
	Fault    Fault
}

// Request is one request the proxy saw.
type Request struct {
	At      time.Time
	Method  string
	Path    string
	Watch   bool
	Status  int // the status answered; 0 for a dropped connection
	Faulted bool
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	// URL is the proxy's https address.
	URL string

	srv *httptest.Server

	mu      sync.Mutex
	rules   []*ruleState
	history []Request
}

type ruleState struct {
	Rule
	matched int
}

// Start runs a proxy in front of the API server of upstream, which it uses
// (credentials included) for every forwarded request.
func Start(upstream *rest.Config) (*Proxy, error) {
	target, err := url.Parse(upstream.Host)
	if err != nil {
		return nil, fmt.Errorf("faultapi: upstream host %q: %w", upstream.Host, err)
	}
	if target.Scheme == "" {
		target.Scheme = "https"
	}
	transport, err := rest.TransportFor(upstream)
	if err != nil {
		return nil, fmt.Errorf("faultapi: upstream transport: %w", err)
	}
	p := &Proxy{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Header.Del("Authorization") // the upstream credentials authenticate
			r.Out.Header.Del("Impersonate-User")
		},
		Transport:     transport,
		FlushInterval: -1, // stream watches event by event
		ErrorLog:      log.New(io.Discard, "", 0),
	}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.serve(w, r, rp)
	}))
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	p.srv.StartTLS()
	p.URL = p.srv.URL
	return p, nil
}

// Close stops the proxy; later requests are refused.
func (p *Proxy) Close() {
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// Refuse closes the proxy's listening socket and its open connections, so
// that new connections are refused, as by an API server that is
// restarting, until Accept.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.srv.Listener.Close()
	p.srv.CloseClientConnections()
}

// Accept listens again on the proxy's address after Refuse.
func (p *Proxy) Accept() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, err := net.Listen("tcp", p.srv.Listener.Addr().String())
	if err != nil {
		return fmt.Errorf("faultapi: listen again: %w", err)
	}
	p.srv.Listener = tls.NewListener(l, p.srv.TLS)
	go func() { _ = p.srv.Config.Serve(p.srv.Listener) }()
	return nil
}

// SetRules replaces the rules and starts a new history, so that counts
// are per rule set.
func (p *Proxy) SetRules(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.history = nil
	p.rules = p.rules[:0]
	for _, r := range rules {
		p.rules = append(p.rules, &ruleState{Rule: r})
	}
}

// History returns every request seen so far, in order.
func (p *Proxy) History() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.history...)
}

// Count returns how many requests with method and a path containing path
// were seen (faulted or not); empty strings match any.
func (p *Proxy) Count(method, path string) (total, faulted int) {
	for _, r := range p.History() {
		if (method == "" || r.Method == method) && strings.Contains(r.Path, path) {
			total++
			if r.Faulted {
				faulted++
			}
		}
	}
	return total, faulted
}

// CAPEM is the PEM of the certificate the proxy serves, to trust it.
func (p *Proxy) CAPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw}))
}

// Kubeconfig returns kubeconfig content that reaches the proxy with TLS
// verified and the given bearer token (the proxy ignores it).
func (p *Proxy) Kubeconfig(token string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: faultapi
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: faultapi
  user:
    token: %s
contexts:
- name: faultapi
  context: {cluster: faultapi, user: faultapi}
current-context: faultapi
`, p.URL, base64.StdEncoding.EncodeToString([]byte(p.CAPEM())), token)
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	watch := r.URL.Query().Get("watch") == "true" || r.URL.Query().Get("watch") == "1"
	p.mu.Lock()
	var fault *Fault
	for _, rs := range p.rules {
		if !rs.matches(r, watch) {
			continue
		}
		rs.matched++
		if n := rs.matched - rs.Skip; n > 0 && (rs.Times < 0 || n <= rs.Times) {
			f := rs.Fault
			fault = &f
		}
		break
	}
	req := Request{At: time.Now(), Method: r.Method, Path: r.URL.Path, Watch: watch, Faulted: fault != nil}
	p.mu.Unlock()

	if fault != nil {
		req.Status = fault.Status
		p.record(req)
		answer(w, *fault)
		return
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	next.ServeHTTP(rec, r)
	req.Status = rec.status
	p.record(req)
}

func (p *Proxy) record(r Request) {
	p.mu.Lock()
	p.history = append(p.history, r)
	p.mu.Unlock()
}

func (rs *ruleState) matches(r *http.Request, watch bool) bool {
	if rs.Method != "" && rs.Method != r.Method {
		return false
	}
	if rs.Path != "" && !strings.Contains(r.URL.Path, rs.Path) {
		return false
	}
	return rs.AnyWatch || rs.Watch == watch
}

// answer writes a Kubernetes Status for the fault, or drops the connection.
func answer(w http.ResponseWriter, f Fault) {
	if f.Status == 0 {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without an answer
	}
	if f.RetryAfter > 0 {
		secs := int((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	reason := map[int]string{403: "Forbidden", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}[f.Status]
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"faultapi: injected %d","reason":%q,"code":%d}`,
		f.Status, reason, f.Status)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Flush passes flushes through, so watch events are not buffered.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
