package commands_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/cloudify-chaos/chaosops/plugin/commands"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/interface.golden from the CLI")

// TestInterfaceIsUnchanged keeps the product's interface as users see it
// byte for byte: the help of every command and the list of operations with
// their inputs. A change must be meant: rewrite the file with
// go test ./plugin/commands -run TestInterfaceIsUnchanged -update-golden
// and review the diff.
func TestInterfaceIsUnchanged(t *testing.T) {
	// Defaults under the home folder read the same on every machine.
	for k, v := range map[string]string{"CTX_SOCKET_URL": "", "HOME": "/home/user", "XDG_CONFIG_HOME": "", "XDG_CACHE_HOME": ""} {
		t.Setenv(k, v)
	}
	var got bytes.Buffer
	run := func(args ...string) {
		var out, errOut bytes.Buffer
		code := commands.Main(context.Background(), append([]string{"chaosops"}, args...), &out, &errOut)
		got.WriteString("== chaosops " + strings.Join(args, " ") + "\n")
		got.Write(out.Bytes())
		if code != 0 || errOut.Len() > 0 {
			t.Errorf("chaosops %s: exit %d, stderr %q", strings.Join(args, " "), code, errOut.String())
		}
	}
	run("--help")
	var walk func(path []string, cmds []*cli.Command)
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := append(append([]string(nil), path...), c.Name)
			run(append(p, "--help")...)
			walk(p, c.Subcommands)
		}
	}
	walk(nil, commands.New(nil, nil).Commands)
	run("operations")

	golden := filepath.Join("testdata", "interface.golden")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (create it with -update-golden)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("the CLI's help or operations differ from %s at line %d:\n got: %q\nwant: %q\n(if meant: -update-golden)", golden, i+1, g, w)
			}
		}
	}
}
