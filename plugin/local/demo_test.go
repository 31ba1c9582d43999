package local_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/internal/apprig"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/report"
)

// demoTimeout bounds the whole story with its short fault.
const demoTimeout = 8 * time.Minute

// TestDemo runs `make demo`'s script end to end with a 15 s fault, on the
// shared test control plane (not run in parallel with TestBundle: both
// install kube-prometheus' fixture into the namespace monitoring), and
// checks the verdict and the shape of the recorded traffic: near 100%
// success before the fault, near 0% on the aborted path during it, near
// 100% after.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo needs the control plane, Prometheus and the app's Python packages")
	}
	testenv.Config(t) // the shared control plane runs
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), demoTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot(), "scripts", "demo.sh"))
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(),
		"DEMO_DURATION=15s", "DEMO_DIR="+dir, "DEMO_PORT_BASE=28080", "DEMO_PROMETHEUS_PORT=29090",
		"CHAOSOPS_BIN="+chaosbin.Path(t),
	)
	cluster := os.Getenv("CHAOSOPS_TESTENV_DIR")
	if cluster == "" {
		cluster = testenv.DefaultDir
	}
	cmd.Env = append(cmd.Env, "DEMO_CLUSTER_DIR="+cluster) // running: used, left running
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		t.Fatalf("demo.sh: %v\nkey lines:\n%s\nlast lines:\n%s", err, keyLines(out.String()), tail(out.String(), 25))
	}
	for _, want := range []string{"verdict: pass", "chart:", "demo: ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q\n%s", want, tail(out.String(), 40))
		}
	}
	j, err := report.Load(filepath.Join(dir, "report"))
	if err != nil {
		t.Fatal(err)
	}
	if j.Verdict != chaos.VerdictPass {
		t.Fatalf("verdict %s: %s", j.Verdict, j.Reason)
	}
	apprig.CheckTrafficShape(t, j, "http")
	var promDeviated bool
	for _, s := range j.Samples {
		if s.Probe == "app-request-rate" && s.Phase == "during" && !s.OK {
			promDeviated = true
		}
	}
	if !promDeviated {
		t.Error("Prometheus never saw the app's request rate drop")
	}
}

// keyLines picks the demo's steps, errors and verdicts out of its output.
func keyLines(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		for _, k := range []string{"==>", "ERROR", "error", "WARN", "verdict"} {
			if strings.Contains(l, k) {
				b.WriteString(l + "\n")
				break
			}
		}
	}
	return b.String()
}
