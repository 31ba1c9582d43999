package probe

import (
	"bytes"
	"encoding/pem"
	"io"
	stdlog "log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cloudify-chaos/chaosops/plugin/internal/promenv"
)

// TestPromQL runs PromQL probes against a real Prometheus scraping a
// local app's client_golang metrics: gauges probe_test_value{series="a"}
// = 5 and {series="b"} = 1 that the test sets.
func TestPromQL(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	values := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "probe_test_value", Help: "set by the test"}, []string{"series"})
	reg.MustRegister(values)
	values.WithLabelValues("a").Set(5)
	values.WithLabelValues("b").Set(1)
	metrics := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(metrics.Close)
	prom := promenv.Start(t, metrics.URL+"/metrics")
	promenv.WaitForSeries(t, prom, `count(probe_test_value) == 2`)

	// guarded is Prometheus behind TLS and a bearer token, as in a cluster.
	const token = "s3cret-token-value"
	target, _ := url.Parse(prom)
	proxy := httputil.NewSingleHostReverseProxy(target)
	guard := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	guard.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // the untrusted-CA case makes handshakes fail
	guard.StartTLS()
	t.Cleanup(guard.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: guard.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	behindGuard := func(s *Spec) { s.PrometheusURL, s.BearerToken, s.CAFile = guard.URL, token, caFile }

	tests := []struct {
		name       string
		spec       func(*Spec)
		wantOK     bool
		wantValue  float64
		wantDetail string
	}{
		{"> passes above the threshold", nil, true, 5, "value 5 > 3 (1 series)"},
		{">= passes on the threshold", func(s *Spec) { s.Comparator, s.Threshold = ">=", 5 }, true, 5, "value 5 >= 5 (1 series)"},
		{"< fails above the threshold", func(s *Spec) { s.Comparator = "<" }, false, 5, "value 5 is not < 3 (1 of 1 series fail)"},
		{"<= fails above the threshold", func(s *Spec) { s.Comparator, s.Threshold = "<=", 4.5 }, false, 5, "value 5 is not <= 4.5 (1 of 1 series fail)"},
		{"== passes on the value", func(s *Spec) { s.Comparator, s.Threshold = "==", 5 }, true, 5, "value 5 == 5 (1 series)"},
		{"!= fails on the value", func(s *Spec) { s.Comparator, s.Threshold = "!=", 5 }, false, 5, "value 5 is not != 5 (1 of 1 series fail)"},
		{"every series must satisfy; the value is the first series'", func(s *Spec) { s.Query = "probe_test_value" }, false, 5,
			`series="b"} value 1 is not > 3 (1 of 2 series fail)`},
		{"a scalar result is compared", func(s *Spec) { s.Query = `scalar(probe_test_value{series="a"}) * 2`; s.Threshold = 9 }, true, 10, "value 10 > 9 (1 series)"},
		{"a failing scalar is named as the result", func(s *Spec) { s.Query = `scalar(probe_test_value{series="a"})`; s.Comparator = "<" }, false, 5,
			"result value 5 is not < 3 (1 of 1 series fail)"},
		{"an empty result fails", func(s *Spec) { s.Query = `probe_test_value{series="none"}` }, false, 0, "query returned no series"},
		{"a query that does not parse fails with Prometheus's error", func(s *Spec) { s.Query = `probe_test_value{job=}` }, false, 0, "query failed: bad_data: "},
		{"a range vector is refused", func(s *Spec) { s.Query = `probe_test_value[1m]` }, false, 0, "query returned a matrix; give an expression that yields an instant vector or a scalar"},
		{"a URL that is not a Prometheus API fails", func(s *Spec) { s.PrometheusURL = metrics.URL }, false, 0, "query failed: bad_response: "},
		{"a Prometheus that does not answer fails", func(s *Spec) { s.PrometheusURL = "http://127.0.0.1:1" }, false, 0, "connection refused"},
		{"the bearer token and CA file reach a guarded Prometheus", behindGuard, true, 5, "value 5 > 3 (1 series)"},
		{"without the token the guard refuses", func(s *Spec) { behindGuard(s); s.BearerToken = "" }, false, 0, "401"},
		{"without the CA the certificate is not trusted", func(s *Spec) { behindGuard(s); s.CAFile = "" }, false, 0, "certificate signed by unknown authority"},
		{"insecure_skip_tls_verify trusts any certificate", func(s *Spec) { behindGuard(s); s.CAFile, s.InsecureSkipTLSVerify = "", true }, true, 5, "value 5 > 3 (1 series)"},
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var seen []string // every detail and error, to check for the token
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := Spec{Name: "q", Query: `probe_test_value{series="a"}`, Comparator: ">", Threshold: 3, PrometheusURL: prom, Phases: []Phase{Before}}
			if tt.spec != nil {
				tt.spec(&spec)
			}
			s := newSet(t, Options{Log: log}, spec)
			err := s.Hooks().Before(t.Context())
			if (err == nil) != tt.wantOK {
				t.Errorf("Before: %v; want the gate to pass: %v", err, tt.wantOK)
			}
			if err != nil {
				seen = append(seen, err.Error())
				if !strings.HasPrefix(err.Error(), "probe q: ") {
					t.Errorf("Before: %v; want it to name the probe", err)
				}
			}
			samples := s.Samples()
			if len(samples) != 1 {
				t.Fatalf("samples %+v; want one", samples)
			}
			x := samples[0]
			t.Logf("sample: %s", x.Detail)
			seen = append(seen, x.Detail)
			if x.OK != tt.wantOK || x.Value != tt.wantValue || !strings.Contains(x.Detail, tt.wantDetail) || x.Phase != Before {
				t.Errorf("sample ok=%v value=%v phase=%s %q; want ok=%v value=%v before %q", x.OK, x.Value, x.Phase, x.Detail, tt.wantOK, tt.wantValue, tt.wantDetail)
			}
		})
	}
	t.Run("a value the app changes is seen after the next scrape", func(t *testing.T) {
		values.WithLabelValues("b").Set(7)
		promenv.WaitForSeries(t, prom, `probe_test_value{series="b"} == 7`)
		s := newSet(t, Options{Log: log}, Spec{Name: "q", Query: "probe_test_value", Comparator: ">", Threshold: 3, PrometheusURL: prom, Phases: []Phase{Before}})
		if err := s.Hooks().Before(t.Context()); err != nil {
			t.Fatalf("Before: %v; want both series above 3 now", err)
		}
	})
	t.Run("the bearer token is never logged or reported", func(t *testing.T) {
		for _, text := range append(seen, logs.String()) {
			if strings.Contains(text, token) {
				t.Errorf("the token leaked into %q", text)
			}
		}
	})
}
