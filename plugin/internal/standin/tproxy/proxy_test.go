package tproxy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"
)

// abortAPI aborts every request under /api/.
var abortAPI = Rule{Target: api.HTTPRequest, Port: testPort, Path: "/api/*", Abort: true}

func TestTraffic(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules map[string]Rule
		req   request
		// abort: the client gets no response at all.
		abort bool
		// hits is how often the upstream saw the request (-1: don't check).
		hits  int64
		check func(t *testing.T, a answer)
	}{
		{
			name: "without rules a request passes through unchanged",
			req:  request{method: http.MethodPost, path: "/api/x?a=1", header: map[string]string{"X-Client": "c"}, body: "hello"},
			hits: 1,
			check: func(t *testing.T, a answer) {
				got := echoed(t, a)
				if a.status != 200 || got.Method != "POST" || got.Path != "/api/x" || got.Query != "a=1" || got.Body != "hello" || got.Header.Get("X-Client") != "c" {
					t.Errorf("status %d, upstream saw %+v", a.status, got)
				}
				if got.Header.Get("X-Forwarded-For") != "" {
					t.Errorf("the proxy is not transparent: X-Forwarded-For %q", got.Header.Get("X-Forwarded-For"))
				}
			},
		},
		{
			name:  "abort on a matching path closes the connection before the upstream sees it",
			rules: map[string]Rule{"a": abortAPI},
			req:   request{path: "/api/x"},
			abort: true, hits: 0,
		},
		{
			name:  "the path glob's * matches deeper paths",
			rules: map[string]Rule{"a": abortAPI},
			req:   request{path: "/api/v1/users/7"},
			abort: true, hits: 0,
		},
		{
			name:  "a path that does not match is untouched",
			rules: map[string]Rule{"a": abortAPI},
			req:   request{path: "/health"},
			hits:  1, check: status(200),
		},
		{
			name:  "the glob must match the whole path",
			rules: map[string]Rule{"a": {Target: api.HTTPRequest, Port: testPort, Path: "/api", Abort: true}},
			req:   request{path: "/api/x"},
			hits:  1, check: status(200),
		},
		{
			name:  "? matches one character",
			rules: map[string]Rule{"a": {Target: api.HTTPRequest, Port: testPort, Path: "/v?/x", Abort: true}},
			req:   request{path: "/v2/x"},
			abort: true, hits: 0,
		},
		{
			name:  "a method that does not match is untouched",
			rules: map[string]Rule{"a": {Target: api.HTTPRequest, Port: testPort, Path: "/api/*", Method: "POST", Abort: true}},
			req:   request{path: "/api/x"},
			hits:  1, check: status(200),
		},
		{
			name:  "a matching method is aborted",
			rules: map[string]Rule{"a": {Target: api.HTTPRequest, Port: testPort, Method: "POST", Abort: true}},
			req:   request{method: http.MethodPost, path: "/api/x", body: "{}"},
			abort: true, hits: 0,
		},
		{
			name:  "a rule for another port is untouched",
			rules: map[string]Rule{"a": {Target: api.HTTPRequest, Port: 9090, Abort: true}},
			req:   request{path: "/api/x"},
			hits:  1, check: status(200),
		},
		{
			name:  "request headers select: a missing value is untouched",
			rules: map[string]Rule{"a": {Target: api.HTTPRequest, Port: testPort, RequestHeaders: map[string]string{"X-User": "tester"}, Abort: true}},
			req:   request{path: "/api/x", header: map[string]string{"X-User": "someone"}},
			hits:  1, check: status(200),
		},
		{
			name:  "request headers select: the value is aborted",
			rules: map[string]Rule{"a": {Target: api.HTTPRequest, Port: testPort, RequestHeaders: map[string]string{"X-User": "tester"}, Abort: true}},
			req:   request{path: "/api/x", header: map[string]string{"X-User": "tester"}},
			abort: true, hits: 0,
		},
		{
			name:  "a response abort closes the connection after the upstream answered",
			rules: map[string]Rule{"a": {Target: api.HTTPResponse, Port: testPort, Path: "/api/*", Abort: true}},
			req:   request{path: "/api/x"},
			abort: true, hits: 1,
		},
		{
			name:  "a request delay holds the request",
			rules: map[string]Rule{"a": {Target: api.HTTPRequest, Port: testPort, Path: "/api/*", Delay: "300ms"}},
			req:   request{path: "/api/x"},
			hits:  1, check: slower(300 * time.Millisecond),
		},
		{
			name:  "a response delay holds the response",
			rules: map[string]Rule{"a": {Target: api.HTTPResponse, Port: testPort, Delay: "300ms"}},
			req:   request{path: "/health"},
			hits:  1, check: slower(300 * time.Millisecond),
		},
		{
			name:  "replace code changes the response status and keeps its body",
			rules: map[string]Rule{"a": {Target: api.HTTPResponse, Port: testPort, Path: "/api/*", Replace: &api.HTTPReplace{Code: ptr.To(int32(503))}}},
			req:   request{path: "/api/x"},
			hits:  1,
			check: func(t *testing.T, a answer) {
				if a.status != 503 || echoed(t, a).Path != "/api/x" {
					t.Errorf("status %d, body %q; want 503 with the upstream's body", a.status, a.body)
				}
			},
		},
		{
			name:  "a code selector applies to that status",
			rules: map[string]Rule{"a": {Target: api.HTTPResponse, Port: testPort, Code: 404, Replace: &api.HTTPReplace{Code: ptr.To(int32(200))}}},
			req:   request{path: "/missing?status=404"},
			hits:  1, check: status(200),
		},
		{
			name:  "a code selector leaves other statuses alone",
			rules: map[string]Rule{"a": {Target: api.HTTPResponse, Port: testPort, Code: 404, Replace: &api.HTTPReplace{Code: ptr.To(int32(200))}}},
			req:   request{path: "/created?status=201"},
			hits:  1, check: status(201),
		},
		{
			name:  "response headers select",
			rules: map[string]Rule{"a": {Target: api.HTTPResponse, Port: testPort, ResponseHeaders: map[string]string{"X-Upstream": "1"}, Replace: &api.HTTPReplace{Code: ptr.To(int32(500))}}},
			req:   request{path: "/x"},
			hits:  1, check: status(500),
		},
		{
			name: "patch headers appends response headers and replace headers sets them",
			rules: map[string]Rule{"a": {Target: api.HTTPResponse, Port: testPort,
				Replace: &api.HTTPReplace{Headers: map[string]string{"X-Upstream": "replaced"}},
				Patch:   &api.HTTPPatch{Headers: [][]string{{"X-Chaos", "1"}, {"X-Upstream", "added"}}}}},
			req:  request{path: "/x"},
			hits: 1,
			check: func(t *testing.T, a answer) {
				if diff := cmp.Diff([]string{"replaced", "added"}, a.header.Values("X-Upstream")); diff != "" || a.header.Get("X-Chaos") != "1" {
					t.Errorf("X-Upstream (-want +got):\n%s\nX-Chaos %q", diff, a.header.Get("X-Chaos"))
				}
			},
		},
		{
			name: "replace and patch change what the upstream receives",
			rules: map[string]Rule{"a": {Target: api.HTTPRequest, Port: testPort, Path: "/old",
				Replace: &api.HTTPReplace{Path: ptr.To("/new"), Method: ptr.To("PUT"), Queries: map[string]string{"a": "2"},
					Headers: map[string]string{"X-Client": "replaced"}, Body: []byte(`{"x":1,"y":2}`)},
				Patch: &api.HTTPPatch{Queries: [][]string{{"b", "3 4"}}, Headers: [][]string{{"X-Chaos", "1"}},
					Body: &api.HTTPPatchBody{Type: "JSON", Value: `{"y":null,"z":{"n":12345678901234567890}}`}}}},
			req:  request{method: http.MethodPost, path: "/old?a=1", header: map[string]string{"X-Client": "c"}, body: "ignored"},
			hits: 1,
			check: func(t *testing.T, a answer) {
				got := echoed(t, a)
				want := seen{Method: "PUT", Path: "/new", Query: "a=2&b=3+4", Body: `{"x":1,"z":{"n":12345678901234567890}}`}
				if diff := cmp.Diff(want, got, cmpSeen); diff != "" {
					t.Errorf("upstream saw (-want +got):\n%s", diff)
				}
				if got.Header.Get("X-Client") != "replaced" || got.Header.Get("X-Chaos") != "1" {
					t.Errorf("upstream headers %v", got.Header)
				}
			},
		},
		{
			name: "patch body merges JSON into the response",
			rules: map[string]Rule{"a": {Target: api.HTTPResponse, Port: testPort,
				Patch: &api.HTTPPatch{Body: &api.HTTPPatchBody{Type: "JSON", Value: `{"path":"/patched","injected":true,"header":null}`}}}},
			req:  request{path: "/x"},
			hits: 1,
			check: func(t *testing.T, a answer) {
				var got map[string]any
				if err := json.Unmarshal([]byte(a.body), &got); err != nil {
					t.Fatalf("%v in %q", err, a.body)
				}
				_, hasHeader := got["header"]
				if got["path"] != "/patched" || got["injected"] != true || got["method"] != "GET" || hasHeader {
					t.Errorf("patched body %q", a.body)
				}
				if a.header.Get("Content-Length") != fmt.Sprint(len(a.body)) {
					t.Errorf("Content-Length %q for %d bytes", a.header.Get("Content-Length"), len(a.body))
				}
			},
		},
		{
			name:  "replace body replaces the response body",
			rules: map[string]Rule{"a": {Target: api.HTTPResponse, Port: testPort, Replace: &api.HTTPReplace{Body: []byte("chaos")}}},
			req:   request{path: "/x"},
			hits:  1,
			check: func(t *testing.T, a answer) {
				if a.body != "chaos" {
					t.Errorf("body %q, want chaos", a.body)
				}
			},
		},
		{
			name:  "patching a body that is not JSON closes the connection",
			rules: map[string]Rule{"a": {Target: api.HTTPRequest, Port: testPort, Patch: &api.HTTPPatch{Body: &api.HTTPPatchBody{Type: "JSON", Value: `{"a":1}`}}}},
			req:   request{method: http.MethodPost, path: "/x", body: "not json"},
			abort: true, hits: 0,
		},
		{
			name: "rules apply in id order",
			rules: map[string]Rule{
				"b": {Target: api.HTTPResponse, Port: testPort, Replace: &api.HTTPReplace{Code: ptr.To(int32(503))}},
				"a": {Target: api.HTTPResponse, Port: testPort, Replace: &api.HTTPReplace{Code: ptr.To(int32(500))}},
			},
			req:  request{path: "/x"},
			hits: 1, check: status(503),
		},
		{
			name: "request rules are selected on the request as it came in",
			rules: map[string]Rule{
				"a": {Target: api.HTTPRequest, Port: testPort, Path: "/x", Replace: &api.HTTPReplace{Path: ptr.To("/y")}},
				"b": {Target: api.HTTPRequest, Port: testPort, Path: "/y", Abort: true},
			},
			req:  request{path: "/x"},
			hits: 1,
			check: func(t *testing.T, a answer) {
				if got := echoed(t, a).Path; got != "/y" {
					t.Errorf("upstream saw %s, want /y", got)
				}
			},
		},
		{
			name: "response rules are selected on the request as the request rules left it",
			rules: map[string]Rule{
				"a": {Target: api.HTTPRequest, Port: testPort, Path: "/x", Replace: &api.HTTPReplace{Path: ptr.To("/y")}},
				"b": {Target: api.HTTPResponse, Port: testPort, Path: "/y", Replace: &api.HTTPReplace{Code: ptr.To(int32(418))}},
			},
			req:  request{path: "/x"},
			hits: 1, check: status(418),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up := newUpstream(t)
			p := startProxy(t, up)
			for id, r := range tc.rules {
				if _, err := p.SetRule(id, r); err != nil {
					t.Fatalf("SetRule(%s): %v", id, err)
				}
			}
			a, err := send(t.Context(), client(), p.Addr(), tc.req)
			switch {
			case tc.abort && err == nil:
				t.Fatalf("got status %d, want the connection closed without a response", a.status)
			case !tc.abort && err != nil:
				t.Fatalf("transport error %v, want a response", err)
			}
			if tc.check != nil {
				tc.check(t, a)
			}
			if got := up.hits.Load(); tc.hits >= 0 && got != tc.hits {
				t.Errorf("upstream saw %d requests, want %d", got, tc.hits)
			}
		})
	}
}

