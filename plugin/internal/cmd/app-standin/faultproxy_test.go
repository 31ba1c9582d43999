package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/tproxy"
)

func TestFaultProxyCommand(t *testing.T) {
	t.Run("bad command lines are rejected", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"faultproxy", "--port", "8080"}, "faultproxy: upstream: missing"},
			{[]string{"faultproxy", "--upstream", "http://127.0.0.1:5000"}, "faultproxy: port: 0 is not a port"},
			{[]string{"faultproxy", "--upstream", "http://127.0.0.1:5000", "--port", "8080", "extra"}, `unexpected arguments ["extra"]`},
			{[]string{"faultproxy", "--port", "http"}, `invalid value "http" for flag -port`},
		} {
			err := run(t.Context(), tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		}
	})

	t.Run("it proxies with rules from its admin API until cancelled, and removes its ready file", func(t *testing.T) {
		app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
		defer app.Close()
		ready := filepath.Join(t.TempDir(), "proxy.ready")
		r := start(t, "faultproxy", "--upstream", app.URL, "--port", "8080", "--ready-file", ready)
		fields := r.waitReady(ready, 10*time.Second)
		admin, err := tproxy.NewAdminClient(fields["admin"])
		if err != nil {
			t.Fatalf("ready file %v: %v", fields, err)
		}
		rule := tproxy.Rule{Target: api.HTTPRequest, Port: 8080, Path: "/api/*", Abort: true}
		if err := admin.Put(t.Context(), "ns/abort/1", rule); err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
		defer c.CloseIdleConnections()
		if resp, err := c.Get("http://" + fields["listen"] + "/api/x"); err == nil {
			resp.Body.Close()
			t.Errorf("GET /api/x = %d, want the connection closed", resp.StatusCode)
		}
		resp, err := c.Get("http://" + fields["listen"] + "/health")
		if err != nil {
			t.Fatalf("GET /health: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET /health = %d", resp.StatusCode)
		}
		c.CloseIdleConnections()

		r.stop(ready)
	})
}
