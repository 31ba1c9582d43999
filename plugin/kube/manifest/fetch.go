package manifest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/cloudify-chaos/chaosops/plugin/download"
	"github.com/cloudify-chaos/chaosops/plugin/redact"
)

// fetch downloads an https URL and checks its SHA-256. It returns the
// content and the name to show for it: the URL without user info, query or
// fragment, which may carry credentials (signed URLs).
func fetch(ctx context.Context, raw, sum string, opts download.Options) ([]byte, string, error) {
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
	data, err := download.Get(ctx, u, opts)
	var de *download.Error
	switch {
	case errors.As(err, &de) && de.Transient:
		return nil, name, &FetchError{URL: name, Err: fmt.Errorf("fetch: %w; if it stays unreachable, mirror the file into the blueprint and give it in files instead of url", de.Err)}
	case errors.As(err, &de):
		return nil, name, errorf(name, "fetch: %w; check the url, or mirror the file into the blueprint and give it in files", de.Err)
	case err != nil:
		return nil, name, errorf(name, "fetch: %w", err)
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
