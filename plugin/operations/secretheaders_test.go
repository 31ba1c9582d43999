package operations_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// TestRunHTTPChaosKeepsHeadersPrivate: an HTTPChaos replacing the
// Authorization header and patching an API key runs, and neither value
// reaches the event log, a runtime property (chaos_last_run included), a
// ctx call or a report file; the report files are 0600 in a 0700 folder.
func TestRunHTTPChaosKeepsHeadersPrivate(t *testing.T) {
	const bearer, apiKey = "canary-op-bearer-4e90b1", "canary-op-apikey-d27c35"
	kubeconfig, err := os.ReadFile(testenv.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := demoNamespace(t)
	reports := filepath.Join(t.TempDir(), "run")
	res, state := runChaosOp(t, t.Context(), "chaos_actions.run_http_chaos", map[string]any{
		"kubeconfig": string(kubeconfig), "namespace": ns, "selector": "app=demo", "duration": "2s", "port": int64(8080),
		"replace":    map[string]any{"headers": map[string]any{"Authorization": "Bearer " + bearer}},
		"patch":      map[string]any{"headers": []any{[]any{"X-Api-Key", apiKey}}},
		"report_dir": reports,
	}, scriptrunner.Orphan)
	if res.Outcome != scriptrunner.Success {
		t.Fatalf("outcome %s: %s\n%s", res.Outcome, res.Message, chaosLogs(res))
	}
	kept := chaosLogs(res) + res.Message + toJSON(state.Instance.RuntimeProperties) + toJSON(res.Calls)
	var files []string
	err = filepath.WalkDir(reports, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, path)
			data, _ := os.ReadFile(path)
			kept += string(data)
			if fi, _ := d.Info(); fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", path, fi.Mode().Perm())
			}
		}
		return err
	})
	if err != nil || len(files) != 3 {
		t.Fatalf("report files %v, %v; want journal, report and chart", files, err)
	}
	if fi, _ := os.Stat(reports); fi.Mode().Perm() != 0o700 {
		t.Errorf("%s: mode %v, want 0700", reports, fi.Mode().Perm())
	}
	for _, c := range []string{bearer, apiKey} {
		if strings.Contains(kept, c) {
			t.Errorf("%q is in the event log, the runtime properties, a ctx call or a report file", c)
		}
	}
}
