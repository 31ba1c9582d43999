package faultapi

import (
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// upstream stands for the API server: it answers every request 200 and
// fails the test if the client's token reaches it.
func upstream(t *testing.T) *rest.Config {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the client's Authorization header was forwarded")
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"major":"1","minor":"37"}`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{
		CAData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}),
	}}
}

func TestProxy(t *testing.T) {
	p, err := Start(upstream(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(p.Kubeconfig("any-token")))
	if err != nil {
		t.Fatal(err)
	}
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, p.URL+path, nil)
		req.Header.Set("Authorization", "Bearer any-token")
		resp, err := client.Do(req)
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}

	p.SetRules(
		Rule{Method: http.MethodGet, Path: "/version", Skip: 1, Times: 2, Fault: Fault{Status: 429, RetryAfter: 1500 * time.Millisecond}},
		Rule{Path: "/readyz", Times: -1, Fault: Fault{Status: 0}},
		Rule{Path: "/livez", Times: 1, Fault: Fault{Status: 503}},
	)
	type answer struct {
		status     int
		retryAfter string
	}
	for _, tc := range []struct {
		name string
		path string
		want answer
	}{
		{"the first matching request passes (Skip)", "/version", answer{200, ""}},
		{"the next ones get 429 with Retry-After rounded up to whole seconds", "/version", answer{429, "2"}},
		{"as many times as the rule says", "/version", answer{429, "2"}},
		{"then requests pass again", "/version", answer{200, ""}},
		{"a dropped connection gives no answer", "/readyz", answer{0, ""}},
		{"a 503 without Retry-After", "/livez", answer{503, ""}},
		{"a request no rule picks passes", "/apis", answer{200, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, ra := get(tc.path)
			if got := (answer{status, ra}); got != tc.want {
				t.Errorf("GET %s = %+v, want %+v", tc.path, got, tc.want)
			}
		})
	}
	if total, faulted := p.Count(http.MethodGet, "/version"); total != 4 || faulted != 2 {
		t.Errorf("Count(GET /version) = %d, %d faulted; want 4, 2", total, faulted)
	}
}
