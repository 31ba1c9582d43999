package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/launcher"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

const (
	// MaxChartBytes bounds a downloaded chart archive. Charts are small
	// (Chaos Mesh's is ~100 KB); Helm bounds the unpacked size itself.
	MaxChartBytes = 20 << 20
	// fetchTimeout bounds a download with the default HTTP client.
	fetchTimeout = 2 * time.Minute
)

// fetchChart returns the path of the chart at rawURL in cacheDir,
// downloading it on a cache miss. The sha256 is required, and a download
// that does not match it is never stored or read.
func fetchChart(ctx context.Context, rawURL, sum, cacheDir string, client *http.Client) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", invalidf("chart", "not a valid URL")
	}
	name := redactURLString(rawURL)
	if u.Scheme != "https" {
		return "", invalidf("chart", "%s: only https:// URLs are fetched", name)
	}
	if sum == "" {
		return "", invalidf("chart_sha256", "is required for a chart URL (%s): the hex SHA-256 of the .tgz, e.g. from `sha256sum`", name)
	}
	want, err := parseSHA256(sum)
	if err != nil {
		return "", err
	}
	path := filepath.Join(cacheDir, want+".tgz")
	if got, err := launcher.FileSHA256(path); err == nil && got == want {
		return path, nil
	}
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		return "", fmt.Errorf("chart cache %s: %w", cacheDir, err)
	}
	tmp, err := os.CreateTemp(cacheDir, ".download-*")
	if err != nil {
		return "", fmt.Errorf("chart cache %s: %w", cacheDir, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	got, err := download(ctx, client, u, name, tmp)
	if err != nil {
		return "", err
	}
	if got != want {
		return "", invalidf("chart_sha256", "%s has sha256 %s, expected %s; nothing was installed", name, got, want)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("chart cache %s: %w", cacheDir, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("chart cache %s: %w", cacheDir, err)
	}
	return path, nil
}

// download writes the body at u to w, at most MaxChartBytes, and returns
// its sha256.
func download(ctx context.Context, client *http.Client, u *url.URL, name string, w io.Writer) (string, error) {
	if client == nil {
		client = &http.Client{Timeout: fetchTimeout}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", invalidf("chart", "%s: %v", name, err)
	}
	resp, err := client.Do(req)
	if err != nil && ctx.Err() != nil {
		return "", fmt.Errorf("chart %s: download interrupted: %w", name, context.Cause(ctx))
	}
	if err != nil {
		// *url.Error repeats the full URL, which may carry credentials.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", &FetchError{URL: name, Err: err}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return "", invalidf("chart", "%s: HTTP %s; check the URL", name, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return "", &FetchError{URL: name, Err: fmt.Errorf("HTTP %s", resp.Status)}
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(resp.Body, MaxChartBytes+1))
	if err != nil && ctx.Err() != nil {
		return "", fmt.Errorf("chart %s: download interrupted: %w", name, context.Cause(ctx))
	}
	if err != nil {
		return "", &FetchError{URL: name, Err: err}
	}
	if n > MaxChartBytes {
		return "", invalidf("chart", "%s is larger than %d bytes; that is not a chart archive", name, MaxChartBytes)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// redactURLString is redact.URL for a raw chart URL.
func redactURLString(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "chart URL"
	}
	return redact.URL(u)
}
