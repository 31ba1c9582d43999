package commands_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/controllerstandin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
	"github.com/cloudify-chaos/chaosops/plugin/report"
)

func demoApp(t *testing.T) string {
	t.Helper()
	cfg := testenv.Config(t)
	ns := testenv.Namespace(t, cfg)
	testenv.DemoApp(t, cfg, ns, 1)
	return ns
}

func TestChaosExitCodesFollowTheVerdict(t *testing.T) {
	t.Setenv(report.RootEnv, t.TempDir()) // the runs' reports stay out of the source tree
	kc := testenv.Kubeconfig(t)
	ns := demoApp(t)
	spec := filepath.Join(t.TempDir(), "failing.yaml")
	if err := os.WriteFile(spec, []byte(fmt.Sprintf(`apiVersion: chaos-mesh.org/v1alpha1
kind: HTTPChaos
metadata:
  namespace: %s
  annotations:
    %s: "true"
spec:
  mode: one
  selector: {labelSelectors: {app: demo}}
  target: Request
  port: 8080
  abort: true
  duration: 5s
`, ns, controllerstandin.FailInjectionAnnotation)), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--kubeconfig", kc, "--safety-lever-file", ""}
	cases := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"a passing run exits 0", append([]string{"chaos", "http", "-n", ns, "-l", "app=demo", "--abort", "--duration", "2s"}, base...), 0, "verdict pass"},
		{"a refused run exits 3 (precheck_failed)", append([]string{"chaos", "http", "-n", ns, "-l", "app=nothing", "--abort", "--duration", "2s"}, base...), 3, "verdict precheck_failed"},
		{"a failed injection exits 4 (injection_failed)", append([]string{"chaos", "run", "-f", spec, "--injection-timeout", "2s"}, base...), 4, "verdict injection_failed"},
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
}
