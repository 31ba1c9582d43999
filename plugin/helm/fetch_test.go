package helm

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/download"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
)

// chartServer serves the packaged demo chart at /demo.tgz over HTTPS,
// counting requests, and a body larger than MaxChartBytes at /big.tgz.
func chartServer(t *testing.T, tgz string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	data, err := os.ReadFile(tgz)
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/demo.tgz":
			_, _ = w.Write(data)
		case "/big.tgz":
			_, _ = io.CopyN(w, zeros{}, MaxChartBytes+1)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestInstallFromURL(t *testing.T) {
	c := newCluster(t)
	tgz, sum := packageChart(t, demoChart)
	srv, hits := chartServer(t, tgz)
	cache := t.TempDir()
	release := func(url, sha string) Release {
		r := c.release(nil)
		r.Chart, r.ChartSHA256, r.CacheDir = url, sha, cache
		r.Download = download.Options{Client: srv.Client(), Backoff: time.Millisecond}
		return r
	}

	t.Run("a sha256 mismatch is refused before anything is created or cached", func(t *testing.T) {
		wrong := strings.Repeat("a", 64)
		_, err := Install(t.Context(), c.cfg, release(srv.URL+"/demo.tgz", wrong), c.log)
		if !failure.IsInvalid(err) || !strings.HasPrefix(err.Error(), "chart_sha256: ") || !strings.Contains(err.Error(), "has sha256 "+sum) {
			t.Fatalf("error %v, want a chart_sha256 mismatch", err)
		}
		if r := c.records(t, "demo"); len(r) != 0 {
			t.Errorf("records created: %v", r)
		}
		if c.configMapExists(t, "demo-settings") {
			t.Error("the ConfigMap was created")
		}
		if entries, _ := os.ReadDir(cache); len(entries) != 0 {
			t.Errorf("cache holds %v", entries)
		}
	})
	t.Run("the chart is downloaded once, then read from the cache", func(t *testing.T) {
		before := hits.Load()
		st := c.install(t, release(srv.URL+"/demo.tgz", sum))
		if st.Revision != 1 || st.ChartName != "chaosops-demo" {
			t.Fatalf("status %+v", st)
		}
		if _, err := os.Stat(filepath.Join(cache, sum+".tgz")); err != nil {
			t.Errorf("not cached by sha256: %v", err)
		}
		st = c.install(t, release(srv.URL+"/demo.tgz", sum))
		if st.Changed {
			t.Errorf("second install changed the release: %+v", st)
		}
		if n := hits.Load() - before; n != 1 {
			t.Errorf("%d downloads, want 1", n)
		}
	})
	t.Run("a corrupted cache entry is downloaded again", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(cache, sum+".tgz"), []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
		before := hits.Load()
		c.install(t, release(srv.URL+"/demo.tgz", sum))
		if n := hits.Load() - before; n != 1 {
			t.Errorf("%d downloads, want 1", n)
		}
	})
	for _, tc := range []struct{ name, url, field, want, hidden string }{
		{"a missing chart names the URL without its query", "/missing.tgz?token=s3cr3t", "chart", "HTTP 404", "s3cr3t"},
		{"a download above the size limit is refused", "/big.tgz", "chart", "larger than", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Another sha256: the cache would serve the demo chart's.
			_, err := Install(t.Context(), c.cfg, release(srv.URL+tc.url, strings.Repeat("c", 64)), c.log)
			if !failure.IsInvalid(err) || !strings.HasPrefix(err.Error(), tc.field+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %s: ...%s", err, tc.field, tc.want)
			}
			if tc.hidden != "" && strings.Contains(err.Error(), tc.hidden) {
				t.Errorf("error shows %q: %v", tc.hidden, err)
			}
		})
	}
	t.Run("a server that does not answer is a fetch error a retry may fix", func(t *testing.T) {
		_, err := Install(t.Context(), c.cfg, release("https://127.0.0.1:1/demo.tgz", strings.Repeat("b", 64)), c.log)
		var fe *FetchError
		if !errors.As(err, &fe) || failure.IsInvalid(err) {
			t.Fatalf("error %v (%T), want a FetchError", err, err)
		}
	})
}
