package commands_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
	"github.com/cloudify-chaos/chaosops/plugin/commands"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/chaosdaemon"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/report"
)

// demoApp makes a namespace with a Running one-pod app=demo Deployment,
// opted in to Chaos Mesh (chaos-mesh.org/inject=enabled: the controller
// filters namespaces, as the bundle installs it).
func demoApp(t *testing.T) string {
	t.Helper()
	cfg := testenv.Config(t)
	ns := testenv.Namespace(t, cfg)
	testenv.DemoApp(t, cfg, ns, 1)
	testenv.AnnotateNamespace(t, testenv.Config(t), ns, api.InjectAnnotation, "enabled")
	return ns
}

func TestChaosExitCodesFollowTheVerdict(t *testing.T) {
	t.Setenv(report.RootEnv, t.TempDir()) // the runs' reports stay out of the source tree
	kc := testenv.Kubeconfig(t)
	ns := demoApp(t)
	// In this namespace every chaos-daemon call is refused, as when
	// nothing listens at the daemon's address: a permanent failure.
	unreachable := demoApp(t)
	testenv.AnnotateNamespace(t, testenv.Config(t), unreachable, chaosdaemon.UnreachableAnnotation, "true")
	spec := httpChaosFile(t, unreachable, "  abort: true\n  duration: 5s\n")
	base := []string{"--kubeconfig", kc, "--safety-lever-file", ""}
	cases := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"a passing run exits 0", append([]string{"chaos", "http", "-n", ns, "-l", "app=demo", "--abort", "--duration", "2s"}, base...), 0, "verdict pass"},
		{"a refused run exits 3 (precheck_failed)", append([]string{"chaos", "http", "-n", ns, "-l", "app=nothing", "--abort", "--duration", "2s"}, base...), 3, "verdict precheck_failed"},
		// The controller keeps its finalizer while it retries the refused
		// daemon: --force-cleanup makes the cleanup end either way.
		{"a failed injection exits 4 (injection_failed)", append([]string{"chaos", "run", "-f", spec, "--force-cleanup", "--delete-timeout", "3s"}, base...), 4, "verdict injection_failed"},
		{"a failed injection whose object stays exits 8: cleanup incomplete wins", append([]string{"chaos", "run", "-f", spec, "--delete-timeout", "3s"}, base...), commands.ExitCleanupIncomplete, "verdict injection_failed"},
		{"bad input is a usage error naming the field", append([]string{"chaos", "http", "-n", ns, "-l", "app=demo", "--duration", "2s"}, base...), 2, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errb, code := chaosbin.Run(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Fatalf("exit %d (want %d), stdout %q (want %q)\nstderr: %s", code, tc.code, out, tc.out, errb)
			}
		})
	}
	// The next step the last case named.
	if out, errb, code := chaosbin.Run(t, "chaos", "reap", "--kubeconfig", kc, "-n", unreachable, "--force-cleanup", "--delete-timeout", "3s"); code != 0 {
		t.Errorf("reap --force-cleanup: exit %d\n%s\n%s", code, out, errb)
	}
}

// TestChaosCleanupIncompleteExitCode: a SIGTERM while the object's
// finalizer holds (the chaos-daemon refuses to recover, so the controller
// keeps it) ends with exit 8 (not the clean cancel's 143), naming the
// finalizer and the next step; reap without --force-cleanup exits 8 too,
// and with it removes the object.
func TestChaosCleanupIncompleteExitCode(t *testing.T) {
	t.Setenv(report.RootEnv, t.TempDir())
	kc := testenv.Kubeconfig(t)
	ns := demoApp(t)
	testenv.AnnotateNamespace(t, testenv.Config(t), ns, chaosdaemon.FailRecoveryAnnotation, "true")
	t.Cleanup(func() { testenv.AnnotateNamespace(t, testenv.Config(t), ns, chaosdaemon.FailRecoveryAnnotation, "") })
	spec := filepath.Join(t.TempDir(), "sticky.yaml")
	if err := os.WriteFile(spec, []byte(fmt.Sprintf(`apiVersion: chaos-mesh.org/v1alpha1
kind: HTTPChaos
metadata:
  namespace: %s
spec: {mode: one, selector: {labelSelectors: {app: demo}}, target: Request, port: 8080, abort: true, duration: 5m}
`, ns)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd, stdout, stderr := startUntilInjected(t, nil, "chaos", "run", "-f", spec, "--kubeconfig", kc, "--safety-lever-file", "", "--delete-timeout", "3s")
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	out := stdout.String() + stderr.String()
	if code := cmd.ProcessState.ExitCode(); code != commands.ExitCleanupIncomplete {
		t.Fatalf("exit %d, want %d (cleanup incomplete)\n%s", code, commands.ExitCleanupIncomplete, out)
	}
	for _, want := range []string{"verdict cancelled", "cleanup incomplete", "chaos-mesh/records", "chaosops chaos reap -n " + ns, "--force-cleanup"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	base := []string{"--kubeconfig", kc, "-n", ns, "--delete-timeout", "3s"}
	if _, errb, code := chaosbin.Run(t, append([]string{"chaos", "reap"}, base...)...); code != commands.ExitCleanupIncomplete {
		t.Errorf("reap without --force-cleanup: exit %d, want %d\n%s", code, commands.ExitCleanupIncomplete, errb)
	}
	if o, errb, code := chaosbin.Run(t, append([]string{"chaos", "reap", "--force-cleanup"}, base...)...); code != 0 || !strings.Contains(o, `"outcome": "forced"`) {
		t.Errorf("reap --force-cleanup: exit %d\n%s\n%s", code, o, errb)
	}
}

// httpChaosFile writes the manifest of an HTTPChaos on the requests to port
// 8080 of one app=demo pod in ns, with the spec lines in action added,
// and returns its path.
func httpChaosFile(t *testing.T, ns, action string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "httpchaos.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(`apiVersion: chaos-mesh.org/v1alpha1
kind: HTTPChaos
metadata:
  namespace: %s
spec:
  mode: one
  selector: {labelSelectors: {app: demo}}
  target: Request
  port: 8080
`, ns)+action), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startUntilInjected starts chaosops with args (and env added to this
// process's environment) and returns once it logs that the targets are
// injected; the caller waits for it.
func startUntilInjected(t *testing.T, env []string, args ...string) (cmd *exec.Cmd, stdout, stderr *lockedBuffer) {
	t.Helper()
	cmd = exec.Command(chaosbin.Path(t), args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, stderr = &lockedBuffer{}, &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); !strings.Contains(stderr.String(), "targets injected"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no injection within 1m:\n%s", stderr.String())
		}
	}
	return cmd, stdout, stderr
}

// lockedBuffer is a buffer a child process writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
