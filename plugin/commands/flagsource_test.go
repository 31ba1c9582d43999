package commands_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/commands"
)

// TestFileFlagsAreUsageErrors: a flag that names a file the user gives
// (--probes-file) is a usage error naming the flag, and the file when its
// content is wrong; both are refused before anything connects.
func TestFileFlagsAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	spec, bad := filepath.Join(dir, "chaos.yaml"), filepath.Join(dir, "probes.yaml")
	write := func(path, text string) {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(spec, "apiVersion: chaos-mesh.org/v1alpha1\nkind: HTTPChaos\nspec: {mode: one, selector: {labelSelectors: {app: demo}}, target: Request, port: 8080, abort: true}\n")
	write(bad, "- {kind: http}\n")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"a missing probes file", []string{"--probes-file", filepath.Join(dir, "none.yaml")}, "chaosops: --probes-file: open " + filepath.Join(dir, "none.yaml")},
		{"a probes file that does not parse", []string{"--probes-file", bad}, "chaosops: --probes-file " + bad + ": probes[0].name: not set"},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is a usage error naming the flag", func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"chaosops", "chaos", "run", "-f", spec, "--kubeconfig", filepath.Join(dir, "none"), "--safety-lever-file", ""}, tc.args...)
			code := commands.Main(context.Background(), args, &out, &errOut)
			if code != commands.ExitUsage || !strings.HasPrefix(errOut.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut.String(), commands.ExitUsage, tc.want)
			}
		})
	}
}
