package commands_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/helmrepo"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

func TestHelmCommands(t *testing.T) {
	kc := testenv.Kubeconfig(t)
	ns := testenv.Namespace(t, testenv.Config(t))
	chart := filepath.Join("..", "helm", "testdata", "demo")
	values := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(values, []byte("greeting: from-file\nreplicas: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	repoURL, caPEM := helmrepo.Serve(t, chart)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		args []string
		code int
		// want are substrings of stdout+stderr; status, when set, is
		// checked against the JSON printed on stdout.
		want   []string
		status map[string]any
	}{
		{"install with a values file, --set and --wait prints the deployed release",
			[]string{"helm", "install", "demo", chart, "-n", ns, "--values", values, "--set", "greeting=from-set", "--wait", "--timeout", "60s"}, 0,
			[]string{"helm release " + ns + "/demo: installing chart chaosops-demo 0.1.0"},
			map[string]any{"revision": 1.0, "status": "deployed", "changed": true, "chart": "chaosops-demo"}},
		{"install again changes nothing", []string{"helm", "install", "demo", chart, "-n", ns, "-f", values, "--set", "greeting=from-set"}, 0,
			[]string{"up to date at revision 1"}, map[string]any{"revision": 1.0, "changed": false}},
		{"status prints the release and its objects", []string{"helm", "status", "demo", "-n", ns}, 0,
			[]string{`"Deployment/` + ns + `/demo-web"`}, map[string]any{"status": "deployed", "app_version": "1.0.0"}},
		{"a chart that does not exist is a usage error naming chart", []string{"helm", "install", "demo", "./no-chart", "-n", ns}, 2,
			[]string{"chart: ./no-chart: no such chart"}, nil},
		{"a bad --set is a usage error naming set", []string{"helm", "install", "demo", chart, "-n", ns, "--set", "novalue"}, 2,
			[]string{`set: "novalue"`}, nil},
		{"a --version the chart does not have is a usage error naming version", []string{"helm", "install", "demo", chart, "-n", ns, "--version", "9.9.9"}, 2,
			[]string{"version: the chart chaosops-demo is version 0.1.0, not 9.9.9"}, nil},
		{"install without CHART is a usage error", []string{"helm", "install", "demo", "-n", ns}, 2, []string{"give RELEASE and CHART"}, nil},
		{"install from --repo with --ca-file verifies the archive against the index", []string{"helm", "install", "fromrepo", "chaosops-demo",
			"-n", ns, "--repo", repoURL, "--version", "0.1.0", "--ca-file", caFile}, 0,
			[]string{"helm release " + ns + "/fromrepo: installing chart chaosops-demo 0.1.0"},
			map[string]any{"revision": 1.0, "status": "deployed", "chart": "chaosops-demo"}},
		{"--repo without --version is a usage error naming version", []string{"helm", "install", "fromrepo", "chaosops-demo", "-n", ns, "--repo", repoURL}, 2,
			[]string{"version: is required with --repo"}, nil},
		{"an http --repo is a usage error naming --repo", []string{"helm", "install", "fromrepo", "chaosops-demo", "-n", ns,
			"--repo", "http://charts.example.invalid", "--version", "0.1.0"}, 2, []string{"--repo: http://charts.example.invalid is not an https:// URL"}, nil},
		{"a repository whose CA is not given is refused naming its certificate", []string{"helm", "install", "fromrepo2", "chaosops-demo",
			"-n", ns, "--repo", repoURL, "--version", "0.1.0"}, 2, []string{"chart_repo: " + repoURL + "/index.yaml: tls: failed to verify certificate"}, nil},
		{"uninstall removes the release installed from the repository", []string{"helm", "uninstall", "fromrepo", "-n", ns}, 0,
			[]string{"helm release " + ns + "/fromrepo: uninstalled"}, map[string]any{"status": "uninstalled"}},
		{"uninstall removes the release", []string{"helm", "uninstall", "demo", "-n", ns}, 0,
			[]string{"helm release " + ns + "/demo: uninstalled"}, map[string]any{"status": "uninstalled", "changed": true}},
		{"status of an uninstalled release fails", []string{"helm", "status", "demo", "-n", ns}, 1, []string{"release not found"}, nil},
		{"uninstall of an absent release succeeds", []string{"helm", "uninstall", "demo", "-n", ns}, 0, []string{"nothing to uninstall"},
			map[string]any{"changed": false}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			stdout, stderr, code := chaosbin.Run(t, append(s.args, "--kubeconfig", kc)...)
			if code != s.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, s.code, stdout, stderr)
			}
			for _, w := range s.want {
				if !strings.Contains(stdout+stderr, w) {
					t.Errorf("output lacks %q:\n%s%s", w, stdout, stderr)
				}
			}
			if s.status == nil {
				return
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("stdout is not the status JSON: %v\n%s", err, stdout)
			}
			for k, v := range s.status {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}
