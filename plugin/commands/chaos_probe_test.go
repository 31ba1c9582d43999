package commands_test

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/commands"
	"github.com/cloudify-chaos/chaosops/plugin/internal/apprig"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/report"
)

// TestChaosExitCodesOfProbeVerdicts runs the CLI against an app whose
// faults are real (apprig: the real controller, the chaos-daemon stand-in,
// a fault proxy) and checks the exit code of each verdict that needs
// probes, and that each run leaves its report.
func TestChaosExitCodesOfProbeVerdicts(t *testing.T) {
	r := apprig.New(t, apprig.Options{})
	kc := testenv.Kubeconfig(t)
	probe := []string{"--probe-url", r.ProxyURL + "/api/orders", "--probe-rps", "25", "--probe-window", "2s", "--settle", "8s"}
	base := []string{"--kubeconfig", kc, "--safety-lever-file", "", "-n", r.Namespace}
	http := func(args ...string) []string {
		return append(append(append([]string{"chaos", "http", "-l", "app=demo", "--abort"}, base...), probe...), args...)
	}
	check := func(t *testing.T, dir, out string, code int, verdict chaos.Verdict) {
		t.Helper()
		if want := commands.VerdictExitCodes[verdict]; code != want || !strings.Contains(out, "verdict "+string(verdict)) {
			t.Fatalf("exit %d (want %d for %s), stdout %q", code, want, verdict, out)
		}
		j, err := report.Load(dir)
		if err != nil {
			t.Fatalf("report: %v", err)
		}
		if j.Verdict != verdict || j.Cleanup == nil {
			t.Errorf("journal verdict %s, cleanup %+v; want %s and the cleanup outcome", j.Verdict, j.Cleanup, verdict)
		}
		if n := r.ChaosObjects(t); n != 0 {
			t.Errorf("%d chaos objects left", n)
		}
	}
	cases := []struct {
		name    string
		args    []string
		verdict chaos.Verdict
	}{
		{"the fault shows: pass", http("--path", "/api/*", "--duration", "4s"), chaos.VerdictPass},
		{"an expected deviation never shows: no_effect", http("--path", "/elsewhere/*", "--duration", "3s"), chaos.VerdictNoEffect},
		{"a must-hold probe breaks: slo_breach", http("--path", "/api/*", "--duration", "5m", "--probe-expect", "must_hold"), chaos.VerdictSLOBreach},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			out, errb, code := chaosbin.Run(t, append(tc.args, "--report-dir", dir)...)
			if t.Failed() {
				t.Log(errb)
			}
			check(t, dir, out+"\nstderr: "+errb, code, tc.verdict)
		})
	}

	t.Run("a fault that outlasts the run: recovered_but_degraded", func(t *testing.T) {
		// Once the run's fault is in, another experiment (not chaosops')
		// aborts the same path and stays: the after-phase probe never
		// passes again.
		dir := filepath.Join(t.TempDir(), "run")
		gvr := api.GroupVersion.WithResource("httpchaos")
		other := &unstructured.Unstructured{Object: map[string]any{"apiVersion": api.GroupVersion.String(), "kind": "HTTPChaos",
			"metadata": map[string]any{"name": "outlasting", "namespace": r.Namespace},
			"spec": map[string]any{"mode": "one", "selector": map[string]any{"labelSelectors": map[string]any{"app": "demo"}},
				"target": "Request", "port": int64(8080), "path": "/api/*", "abort": true, "duration": "5m"}}}
		t.Cleanup(func() {
			ctx := context.WithoutCancel(t.Context())
			_ = r.Dynamic.Resource(gvr).Namespace(r.Namespace).Delete(ctx, "outlasting", metav1.DeleteOptions{})
			for deadline := time.Now().Add(time.Minute); r.ChaosObjects(t) > 0 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			}
		})
		out, code := runUntil(t, http("--path", "/api/*", "--duration", "6s", "--report-dir", dir), "targets injected", func(*exec.Cmd) {
			if _, err := r.Dynamic.Resource(gvr).Namespace(r.Namespace).Create(t.Context(), other, metav1.CreateOptions{}); err != nil {
				t.Error(err)
			}
		})
		if err := r.Dynamic.Resource(gvr).Namespace(r.Namespace).Delete(t.Context(), "outlasting", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(time.Minute); r.ChaosObjects(t) > 0; time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the other experiment is not gone after 1m")
			}
		}
		check(t, dir, out, code, chaos.VerdictRecoveredButDegraded)
	})

	t.Run("SIGTERM during the hold: cancelled, object gone", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "run")
		out, code := runUntil(t, http("--path", "/api/*", "--duration", "5m", "--report-dir", dir), "targets injected", func(cmd *exec.Cmd) {
			_ = cmd.Process.Signal(syscall.SIGTERM)
		})
		check(t, dir, out, code, chaos.VerdictCancelled)
	})
}

// runUntil runs chaosops with args, calls at once when its stderr first
// holds marker (within a minute), and returns its stdout and stderr and
// exit code when it ends.
func runUntil(t *testing.T, args []string, marker string, at func(*exec.Cmd)) (string, int) {
	t.Helper()
	cmd := exec.Command(chaosbin.Path(t), args...)
	var stdout, errb lockedBuffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	seen := make(chan struct{})
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			_, _ = errb.Write([]byte(sc.Text() + "\n"))
			if !once && strings.Contains(sc.Text(), marker) {
				once = true
				close(seen)
			}
		}
	}()
	select {
	case <-seen:
		at(cmd)
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-scanned
		_ = cmd.Wait()
		t.Fatalf("no %q within 1m:\n%s", marker, errb.String())
	}
	<-scanned
	_ = cmd.Wait()
	return stdout.String() + "\nstderr:\n" + errb.String(), cmd.ProcessState.ExitCode()
}
