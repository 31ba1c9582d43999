package commands_test

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/cloudify-chaos/chaosops/plugin/commands"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
)

// readmeCommands are the command paths of README's CLI table, e.g.
// "chaos reap"; `pause\|resume` cells give one path each.
func readmeCommands(t *testing.T) [][]string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out [][]string
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "| `chaosops ")
		if !ok {
			continue
		}
		paths := [][]string{nil}
		for _, tok := range strings.Fields(rest[:strings.IndexAny(rest, "`")]) {
			if c := tok[0]; c == '-' || c == '[' || c == '<' || (c >= 'A' && c <= 'Z') || tok == "…" {
				break
			}
			var next [][]string
			for _, alt := range strings.Split(tok, `\|`) {
				for _, p := range paths {
					next = append(next, append(append([]string(nil), p...), alt))
				}
			}
			paths = next
		}
		for _, p := range paths {
			if key := strings.Join(p, " "); !seen[key] && key != "" {
				seen[key] = true
				// Clipped: each run appends its own flag to the path.
				out = append(out, slices.Clip(p))
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("found only %d commands in README's CLI table: %v", len(out), out)
	}
	return out
}

// find returns the command at path.
func find(cmds []*cli.Command, path []string) *cli.Command {
	for _, c := range cmds {
		if c.Name == path[0] {
			if len(path) == 1 {
				return c
			}
			return find(c.Subcommands, path[1:])
		}
	}
	return nil
}

// TestReadmeCommandsExitByTheTable runs every command of README's CLI
// table through the executable: its help exits 0, an unknown flag exits 2
// with the nearest flag and the help to read, a missing required flag
// exits 2 with one line naming it, and an unknown subcommand of a group
// exits 2 naming the nearest.
func TestReadmeCommandsExitByTheTable(t *testing.T) {
	t.Setenv("CTX_SOCKET_URL", "")
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	t.Chdir(t.TempDir())
	app := commands.New(nil, nil)
	for _, path := range readmeCommands(t) {
		name := strings.Join(path, " ")
		t.Run(name, func(t *testing.T) {
			type run struct {
				what   string
				args   []string
				code   int
				stderr string
			}
			runs := []run{{"help", append(path, "--help"), 0, ""}}
			if name == "ctx" { // Cloudify's ctx CLI has its own parser
				runs = []run{{"help", []string{"ctx", "--help"}, 0, ""}}
			}
			cmd := find(app.Commands, path)
			if cmd != nil {
				runs = append(runs, run{"an unknown flag", append(path, "--no-such-flag"), commands.ExitUsage, "unknown flag --no-such-flag"})
				for _, f := range cmd.Flags {
					if rf, ok := f.(cli.RequiredFlag); ok && rf.IsRequired() {
						runs = append(runs, run{"a missing required flag", path, commands.ExitUsage,
							"chaosops: missing required flag --" + f.Names()[0]})
						break
					}
				}
				if len(cmd.Subcommands) > 0 {
					runs = append(runs, run{"an unknown command", append(path, cmd.Subcommands[0].Name+"x"), commands.ExitUsage,
						`(did you mean "` + cmd.Subcommands[0].Name + `"?)`})
				}
			} else if name != "ctx" {
				t.Fatalf("README names chaosops %s, which is no command", name)
			}
			for _, r := range runs {
				out, errb, code := chaosbin.Run(t, r.args...)
				if code != r.code || !strings.Contains(errb, r.stderr) {
					t.Errorf("%s: chaosops %s: exit %d (want %d), stderr %q (want %q); stdout %.200q", r.what, strings.Join(r.args, " "), code, r.code, errb, r.stderr, out)
				}
				if r.code == commands.ExitUsage && strings.Count(strings.TrimSpace(errb), "\n") > 0 {
					t.Errorf("%s: chaosops %s: the message is more than one line:\n%s", r.what, strings.Join(r.args, " "), errb)
				}
			}
		})
	}
}
