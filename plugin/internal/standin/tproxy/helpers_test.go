package tproxy

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testPort is the container port the test proxies answer for.
const testPort = 8080

// seen is what the upstream received, echoed back as its JSON body.
type seen struct {
	Method string      `json:"method"`
	Path   string      `json:"path"`
	Query  string      `json:"query"`
	Host   string      `json:"host"`
	Header http.Header `json:"header"`
	Body   string      `json:"body"`
}

// upstream is a real local HTTP app: it echoes each request as JSON, with
// the status code of the query parameter "status" (default 200).
type upstream struct {
	*httptest.Server
	hits atomic.Int64
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		status := http.StatusOK
		if s := r.URL.Query().Get("status"); s != "" {
			status, _ = strconv.Atoi(s)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", "1")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(seen{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Host: r.Host, Header: r.Header, Body: string(body)})
	}))
	t.Cleanup(u.Close)
	return u
}

// startProxy serves a proxy in front of up until the test ends.
func startProxy(t *testing.T, up *upstream) *Proxy {
	t.Helper()
	p, err := New(Options{Upstream: up.URL, Port: testPort, Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return within 10s of the cancel")
		}
	})
	return p
}

// adminOf returns a client of p's admin API.
func adminOf(t *testing.T, p *Proxy) *AdminClient {
	t.Helper()
	admin, err := NewAdminClient(p.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	return admin
}

// testWriter sends the proxy's log to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// answer is what a client got through the proxy.
type answer struct {
	status int
	header http.Header
	body   string
	took   time.Duration
}

// request is one client request through the proxy.
type request struct {
	method string // default GET
	path   string
	header map[string]string
	body   string
}

// client returns an HTTP client that never uses an environment proxy.
func client() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}
}

// send sends req to the proxy at addr; err is a transport error (no
// response at all).
func send(ctx context.Context, c *http.Client, addr string, req request) (answer, error) {
	method := req.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	r, err := http.NewRequestWithContext(ctx, method, "http://"+addr+req.path, body)
	if err != nil {
		return answer{}, err
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := c.Do(r)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(data), took: time.Since(start)}, err
}

// echoed decodes what the upstream saw from an answer's body.
func echoed(t *testing.T, a answer) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal([]byte(a.body), &s); err != nil {
		t.Fatalf("upstream echo: %v in %q", err, a.body)
	}
	return s
}
