package testenv_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestScriptStopFreesThePorts starts a private control plane with
// scripts/testenv.sh, stops it and starts it again at once on the same
// ports: stop must return only when the processes are gone and their ports
// free (once an immediate start failed with "port ... is already in use").
func TestScriptStopFreesThePorts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane; skipped in -short mode")
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "..", "scripts", "testenv.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "plane")
	names := []string{"APISERVER_PORT", "ETCD_PORT", "ETCD_PEER_PORT", "DAEMON_PORT", "WEBHOOK_PORT", "CHAOS_METRICS_PORT"}
	ports := freePorts(t, len(names))
	env := append(os.Environ(), "CHAOSOPS_TESTENV_DIR="+dir)
	for i, n := range names {
		env = append(env, fmt.Sprintf("CHAOSOPS_TESTENV_%s=%d", n, ports[i]))
	}
	run := func(t *testing.T, cmd string) {
		t.Helper()
		c := exec.CommandContext(t.Context(), script, cmd)
		c.Env = env
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("testenv.sh %s: %v\n%s", cmd, err, out)
		}
	}
	t.Cleanup(func() {
		c := exec.Command(script, "stop")
		c.Env = env
		_ = c.Run()
	})
	steps := []struct {
		name string
		cmd  string
		// free says whether every port must be free after the step.
		free bool
	}{
		{"the first start comes up", "start", false},
		{"stop returns with every port free", "stop", true},
		{"a start right after the stop comes up on the same ports", "start", false},
		{"the second stop frees the ports too", "stop", true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			run(t, s.cmd)
			if !s.free {
				return
			}
			for i, p := range ports {
				l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
				if err != nil {
					t.Errorf("%s %d after stop: %v", names[i], p, err)
					continue
				}
				l.Close()
			}
		})
	}
}

// freePorts picks n ports below Linux's ephemeral range (see
// scripts/testenv/README.md) that nothing listens on.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	for p := 23100 + os.Getpid()%500; p < 32000 && len(out) < n; p++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			if !strings.Contains(err.Error(), "address already in use") {
				t.Fatal(err)
			}
			continue
		}
		l.Close()
		out = append(out, p)
	}
	if len(out) < n {
		t.Fatalf("found only %d free ports", len(out))
	}
	return out
}
