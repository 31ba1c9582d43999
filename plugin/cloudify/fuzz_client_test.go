package cloudify

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// FuzzClientResponses lets a ctx proxy answer arbitrary bytes with an
// arbitrary status: the typed calls must never panic, and every error must
// be one of the protocol's (stop, gone, a proxy error) or name the call it
// failed in ("ctx <args>: ..."). Seeds: testdata/fuzz/FuzzClientResponses.
func FuzzClientResponses(f *testing.F) {
	f.Add(200, []byte(`{"type":"result","payload":"cloudify.interfaces.lifecycle.create"}`))
	f.Add(200, []byte(`{"type":"result","payload":{"a":[1,2.5,null,true]}}`))
	f.Add(200, []byte(`{"type":"error","payload":{"type":"RuntimeError","message":"boom","traceback":""}}`))
	f.Add(200, []byte(`{"type":"stop_operation","payload":{"message":"stop"}}`))
	f.Add(500, []byte(`<html>Internal Server Error</html>`))
	f.Add(200, []byte(`{"type":"result","payload":12345678901234567890}`))

	var mu sync.Mutex
	var status int
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		s, b := status, body
		mu.Unlock()
		w.WriteHeader(s)
		w.Write(b)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.Cleanup(srv.Close)
	c, err := NewClient(srv.URL)
	if err != nil {
		f.Fatal(err)
	}
	x := Context{C: c}

	f.Fuzz(func(t *testing.T, code int, payload []byte) {
		if code < 200 || code > 599 {
			code = 200
		}
		mu.Lock()
		status, body = code, payload
		mu.Unlock()
		ctx := t.Context()
		calls := []struct {
			name string
			call func() error
		}{
			{"operation name", func() error { _, err := x.OperationName(ctx); return err }},
			{"retry_number", func() error { _, err := x.RetryNumber(ctx); return err }},
			{"node properties", func() error { _, err := x.NodeProperties(ctx); return err }},
			{"runtime properties", func() error { _, err := x.RuntimeProperties(ctx); return err }},
			{"set runtime property", func() error { return x.SetRuntimeProperty(ctx, "a.b", map[string]any{"c": 1}) }},
			{"returns", func() error { return x.Returns(ctx, map[string]any{"ok": true}) }},
			{"abort", func() error { return x.Abort(ctx, "failed") }},
			{"download resource", func() error { _, err := x.DownloadResource(ctx, "bin/chaosops", ""); return err }},
		}
		for _, c := range calls {
			err := c.call()
			if err == nil || errors.Is(err, ErrStopOperation) || errors.Is(err, ErrProxyGone) {
				continue
			}
			if !strings.HasPrefix(err.Error(), "ctx ") {
				t.Fatalf("%s: error %q does not name the ctx call", c.name, err)
			}
		}
		_, _ = DecodeValue(payload)
	})
}
