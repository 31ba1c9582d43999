package commands_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// TestBadInputRefusedBeforeConnecting runs the real binary with a
// kubeconfig where nothing answers: every bad local input exits 2 naming
// its flag, never says "connection refused", and writes no report.
func TestBadInputRefusedBeforeConnecting(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	garbage := filepath.Join(dir, "garbage.tgz")
	for path, body := range map[string]string{kc: testenv.RefusedKubeconfig, garbage: "not a gzip archive"} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	httpRun := []string{"chaos", "http", "-l", "app=demo", "--abort", "--safety-lever-file", ""}
	tests := []struct {
		name string
		args []string
		want string // names the flag (or argument) to fix
	}{
		{"a negative duration", append(httpRun, "--duration", "-5s"), "duration"},
		{"a duration over --max-duration", append(httpRun, "--duration", "1000h"), "raise --max-duration"},
		{"an unknown mode", append(httpRun, "--mode", "sometimes"), "mode"},
		{"a percentage that is no number", append(httpRun, "--mode", "fixed-percent", "--value", "lots"), "value"},
		{"a namespace that is no DNS label", append(httpRun, "-n", "Bad_NS"), "namespace"},
		{"a probe URL that is not http", append(httpRun, "--probe-url", "ftp://example.com"), "--probe-url"},
		{"a probe method that is none", append(httpRun, "--probe-url", "http://demo/", "--probe-method", "FETCH"), "--probe-method"},
		{"a Grafana URL that is not http", append(httpRun, "--grafana-url", "ftp://example.com"), "--grafana-url"},
		{"a token ttl under 10m", []string{"chaos", "dashboard-token", "--ttl", "5m"}, "ttl"},
		{"a token role that is none", []string{"chaos", "dashboard-token", "--role", "admin"}, "role"},
		{"a selection namespace that is no DNS label", []string{"chaos", "status", "-n", "Bad_NS"}, "namespace"},
		{"a missing chart", []string{"helm", "install", "demo", filepath.Join(dir, "missing")}, "chart"},
		{"a garbage .tgz", []string{"helm", "install", "demo", garbage}, "not a valid chart"},
		{"an http:// chart URL", []string{"helm", "install", "demo", "http://charts.example.invalid/demo-0.1.0.tgz"}, "https"},
		{"a chart URL without --sha256", []string{"helm", "install", "demo", "https://charts.example.invalid/demo-0.1.0.tgz"}, "--sha256"},
		{"a bad release name", []string{"helm", "status", "Bad_Release!"}, "release"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cwd := t.TempDir()
			reports := filepath.Join(t.TempDir(), "reports")
			cmd := exec.Command(chaosbin.Path(t), append(tt.args, "--kubeconfig", kc)...)
			cmd.Dir = cwd
			cmd.Env = append(os.Environ(), "CHAOSOPS_REPORT_ROOT="+reports, "HOME="+cwd, "XDG_CONFIG_HOME="+filepath.Join(cwd, ".config"))
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			var ee *exec.ExitError
			code := 0
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != 2 || !strings.Contains(out.String(), tt.want) || strings.Contains(out.String(), "connection refused") {
				t.Errorf("chaosops %s: exit %d, output:\n%s\nwant exit 2 naming %q, before connecting", strings.Join(tt.args, " "), code, out.String(), tt.want)
			}
			for _, d := range []string{reports, filepath.Join(cwd, ".chaosops")} {
				if _, err := os.Stat(d); err == nil {
					t.Errorf("a refused run wrote %s", d)
				}
			}
		})
	}
}
