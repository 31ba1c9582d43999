// Package launcher renders the tiny POSIX sh file that bundled blueprints
// name as their operations' implementation: it keeps the chaosops
// executable in a cache keyed by its sha256 and fetches it with
// `ctx download-resource` only on a miss (shared/cloudify-compat.md 1.2:
// Cloudify downloads an implementation afresh for every operation).
package launcher

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
)

//go:embed launcher.sh.in
var template []byte

var safeResource = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)

// Render returns the launcher for the executable with the given sha256,
// found at resource (a path inside the blueprint, e.g. bin/chaosops).
func Render(sha string, resource string) ([]byte, error) {
	if len(sha) != 64 {
		return nil, fmt.Errorf("launcher: sha256 %q is not 64 hex digits", sha)
	}
	if _, err := hex.DecodeString(sha); err != nil {
		return nil, fmt.Errorf("launcher: sha256 %q is not hex", sha)
	}
	if !safeResource.MatchString(resource) {
		return nil, fmt.Errorf("launcher: resource path %q may only contain letters, digits and ._/-", resource)
	}
	out := bytes.ReplaceAll(template, []byte("@SHA256@"), []byte(sha))
	return bytes.ReplaceAll(out, []byte("@RESOURCE@"), []byte(resource)), nil
}

// FileSHA256 returns the hex sha256 of a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Paths of the executable and its launcher inside a bundled blueprint
// folder; make bundle writes both.
const (
	ExecutablePath = "bin/chaosops"
	LauncherPath   = "bin/chaosops.sh"
)

// BundledFiles lists what make bundle adds to every blueprint folder.
var BundledFiles = []string{ExecutablePath, LauncherPath}