var cmpSeen = cmp.FilterPath(func(p cmp.Path) bool {
	f := p.Last().String()
	return f == ".Header" || f == ".Host"
}, cmp.Ignore())

func status(want int) func(*testing.T, answer) {
	return func(t *testing.T, a answer) {
		t.Helper()
		if a.status != want {
			t.Errorf("status %d, want %d (body %q)", a.status, want, a.body)
		}
	}
}

func slower(min time.Duration) func(*testing.T, answer) {
	return func(t *testing.T, a answer) {
		t.Helper()
		if a.status != 200 || a.took < min {
			t.Errorf("status %d after %v, want 200 after at least %v", a.status, a.took, min)
		}
	}
}

func TestUnreachableUpstream(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, up)
	up.Close()
	a, err := send(t.Context(), client(), p.Addr(), request{path: "/x"})
	if err != nil || a.status != http.StatusBadGateway {
		t.Errorf("got %d, %v; want 502 Bad Gateway", a.status, err)
	}
}

func TestRuleRemovalRestoresTraffic(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, up)
	admin := adminOf(t, p)
	c := client()
	const id = "demo/abort-api/6f1c"
	steps := []struct {
		name  string
		do    func() error
		abort bool
	}{
		{"before the rule traffic passes", nil, false},
		{"with the rule /api/x is aborted", func() error { return admin.Put(t.Context(), id, abortAPI) }, true},
		{"after removing it traffic passes again", func() error {
			existed, err := admin.Delete(t.Context(), id)
			if err == nil && !existed {
				err = fmt.Errorf("Delete(%s) says there was no rule", id)
			}
			return err
		}, false},
	}
	for _, s := range steps {
		if s.do != nil {
			if err := s.do(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		a, err := send(t.Context(), c, p.Addr(), request{path: "/api/x"})
		if s.abort != (err != nil) || err == nil && a.status != 200 {
			t.Errorf("%s: status %d, error %v", s.name, a.status, err)
		}
	}
	if existed, err := admin.Delete(t.Context(), id); err != nil || existed {
		t.Errorf("deleting again: existed %v, %v; want false, nil", existed, err)
	}
}

func TestDelayEndsWithTheClient(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, up)
	if _, err := p.SetRule("slow", Rule{Target: api.HTTPRequest, Port: testPort, Delay: "1s"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := send(ctx, client(), p.Addr(), request{path: "/x"}); err == nil {
		t.Fatal("the request was answered before the client gave up")
	}
	time.Sleep(1500 * time.Millisecond) // past the delay
	if n := up.hits.Load(); n != 0 {
		t.Errorf("the upstream saw %d requests after the client went away during the delay; want 0", n)
	}
}

func TestServeStopsDelayedRequests(t *testing.T) {
	up := newUpstream(t)
	p, err := New(Options{Upstream: up.URL, Port: testPort})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SetRule("slow", Rule{Target: api.HTTPRequest, Port: testPort, Delay: "5m"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx) }()
	sent := make(chan error, 1)
	go func() {
		_, err := send(t.Context(), client(), p.Addr(), request{path: "/x"})
		sent <- err
	}()
	time.Sleep(200 * time.Millisecond) // the request is in its delay
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(shutdownTimeout):
		t.Fatalf("Serve did not return within %v of the cancel", shutdownTimeout)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Serve took %v to stop with a request in a 5m delay", took)
	}
	if err := <-sent; err == nil {
		t.Error("the delayed request got an answer after the stop")
	}
	if err := p.Serve(t.Context()); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("second Serve = %v, want an error", err)
	}
}

