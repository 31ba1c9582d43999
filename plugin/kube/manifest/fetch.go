package manifest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

// fetchTimeout bounds a download with the default HTTP client.
const fetchTimeout = 2 * time.Minute

// fetch downloads an https URL and checks its SHA-256. It returns the
// content and the name to show for it: the URL without user info, query or
// fragment, which may carry credentials (signed URLs).
func fetch(ctx context.Context, client *http.Client, raw, sum string, maxBytes int64) ([]byte, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "url", errorf("url", "not a valid URL")
	}
	name := redact.URL(u)
	if u.Scheme != "https" {
		return nil, name, errorf(name, "only https:// URLs are fetched (got %q); give an https:// url with its sha256", u.Scheme)
	}
	want, err := parseSHA256(sum)
	if err != nil {
		return nil, name, errorf(name, "%w", err)
	}
	if client == nil {
		client = &http.Client{Timeout: fetchTimeout}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, name, errorf(name, "%v", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error repeats the full URL; keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, name, errorf(name, "fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, name, errorf(name, "fetch: HTTP %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, name, errorf(name, "fetch: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return nil, name, errorf(name, "fetch: content is more than the limit of %d bytes", maxBytes)
	}
	got := sha256.Sum256(data)
	if hex.EncodeToString(got[:]) != want {
		return nil, name, errorf(name, "sha256 mismatch: content has %x, expected %s", got, want)
	}
	return data, name, nil
}

// parseSHA256 normalises a hex digest, with or without "sha256:".
func parseSHA256(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "sha256:")))
	if s == "" {
		return "", fmt.Errorf("sha256 is required for url sources (the hex SHA-256 of the content, e.g. from `sha256sum`)")
	}
	if len(s) != 64 {
		return "", fmt.Errorf("sha256 must be 64 hex digits, got %d characters", len(s))
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", fmt.Errorf("sha256 must be 64 hex digits")
	}
	return s, nil
}
