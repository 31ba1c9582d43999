package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/cmd/reliability/trial"
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

func TestEndedAtDeadline(t *testing.T) {
	for _, tc := range []struct {
		name, output string
		want         bool
	}{
		{"the toolchain race at the end of fuzztime",
			"fuzz: elapsed: 10s, execs: 13172 (2316/sec), new interesting: 16 (total: 243)\n--- FAIL: FuzzInputs (10.19s)\n    context deadline exceeded\nFAIL\nexit status 1\n", true},
		{"a failing input is a finding",
			"--- FAIL: FuzzInputs (0.31s)\n    --- FAIL: FuzzInputs (0.00s)\n        inputs_test.go:40: secret in error\n    \n    Failing input written to testdata/fuzz/FuzzInputs/0123\n    To re-run:\nFAIL\n", false},
		{"a panic is a finding",
			"--- FAIL: FuzzInputs (1.02s)\n    context deadline exceeded\npanic: runtime error: index out of range\n", false},
		{"the deadline line among others is a finding",
			"--- FAIL: FuzzInputs (10.2s)\n    inputs_test.go:12: unexpected error\n    context deadline exceeded\nFAIL\n", false},
		{"a build failure is not the race",
			"# github.com/x/y\n./a.go:3:1: syntax error\nFAIL\tgithub.com/x/y [build failed]\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := endedAtDeadline(tc.output); got != tc.want {
				t.Errorf("endedAtDeadline = %v, want %v", got, tc.want)
			}
		})
	}
}
