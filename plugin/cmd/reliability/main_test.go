package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/cmd/reliability/trial"
)

func TestSummaryTable(t *testing.T) {
	rows := summarize([]trial.Outcome{
		{Kind: "cancel", Outcome: "cancelled during the hold", Seconds: 4},
		{Kind: "cancel", Outcome: "cancelled during the hold", Seconds: 2},
		{Kind: "cancel", Outcome: "pass", ObjectsLeft: 1, Failed: true},
		{Kind: "secrets", Outcome: "abort", SecretsFound: 2},
	})
	got := render(rows, []fuzzResult{{pkg: "./plugin/x/", target: "FuzzX", execs: 42, result: "no failure"}})
	for _, want := range []string{
		"| cancel | 3 | 1 | cancelled during the hold ×2; pass ×1 | 1 | 0 | 2.0s |",
		"| secrets | 1 | 0 | abort ×1 | 0 | 2 | - |",
		"| FuzzX | plugin/x | 42 | no failure |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}

func TestWriteFiguresKeepsTheHandWrittenText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reliability.md")
	for _, tc := range []struct {
		name, before, figures, want string
	}{
		{"a file without markers gets the block appended", "# Title\n", "one\n",
			"# Title\n\n" + beginMarker + "\none\n" + endMarker + "\n"},
		{"the block between the markers is replaced", "# Title\n" + beginMarker + "\nold\n" + endMarker + "\nafter\n", "new\n",
			"# Title\n" + beginMarker + "\nnew\n" + endMarker + "\nafter\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(tc.before), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := writeFigures(path, tc.figures); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}
