package promenv_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cloudify-chaos/chaosops/plugin/internal/promenv"
)

func TestStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "promenv_test_value"})
	reg.MustRegister(g)
	g.Set(42)
	app := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer app.Close()

	var url string
	t.Run("scrapes the target it was given", func(t *testing.T) {
		url = promenv.Start(t, app.URL+"/metrics")
		promenv.WaitForSeries(t, url, `promenv_test_value{job="chaosops"} == 42`)
	})
	t.Run("stops when the test that started it ends", func(t *testing.T) {
		if url == "" {
			t.Skip("not started")
		}
		c := http.Client{Timeout: time.Second}
		resp, err := c.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("Prometheus at %s still answers (%s) after its test ended", url, resp.Status)
		}
	})
}

func TestStartWithScrapeConfigs(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "promenv_test_relabelled"})
	reg.MustRegister(g)
	g.Set(7)
	app := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer app.Close()
	// A meta label on the static target, turned into a target label by
	// relabeling, as Kubernetes service discovery and an operator would.
	url := promenv.StartWithScrapeConfigs(t, fmt.Sprintf(`- job_name: custom
  static_configs:
    - targets: [%q]
      labels: {__meta_test_service: web}
  relabel_configs:
    - {source_labels: [__meta_test_service], target_label: service}
`, strings.TrimPrefix(app.URL, "http://")))
	promenv.WaitForSeries(t, url, `promenv_test_relabelled{job="custom", service="web"} == 7`)
}
