package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/chaosdaemon"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--kubeconfig is required"},
		{[]string{"--kubeconfig", "k", "extra"}, `unexpected arguments ["extra"]`},
		{[]string{"--ready"}, "flag provided but not defined: -ready"},
		{[]string{"--kubeconfig", "/nonexistent/kubeconfig"}, "--kubeconfig /nonexistent/kubeconfig:"},
	} {
		err := run(t.Context(), tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

func TestRun(t *testing.T) {
	cfg := testenv.Config(t)
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ns := testenv.Namespace(t, cfg)
	ready := filepath.Join(t.TempDir(), "daemon.ready")

	t.Run("a bad listen address names the flag's field and the fix", func(t *testing.T) {
		err := run(t.Context(), []string{"--kubeconfig", testenv.Kubeconfig(t), "--listen", "localhost:1", "--namespace", ns})
		if err == nil || !strings.Contains(err.Error(), `listen: host "localhost" is not an IP`) {
			t.Errorf("run = %v", err)
		}
	})

	t.Run("it publishes, writes its ready file, and undoes both when cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"--kubeconfig", testenv.Kubeconfig(t), "--listen", "127.0.0.1:0",
				"--namespace", ns, "--node", "kwok-node-0", "--ready-file", ready})
		}()
		var content []byte
		deadline := time.Now().Add(30 * time.Second)
		for {
			if content, err = os.ReadFile(ready); err == nil {
				break
			}
			select {
			case err := <-done:
				t.Fatalf("run ended before it was ready: %v", err)
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatal("no ready file after 30s")
			}
		}
		lines := strings.Split(strings.TrimSpace(string(content)), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "pid ") || !strings.HasPrefix(lines[1], "listen 127.0.0.1:") {
			t.Errorf("ready file %q, want pid and listen lines", content)
		}
		slices := kube.DiscoveryV1().EndpointSlices(ns)
		if _, err := slices.Get(t.Context(), chaosdaemon.SliceName("kwok-node-0"), metav1.GetOptions{}); err != nil {
			t.Errorf("EndpointSlice: %v", err)
		}

		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run after cancel = %v, want nil", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("run did not return 30s after cancel")
		}
		if _, err := os.Stat(ready); !os.IsNotExist(err) {
			t.Errorf("ready file after exit: %v", err)
		}
		if _, err := slices.Get(t.Context(), chaosdaemon.SliceName("kwok-node-0"), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("EndpointSlice after exit: %v, want NotFound", err)
		}
	})
}
