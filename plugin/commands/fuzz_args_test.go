package commands_test

import (
	"strings"
	"testing"
	"time"
)

// exitCodes are the codes of README's table.
var exitCodes = map[int]bool{0: true, 1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true, 143: true}

// FuzzArgs drives the CLI with arbitrary arguments (one per line of the
// input), in the sandbox of TestTrialEveryFlagEdgeValue (nothing answers,
// temporary HOME and working folder): no panic, no hang, and an exit code
// of the table.
func FuzzArgs(f *testing.F) {
	for _, seed := range []string{
		"version", "--help", "lod", "local\ninstal", "chaos\nhttp", "chaos\nhttp\n-l\napp=x\n--duration=-5s",
		"load\nhttp://127.0.0.1:1/\n--every\n0s", "apply\n-f", "tf\napply\n--var\n=", "report\nshow\n--json",
		"helm\ninstall\n\n", "blueprint\nlint\n--archive=maybe", "local\n--state-dir\ninstall\n-d\n-i\n@", "chaos\nrun\n-f\n--\n-x",
	} {
		f.Add(seed)
	}
	newEdgeFixture(f)
	f.Fuzz(func(t *testing.T, input string) {
		args := append([]string{"chaosops"}, strings.Split(input, "\n")...)
		o := runEdge(args, 2*time.Second)
		switch {
		case o.panicked != "":
			t.Fatalf("chaosops %q panicked: %s", args[1:], o.panicked)
		case o.hung != "":
			t.Fatalf("chaosops %q %s", args[1:], o.hung)
		case !exitCodes[o.code]:
			t.Fatalf("chaosops %q: exit %d is not in README's table; stderr: %.500s", args[1:], o.code, o.stderr)
		}
	})
}
