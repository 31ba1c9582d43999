// Package promenv gives tests a real Prometheus (Debian package
// `prometheus`), started by scripts/prometheus.sh as a child process on a
// free loopback port, scraping the given targets every second, with its
// data in the test's temp dir. The package's own service is never used.
//
// Prometheus applies discovered targets only every 5 s, so the first
// samples arrive about 6 s after Start: start one per test function and
// share it between subtests, and wait with WaitForSeries.
package promenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Timeouts of Start and WaitForSeries.
const (
	startTimeout = time.Minute
	seriesWait   = 30 * time.Second
	stopTimeout  = 30 * time.Second
)

// startAttempts covers the race between picking a free port and
// Prometheus binding it.
const startAttempts = 3

// Start runs a Prometheus scraping targets (host:port, or URLs whose path
// is the metrics path) every second until the test ends, and returns its
// URL. Under -short the test is skipped; without the binary it fails.
func Start(t testing.TB, targets ...string) string {
	t.Helper()
	return start(t, nil, targets)
}

// StartWithScrapeConfigs runs a Prometheus whose scrape_configs section is
// scrapeConfigs, a YAML list (e.g. with relabel_configs), instead of one
// job over plain targets; the global scrape interval is still 1 s. It
// returns the URL; under -short the test is skipped.
func StartWithScrapeConfigs(t testing.TB, scrapeConfigs string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "scrape_configs.yml")
	if err := os.WriteFile(file, []byte(scrapeConfigs), 0o600); err != nil {
		t.Fatal(err)
	}
	return start(t, []string{"CHAOSOPS_PROMETHEUS_SCRAPE_CONFIGS=" + file}, nil)
}

// start runs scripts/prometheus.sh start with env added to ours.
func start(t testing.TB, env, targets []string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: starts a real Prometheus (skipped under -short)")
	}
	bin := binary(t)
	script := findScript(t)
	dir := t.TempDir()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), stopTimeout)
		defer cancel()
		if out, err := exec.CommandContext(ctx, script, "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("stop Prometheus: %v\n%s", err, out)
		}
	})
	var errs []error
	for range startAttempts {
		port, err := freePort()
		if err != nil {
			t.Fatalf("pick a port for Prometheus: %v", err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
		cmd := exec.CommandContext(ctx, script, append([]string{"start", dir}, targets...)...)
		cmd.Env = append(append(os.Environ(), env...), "CHAOSOPS_PROMETHEUS_PORT="+strconv.Itoa(port), "CHAOSOPS_PROMETHEUS_BIN="+bin)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		cancel()
		if err == nil {
			return strings.TrimSpace(string(out))
		}
		errs = append(errs, fmt.Errorf("port %d: %w\n%s", port, err, stderr.String()))
	}
	t.Fatalf("start Prometheus with %s:\n%v", script, errors.Join(errs...))
	return ""
}

// WaitForSeries waits until query returns at least one series (a scalar
// counts), failing the test after 30 s.
func WaitForSeries(t testing.TB, url, query string) {
	t.Helper()
	c, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		t.Fatal(err)
	}
	prom := v1.NewAPI(c)
	ctx, cancel := context.WithTimeout(t.Context(), seriesWait)
	defer cancel()
	last := "no answer yet"
	for {
		v, _, _, err := prom.Query(ctx, query, time.Now())
		switch {
		case err != nil:
			last = err.Error()
		case v.Type() == model.ValScalar || (v.Type() == model.ValVector && len(v.(model.Vector)) > 0):
			return
		default:
			last = "empty result: " + v.String()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Prometheus at %s has no series for %s after %s (last: %s)", url, query, seriesWait, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// binary finds the prometheus executable, as scripts/prometheus.sh does.
func binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHAOSOPS_PROMETHEUS_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CHAOSOPS_PROMETHEUS_BIN: %v; unset it to use /usr/bin/prometheus (apt-get install -y prometheus)", err)
		}
		return p
	}
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/prometheus"); err == nil {
		return "/usr/bin/prometheus"
	}
	t.Fatal("prometheus is not installed: run `apt-get install -y prometheus` (or set CHAOSOPS_PROMETHEUS_BIN), or skip integration tests with -short")
	return ""
}

// findScript walks up from the working directory (a package dir under go
// test) to the repository root holding scripts/prometheus.sh.
func findScript(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			script := filepath.Join(dir, "scripts", "prometheus.sh")
			if _, err := os.Stat(script); err != nil {
				t.Fatalf("scripts/prometheus.sh not found in the module root %s: %v", dir, err)
			}
			return script
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("no go.mod in %s or any parent", wd)
		}
	}
}

// freePort returns a loopback port nobody listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
