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
		{"an unknown flag is a usage error", []string{"local", "install", "--nope"}, 2, "", "unknown flag --nope"},
		{"a missing argument is a usage error", []string{"local", "install", "-d", "x"}, 2, "", "needs one BLUEPRINT"},
		{"a malformed input is a usage error naming the flag", []string{"local", "--state-dir", state, "install", smoke, "-d", "x", "-i", "nokeyvalue"}, 2, "", "--inputs \"nokeyvalue\""},
		{"an unknown deployment fails with a hint", []string{"local", "--state-dir", state, "outputs", "-d", "ghost"}, 1, "", "deployment ghost: deployment not found"},
		{"flags may follow the blueprint argument", []string{"local", "--state-dir", state, "install", smoke, "-d", "ok", "-i", "greeting=x"}, 0, "", ""},
		{"blueprint check accepts the example", []string{"blueprint", "check", smoke}, 0, ": cloudify_dsl_1_4, 4 nodes", ""},
		{"blueprint check names the file and line of a problem", []string{"blueprint", "check", brokenBlueprint(t)}, 1, "", "blueprint.yaml:3"},
		{"a missing required flag is one line naming it", []string{"chaos", "http", "-n", "default"}, 2, "", "chaosops: missing required flag --selector (-l); see chaosops chaos http --help\n"},
		{"an unknown command names the nearest", []string{"local", "instal"}, 2, "", `unknown command "instal" for chaosops local (did you mean "install"?)`},
		{"an unknown top-level command names the nearest", []string{"lod"}, 2, "", `unknown command "lod" for chaosops (did you mean "load"?)`},
		{"an unknown flag names the nearest", []string{"load", "--evry", "1s", "http://127.0.0.1:1/"}, 2, "", "unknown flag --evry (did you mean --every?)"},
		{"help of an unknown topic names the nearest command", []string{"help", "lod"}, 2, "", `unknown command "lod" for chaosops (did you mean "load"?)`},
		{"--help of an unknown command names the nearest", []string{"local", "shedule", "--help"}, 2, "", `unknown command "shedule" for chaosops local (did you mean "schedule"?); see chaosops local --help`},
		{"a zero --every of load is a usage error, no panic", []string{"load", "http://127.0.0.1:1/", "--every", "0s"}, 2, "", "--every 0s: not a positive duration"},
		{"an undeclared input is a usage error", []string{"local", "--state-dir", state, "install", smoke, "-d", "x", "-i", "nope=1"}, 2, "", `input "nope" is not declared`},
		{"a failed download of apply -f is a failure, not a usage error",
			[]string{"apply", "--kubeconfig", "/nonexistent", "-f", "https://127.0.0.1:1/x.yaml", "--sha256", strings.Repeat("0", 64)}, 1, "", "connection refused"},
		{"a wrong input type names the input", []string{"local", "--state-dir", state, "install", smoke, "-d", "bad-name!"}, 2, "", "deployment name \"bad-name!\""},
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
