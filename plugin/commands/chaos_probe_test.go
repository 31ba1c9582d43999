package commands_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/controllerstandin"
	"github.com/cloudify-chaos/chaosops/plugin/commands"
	"github.com/cloudify-chaos/chaosops/plugin/internal/apprig"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/report"
)

// TestChaosExitCodesOfProbeVerdicts runs the CLI against an app whose
// faults are real (apprig) and checks the exit code of each verdict that
// needs probes or a degraded recovery, and that each run leaves its report.
func TestChaosExitCodesOfProbeVerdicts(t *testing.T) {
	r := apprig.New(t, apprig.Options{})
	kc := testenv.Kubeconfig(t)
	sticky := filepath.Join(t.TempDir(), "sticky.yaml")
	if err := os.WriteFile(sticky, []byte(fmt.Sprintf(`apiVersion: chaos-mesh.org/v1alpha1
kind: HTTPChaos
metadata:
  namespace: %s
  annotations: {%s: "true"}
spec: {mode: one, selector: {labelSelectors: {app: demo}}, target: Request, port: 8080, path: "/none/*", abort: true, duration: 2s}
`, r.Namespace, controllerstandin.StickyFinalizerAnnotation)), 0o600); err != nil {
		t.Fatal(err)
	}
	probe := []string{"--probe-url", r.ProxyURL + "/api/orders", "--probe-rps", "25", "--probe-window", "2s", "--settle", "8s"}
	base := []string{"--kubeconfig", kc, "--safety-lever-file", "", "-n", r.Namespace}
	http := func(args ...string) []string {
		return append(append(append([]string{"chaos", "http", "-l", "app=demo", "--abort"}, base...), probe...), args...)
	}
	cases := []struct {
		name    string
		args    []string
		verdict chaos.Verdict
	}{
		{"the fault shows: pass", http("--path", "/api/*", "--duration", "4s"), chaos.VerdictPass},
		{"an expected deviation never shows: no_effect", http("--path", "/elsewhere/*", "--duration", "3s"), chaos.VerdictNoEffect},
		{"a must-hold probe breaks: slo_breach", http("--path", "/api/*", "--duration", "5m", "--probe-expect", "must_hold"), chaos.VerdictSLOBreach},
		{"a forced finalizer: recovered_but_degraded", append(append([]string{"chaos", "run", "-f", sticky, "--force-cleanup"}, base...), "--delete-timeout", "3s"), chaos.VerdictRecoveredButDegraded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			out, errb, code := chaosbin.Run(t, append(tc.args, "--report-dir", dir)...)
			want := commands.VerdictExitCodes[tc.verdict]
			if code != want || !strings.Contains(out, "verdict "+string(tc.verdict)) {
				t.Fatalf("exit %d (want %d for %s), stdout %q\nstderr: %s", code, want, tc.verdict, out, errb)
			}
			j, err := report.Load(dir)
			if err != nil {
				t.Fatalf("report: %v", err)
			}
			if j.Verdict != tc.verdict {
				t.Errorf("journal verdict %s, want %s", j.Verdict, tc.verdict)
			}
			if n := r.ChaosObjects(t); n != 0 {
				t.Errorf("%d chaos objects left", n)
			}
		})
	}

	t.Run("SIGTERM during the hold: cancelled, object gone", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "run")
		cmd := exec.Command(chaosbin.Path(t), http("--path", "/api/*", "--duration", "5m", "--report-dir", dir)...)
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		injected := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(stderr)
			once := false
			for sc.Scan() {
				if !once && strings.Contains(sc.Text(), "targets injected") {
					once = true
					close(injected)
				}
			}
		}()
		select {
		case <-injected:
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			t.Fatal("no injection within 1m")
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		err = cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		if want := commands.VerdictExitCodes[chaos.VerdictCancelled]; code != want {
			t.Fatalf("exit %d (want %d), err %v, stdout %q", code, want, err, stdout.String())
		}
		if n := r.ChaosObjects(t); n != 0 {
			t.Errorf("%d chaos objects left after the cancel", n)
		}
		if j, err := report.Load(dir); err != nil || j.Verdict != chaos.VerdictCancelled {
			t.Errorf("report after cancel: %v (err %v)", j, err)
		}
	})
}