// TestConcurrentRuleChanges runs traffic while rules change (run with
// -race): requests the rules never select always pass, the others either
// pass or are aborted, and nothing else happens.
func TestConcurrentRuleChanges(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, up)
	admin := adminOf(t, p)
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()

	var mu sync.Mutex
	counts := map[string]int{}
	count := func(k string) {
		mu.Lock()
		counts[k]++
		mu.Unlock()
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		// Rules a, a and b, b, none, and again.
		for i := 0; ctx.Err() == nil; i++ {
			id := []string{"a", "b"}[i%2]
			var err error
			if i%4 < 2 {
				err = admin.Put(ctx, id, abortAPI)
			} else {
				_, err = admin.Delete(ctx, id)
			}
			if err != nil && ctx.Err() == nil {
				t.Errorf("rule change %d: %v", i, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	for w := range 4 {
		wg.Go(func() {
			c := client()
			// A dial that ends after the cancel leaves a connection that
			// would hold up the proxy's shutdown for 5s.
			defer c.CloseIdleConnections()
			for i := 0; ctx.Err() == nil; i++ {
				path := "/health"
				if (w+i)%2 == 0 {
					path = "/api/x"
				}
				a, err := send(ctx, c, p.Addr(), request{path: path})
				switch {
				case ctx.Err() != nil:
				case err != nil && path == "/health":
					t.Errorf("%s: %v; a path no rule selects must pass", path, err)
				case err != nil:
					count("aborted")
				case a.status != 200:
					t.Errorf("%s: status %d, want 200 or an abort", path, a.status)
				default:
					count("passed " + path)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("outcomes: %v", counts)
	for _, k := range []string{"aborted", "passed /api/x", "passed /health"} {
		if counts[k] == 0 {
			t.Errorf("no request %s while rules changed: %v", k, counts)
		}
	}
}
