package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/cloudify-chaos/chaosops/plugin/download"
	"github.com/cloudify-chaos/chaosops/plugin/failure"
	"github.com/cloudify-chaos/chaosops/plugin/launcher"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

// MaxChartBytes bounds a downloaded chart archive. Charts are small (Chaos
// Mesh's is ~100 KB); Helm bounds the unpacked size itself.
const MaxChartBytes = 20 << 20

// mirrorURLFix is the way out when a chart URL cannot be downloaded.
const mirrorURLFix = "mirror the .tgz and give it as chart (a file of the blueprint or an absolute path on the manager) with its chart_sha256"

// fetchChart returns the path of the chart at rawURL in cacheDir,
// downloading it on a cache miss. The sha256 is required, and a download
// that does not match it is never stored or read.
func fetchChart(ctx context.Context, rawURL, sum, cacheDir string, dl download.Options) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", failure.Invalidf("chart", "not a valid URL")
	}
	name := redact.URL(u)
	if u.Scheme != "https" {
		return "", failure.Invalidf("chart", "%s: only https:// URLs are fetched", name)
	}
	if sum == "" {
		return "", failure.Invalidf("chart_sha256", "is required for a chart URL (%s): the hex SHA-256 of the .tgz, e.g. from `sha256sum`", name)
	}
	want, err := parseSHA256(sum)
	if err != nil {
		return "", err
	}
	return fetchArchive(ctx, u, want, cacheDir, dl, mirrorURLFix, func(got string) error {
		return failure.Invalidf("chart_sha256", "%s has sha256 %s, expected %s; nothing was installed", name, got, want)
	})
}

// fetchArchive returns the path in cacheDir of the archive whose sha256 is
// want, downloading it from u on a cache miss. A download of another digest
// is never stored; mismatch makes its error.
func fetchArchive(ctx context.Context, u *url.URL, want, cacheDir string, dl download.Options, fix string, mismatch func(got string) error) (string, error) {
	path := filepath.Join(cacheDir, want+".tgz")
	if got, err := launcher.FileSHA256(path); err == nil && got == want {
		return path, nil
	}
	dl.MaxBytes = MaxChartBytes
	data, err := download.Get(ctx, u, dl)
	if err != nil {
		return "", downloadError(err, "chart", fix)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want {
		return "", mismatch(got)
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
	if _, err := tmp.Write(data); err != nil {
		return "", fmt.Errorf("chart cache %s: %w", cacheDir, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("chart cache %s: %w", cacheDir, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("chart cache %s: %w", cacheDir, err)
	}
	return path, nil
}

// downloadError turns a failed download into ours, saying what to do: a
// transient failure (network, 429, 5xx, after the retries) is a FetchError,
// which a later run may get past; anything else is invalid input of field.
// An interrupted download keeps its cause.
func downloadError(err error, field, fix string) error {
	var de *download.Error
	switch {
	case errors.As(err, &de) && de.Transient:
		return &FetchError{URL: de.URL, Err: fmt.Errorf("%w; if it stays unreachable, %s", de.Err, fix)}
	case errors.As(err, &de):
		return failure.Invalidf(field, "%s: %v; check the URL (and chart_ca_cert for a private CA), or %s", de.URL, de.Err, fix)
	}
	return fmt.Errorf("chart %w", err)
}

// redactURLString is redact.URL for a raw chart URL.
func redactURLString(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "chart URL"
	}
	return redact.URL(u)
}
