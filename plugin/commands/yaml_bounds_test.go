package commands_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/internal/badyaml"

	"github.com/cloudify-chaos/chaosops/plugin/commands"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runIn runs the real executable in dir with HOME there too, so that a
// command that wrongly gets as far as writing state writes it in the test.
func runIn(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(chaosbin.Path(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

func TestAliasBombsAreRefused(t *testing.T) {
	const bp = "tosca_definitions_version: cloudify_dsl_1_4\nimports: [cloudify/types/types.yaml]\ninputs:\n  x:\n    default:\n"
	const want = "alias *e: the aliases up to here expand to more than the limit of 100000 YAML nodes (an alias bomb?)"
	tests := []struct {
		name     string
		files    map[string]string
		args     []string
		wantCode int
		wantLine string
	}{
		{"blueprint lint of a bomb in an input's default", map[string]string{"bp/blueprint.yaml": bp + badyaml.AliasBomb("      ")},
			[]string{"blueprint", "lint", "bp"}, commands.ExitError, "bp/blueprint.yaml:11: " + want},
		{"local install of a bomb in an input's default", map[string]string{"bp/blueprint.yaml": bp + badyaml.AliasBomb("      ")},
			[]string{"local", "install", "--deployment-id", "d1", "bp"}, commands.ExitError, "bp/blueprint.yaml:11: " + want},
		{"local install -i @inputs.yaml of a bomb", map[string]string{
			"bp/blueprint.yaml": "tosca_definitions_version: cloudify_dsl_1_4\nimports: [cloudify/types/types.yaml]\n",
			"in.yaml":           badyaml.AliasBomb("")},
			[]string{"local", "install", "--deployment-id", "d1", "-i", "@in.yaml", "bp"}, commands.ExitUsage, "--inputs in.yaml:6: " + want},
		{"local execute -p @params.yaml of a bomb", map[string]string{"p.yaml": badyaml.AliasBomb("")},
			[]string{"local", "execute", "--deployment-id", "d1", "-p", "@p.yaml", "install"}, commands.ExitUsage, "--parameters p.yaml:6: " + want},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			out, code := runIn(t, dir, tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantLine) {
				t.Fatalf("chaosops %s: exit %d, want %d with %q; output:\n%s", strings.Join(tt.args, " "), code, tt.wantCode, tt.wantLine, out)
			}
		})
	}
}

// TestSIGINTStopsALongLint interrupts a lint of many blueprints: the
// executable stops between files with the cancelled exit code. The timer
// only guards against a hang; the assertion is the exit code.
func TestSIGINTStopsALongLint(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{}
	var dirs []string
	for i := range 400 {
		name := fmt.Sprintf("bp%03d", i)
		dirs = append(dirs, name)
		var imports []string
		for j := range 20 {
			f := fmt.Sprintf("t%02d.yaml", j)
			imports = append(imports, f)
			files[name+"/"+f] = fmt.Sprintf("node_types:\n  n%d.t%d:\n    derived_from: cloudify.nodes.Root\n    properties: {p: {default: %s}}\n", i, j, strings.Repeat("x", 2000))
		}
		files[name+"/blueprint.yaml"] = "tosca_definitions_version: cloudify_dsl_1_4\nimports: [cloudify/types/types.yaml, " + strings.Join(imports, ", ") + "]\n"
	}
	writeFiles(t, dir, files)
	cmd := exec.Command(chaosbin.Path(t), append([]string{"blueprint", "lint"}, dirs...)...)
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the lint is under way: it has read 1 MB of the 16 MB of
	// blueprints (Linux counts the bytes a process reads in /proc/PID/io).
	for readBytes(t, cmd.Process.Pid) < 1<<20 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	hang := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
	defer hang.Stop()
	_ = cmd.Wait()
	t.Logf("exited %v after SIGINT", time.Since(start))
	if code := cmd.ProcessState.ExitCode(); code != commands.ExitCancelled {
		t.Fatalf("exit %d after SIGINT, want %d (cancelled); output:\n%.2000s", code, commands.ExitCancelled, out.String())
	}
	if n := strings.Count(out.String(), ": ok"); n >= len(dirs) {
		t.Fatalf("all %d blueprints were linted: SIGINT did not stop the lint", n)
	}
}

// readBytes returns the rchar count of a running process.
func readBytes(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		t.Fatalf("the lint ended before it was interrupted: %v", err)
	}
	var n int
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			n, _ = strconv.Atoi(v)
		}
	}
	return n
}
