package commands_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
)

func TestExitCodes(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	smoke := filepath.Join(filepath.Dir(file), "..", "..", "examples", "local-smoke")
	state := t.TempDir()
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"version prints the stamped version", []string{"version"}, 0, "chaosops ", ""},
		{"help lists the command groups", []string{"--help"}, 0, "local", ""},
		{"an unknown flag is a usage error", []string{"local", "install", "--nope"}, 2, "", "flag provided but not defined"},
		{"a missing argument is a usage error", []string{"local", "install", "-d", "x"}, 2, "", "needs one BLUEPRINT"},
		{"a malformed input is a usage error naming the flag", []string{"local", "--state-dir", state, "install", smoke, "-d", "x", "-i", "nokeyvalue"}, 2, "", "--inputs \"nokeyvalue\""},
		{"an unknown deployment fails with a hint", []string{"local", "--state-dir", state, "outputs", "-d", "ghost"}, 1, "", "deployment ghost: deployment not found"},
		{"flags may follow the blueprint argument", []string{"local", "--state-dir", state, "install", smoke, "-d", "ok", "-i", "greeting=x"}, 0, "", ""},
		{"blueprint check accepts the example", []string{"blueprint", "check", smoke}, 0, ": cloudify_dsl_1_4, 4 nodes", ""},
		{"blueprint check names the file and line of a problem", []string{"blueprint", "check", brokenBlueprint(t)}, 1, "", "blueprint.yaml:3"},
		{"a wrong input type names the input", []string{"local", "--state-dir", state, "install", smoke, "-d", "bad-name!"}, 1, "", "deployment name \"bad-name!\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errb, code := chaosbin.Run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errb)
			}
			if !strings.Contains(out, tc.stdout) || !strings.Contains(errb, tc.stderr) {
				t.Errorf("stdout %q (want %q), stderr %q (want %q)", out, tc.stdout, errb, tc.stderr)
			}
		})
	}
}

func brokenBlueprint(t *testing.T) string {
	dir := t.TempDir()
	path := filepath.Join(dir, "blueprint.yaml")
	if err := os.WriteFile(path, []byte("tosca_definitions_version: cloudify_dsl_1_4\nimports: [cloudify/types/types.yaml]\npolicies: {p: {}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
