package report

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeRuns writes runs under a new root: name → run id, started at +i h.
func writeRuns(t *testing.T, names ...string) string {
	t.Helper()
	root := t.TempDir()
	for i, name := range names {
		j := fixture()
		j.Run.Name, j.Run.RunID = name, "id-"+name
		j.Run.Ref = "HTTPChaos/demo/" + name
		j.Run.Started = start.Add(time.Duration(i) * time.Hour)
		if _, err := Write(filepath.Join(root, name), j); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestList(t *testing.T) {
	root := writeRuns(t, "httpchaos-a", "httpchaos-b", "httpchaos-c")
	if err := os.MkdirAll(filepath.Join(root, "not-a-run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "stray.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(root, "httpchaos-broken")
	if err := os.MkdirAll(broken, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, JournalFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}

	runs, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.Name)
	}
	// Newest first; the unreadable run has no start and comes last.
	if d := cmp.Diff([]string{"httpchaos-c", "httpchaos-b", "httpchaos-a", "httpchaos-broken"}, names); d != "" {
		t.Fatalf("runs (-want +got):\n%s", d)
	}
	if runs[0].Verdict != "slo_breach" || runs[0].RunID != "id-httpchaos-c" || runs[3].Err == nil {
		t.Fatalf("runs %+v", runs)
	}

	t.Run("a missing root has no runs", func(t *testing.T) {
		runs, err := List(filepath.Join(root, "nope"))
		if err != nil || len(runs) != 0 {
			t.Fatalf("%v, %v", runs, err)
		}
	})
}

func TestFind(t *testing.T) {
	root := writeRuns(t, "httpchaos-a", "httpchaos-b")
	dirA := filepath.Join(root, "httpchaos-a")
	cases := []struct {
		name, run, want, err string
	}{
		{"a run directory", dirA, dirA, ""},
		{"the journal file itself", filepath.Join(dirA, JournalFile), dirA, ""},
		{"a name under the root", "httpchaos-b", filepath.Join(root, "httpchaos-b"), ""},
		{"a run id", "id-httpchaos-a", dirA, ""},
		{"an unknown name says where it looked", "x", "", "no journal.json in " + filepath.Join(root, "x")},
		{"a directory without a journal says so", root, "", "no journal.json in " + root},
		{"an empty name", "", "", "no journal.json in " + root},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Find(root, tc.run)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err || !errors.Is(err, ErrNoRun) {
					t.Fatalf("error %v, want %q (ErrNoRun)", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Find = %q, %v; want %q", got, err, tc.want)
			}
		})
	}

	t.Run("an ambiguous id lists the matches", func(t *testing.T) {
		dup := writeRuns(t, "one", "two")
		for _, name := range []string{"one", "two"} {
			j, _ := Load(filepath.Join(dup, name))
			j.Run.RunID = "same"
			if _, err := Write(filepath.Join(dup, name), j); err != nil {
				t.Fatal(err)
			}
		}
		_, err := Find(dup, "same")
		if err == nil || !strings.Contains(err.Error(), `2 runs have the id "same"`) {
			t.Fatalf("error %v", err)
		}
	})
}
