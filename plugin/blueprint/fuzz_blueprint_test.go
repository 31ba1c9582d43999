package blueprint

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzLoad writes arbitrary text as a blueprint file and loads it: Load
// must never panic, must return either a Blueprint or an ErrorList whose
// every problem names the file (or the built-in types.yaml) and says what is
// wrong, and a loaded blueprint must survive Lint, Order and ResolveInputs.
// Seeds: testdata/fuzz/FuzzLoad and the package's test blueprints.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{fullMain, "testdata/inputs/blueprint.yaml", "testdata/duplicates/blueprint.yaml"} {
		data, err := os.ReadFile(seed)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		file := filepath.Join(dir, "blueprint.yaml")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var bp *Blueprint
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			bp, err = Load(file)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Load did not return within 10s (a hang) for:\n%s", data)
		}
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %q (%T) is not a non-empty ErrorList", err, err)
			}
			for _, e := range list {
				if (e.Pos.File != file && e.Pos.File != "types.yaml") || e.Msg == "" {
					t.Fatalf("problem %q does not name the file %s and what is wrong", e, file)
				}
			}
			return
		}
		bp.Lint()
		if _, err := bp.Order(); err != nil && err.Error() == "" {
			t.Fatal("Order failed without a message")
		}
		if _, err := bp.ResolveInputs(nil); err != nil && err.Error() == "" {
			t.Fatal("ResolveInputs failed without a message")
		}
	})
}
