package probe

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// behaviour is what the test app does with each request.
type behaviour int32

const (
	serveOK    behaviour = iota // 200
	serveError                  // 500
	serveAbort                  // hijack and close the connection, as Chaos Mesh's HTTP abort does
	serveSlow                   // hold the request until the client gives up
)

// app is a local HTTP server whose behaviour the test switches.
type app struct {
	*httptest.Server
	mode          atomic.Int32
	hits          atomic.Int64
	open, maxOpen atomic.Int64
}

func newApp(t *testing.T, b behaviour) *app {
	t.Helper()
	a := &app{}
	a.set(b)
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

func (a *app) set(b behaviour) { a.mode.Store(int32(b)) }

func (a *app) serve(w http.ResponseWriter, r *http.Request) {
	a.hits.Add(1)
	n := a.open.Add(1)
	defer a.open.Add(-1)
	for {
		m := a.maxOpen.Load()
		if n <= m || a.maxOpen.CompareAndSwap(m, n) {
			break
		}
	}
	switch behaviour(a.mode.Load()) {
	case serveOK:
		_, _ = w.Write([]byte("ok"))
	case serveError:
		http.Error(w, "broken", http.StatusInternalServerError)
	case serveAbort:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	case serveSlow:
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
}

// httpSpec is an HTTP probe on a test-sized scale: 20 requests/s judged
// over 1 s, evaluated every 200 ms.
func httpSpec(name, url string) Spec {
	return Spec{Name: name, URL: url, RPS: 20, Window: time.Second, Interval: 200 * time.Millisecond, Timeout: 500 * time.Millisecond}
}

// newSet builds a Set that is closed when the test ends.
func newSet(t *testing.T, opts Options, specs ...Spec) *Set {
	t.Helper()
	s, err := New(specs, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// samplesOf returns the samples of one phase.
func samplesOf(s *Set, phase Phase) []Sample {
	var out []Sample
	for _, x := range s.Samples() {
		if x.Phase == phase {
			out = append(out, x)
		}
	}
	return out
}
