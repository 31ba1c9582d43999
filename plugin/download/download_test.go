package download

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// server is an HTTPS server whose paths answer from a script: each request
// to a path takes the next status of its list (the last one repeats), and
// a 200 serves body. /slow answers only when the request is cancelled;
// /redirect sends to plain http.
type server struct {
	*httptest.Server
	mu      sync.Mutex
	scripts map[string][]int
	hits    map[string]int
}

const body = "apiVersion: v1\n"

func newServer(t *testing.T, scripts map[string][]int) *server {
	t.Helper()
	s := &server{scripts: scripts, hits: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		n := s.hits[r.URL.Path]
		s.hits[r.URL.Path]++
		script := s.scripts[r.URL.Path]
		s.mu.Unlock()
		switch r.URL.Path {
		case "/slow":
			<-r.Context().Done()
			return
		case "/redirect":
			http.Redirect(w, r, "http://example.invalid/x", http.StatusFound)
			return
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", 101)))
			return
		}
		if len(script) == 0 {
			http.NotFound(w, r)
			return
		}
		code := script[min(n, len(script)-1)]
		if code != http.StatusOK {
			http.Error(w, http.StatusText(code), code)
			return
		}
		_, _ = io.WriteString(w, body)
	}))
	// The untrusted-certificate case makes the server log a handshake error.
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *server) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestGet(t *testing.T) {
	s := newServer(t, map[string][]int{
		"/ok":        {200},
		"/flaky":     {503, 503, 200},
		"/throttled": {429, 200},
		"/down":      {503},
		"/gone":      {404},
	})
	fast := Options{Client: s.Client(), Backoff: time.Millisecond, Timeout: 5 * time.Second, MaxBytes: 100}
	for _, tc := range []struct {
		name      string
		path      string
		opts      Options
		wantHits  int
		wantErr   string
		transient bool
		status    int
	}{
		{"a file is read at the first attempt", "/ok", fast, 1, "", false, 0},
		{"two 503 answers are retried, the third attempt succeeds", "/flaky", fast, 3, "", false, 0},
		{"a 429 answer is retried", "/throttled", fast, 2, "", false, 0},
		{"a server that always answers 503 fails after the attempts, transient", "/down", fast, 3, "HTTP 503 Service Unavailable (3 attempts)", true, 503},
		{"the attempts are an option", "/down", func() Options { o := fast; o.Attempts = 5; return o }(), 5, "(5 attempts)", true, 503},
		{"a 404 is not retried", "/gone", fast, 1, "HTTP 404 Not Found", false, 404},
		{"an attempt that gets no answer in time is retried, then fails", "/slow", func() Options { o := fast; o.Timeout = 20 * time.Millisecond; o.Attempts = 2; return o }(),
			2, "no complete answer within 20ms (2 attempts)", true, 0},
		{"a body over the limit is refused at once", "/big", fast, 1, "larger than the limit of 100 bytes", false, 200},
		{"a redirect to plain http is not followed", "/redirect", fast, 1, "redirected to http://example.invalid/x, which is not https", false, 0},
		{"a certificate that is not trusted fails at once", "/ok", Options{Backoff: time.Millisecond}, 0, "certificate", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.count(tc.path)
			data, err := Get(t.Context(), mustParse(t, s.URL+tc.path+"?token=s3cr3t"), tc.opts)
			if got := s.count(tc.path) - before; got != tc.wantHits {
				t.Errorf("%d requests, want %d", got, tc.wantHits)
			}
			if tc.wantErr == "" {
				if err != nil || string(data) != body {
					t.Fatalf("Get = %q, %v; want the body", data, err)
				}
				return
			}
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), s.URL+tc.path+": ") {
				t.Errorf("error %q, want it to start with the URL and contain %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error shows the query: %v", err)
			}
			if de.Transient != tc.transient || de.Status != tc.status {
				t.Errorf("transient %v status %d, want %v %d", de.Transient, de.Status, tc.transient, tc.status)
			}
		})
	}
}

func TestGetRefusesBeforeContacting(t *testing.T) {
	for _, tc := range []struct{ name, url, want string }{
		{"plain http", "http://user:pw@example.invalid/x.yaml", "http://example.invalid/x.yaml: only https:// URLs"},
		{"no host", "https:///x.yaml", "only https:// URLs with a host"},
	} {
		t.Run("a URL with "+tc.name+" is refused", func(t *testing.T) {
			_, err := Get(t.Context(), mustParse(t, tc.url), Options{})
			var de *Error
			if !errors.As(err, &de) || de.Transient || de.Attempts != 0 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a permanent *Error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "pw") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestGetStopsOnCancel(t *testing.T) {
	s := newServer(t, map[string][]int{"/down": {503}})
	t.Run("a cancel during the backoff ends the wait with the cancel's cause", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(t.Context())
		errStop := errors.New("operator stopped the run")
		opts := Options{Client: s.Client(), Backoff: time.Hour, Attempts: 2,
			Log: logTo(func(string) { cancel(errStop) })}
		_, err := Get(ctx, mustParse(t, s.URL+"/down"), opts)
		var de *Error
		if !errors.Is(err, errStop) || errors.As(err, &de) {
			t.Fatalf("error %v, want the cancel's cause and no *Error", err)
		}
	})
	t.Run("a cancel during the request stops it", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			for s.count("/slow") == 0 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		_, err := Get(ctx, mustParse(t, s.URL+"/slow"), Options{Client: s.Client()})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	})
}

// logTo is a logger that calls fn with each message.
func logTo(fn func(string)) *slog.Logger { return slog.New(funcHandler{fn}) }

type funcHandler struct{ fn func(string) }

func (h funcHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h funcHandler) Handle(_ context.Context, r slog.Record) error { h.fn(r.Message); return nil }

func (h funcHandler) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h funcHandler) WithGroup(string) slog.Handler { return h }

func TestNewClient(t *testing.T) {
	s := newServer(t, map[string][]int{"/ok": {200}})
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}))
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(caPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, bundle string }{{"PEM text", caPEM}, {"a PEM file", caFile}} {
		t.Run("a CA bundle given as "+tc.name+" is trusted", func(t *testing.T) {
			c, err := NewClient(tc.bundle)
			if err != nil {
				t.Fatal(err)
			}
			data, err := Get(t.Context(), mustParse(t, s.URL+"/ok"), Options{Client: c})
			if err != nil || string(data) != body {
				t.Fatalf("Get = %q, %v", data, err)
			}
		})
	}
	for _, tc := range []struct{ name, bundle, want string }{
		{"a file that is not there", filepath.Join(t.TempDir(), "none.pem"), "no such file"},
		{"text without a certificate", "-----BEGIN nothing", "holds no PEM certificate"},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			_, err := NewClient(tc.bundle)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("without a bundle the test server's certificate is not trusted", func(t *testing.T) {
		c, _ := NewClient("")
		_, err := Get(t.Context(), mustParse(t, s.URL+"/ok"), Options{Client: c})
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("error %v, want a certificate error", err)
		}
	})
}
