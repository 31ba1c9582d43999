package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedDir returns the folder holding the pinned upstream files (crds/,
// bench/): $CHAOSOPS_SHARED_DIR, else ../shared beside the repository root,
// where scripts/testenv.sh looks too. It fails t when neither exists.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("CHAOSOPS_SHARED_DIR")
	if dir == "" {
		script, err := findScript()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(filepath.Dir(script), "..", "..", "shared")
	}
	if _, err := os.Stat(filepath.Join(dir, "crds")); err != nil {
		t.Fatalf("no crds/ in %s (set CHAOSOPS_SHARED_DIR to the folder holding crds/): %v", dir, err)
	}
	return filepath.Clean(dir)
}
