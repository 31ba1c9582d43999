// Package testenv gives integration tests a real Kubernetes control plane:
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok with
// one simulated Ready node, plus the Chaos Mesh and ServiceMonitor CRDs and
// Chaos Mesh's own controller-manager with its webhooks and the chaos-daemon
// stand-in, as started by scripts/testenv.sh.
//
// One control plane is shared by every test package and every run. Require
// uses the cluster whose kubeconfig is $CHAOSOPS_TESTENV_DIR/kubeconfig
// (default /tmp/chaosops-testenv/kubeconfig) when its API server answers
// /readyz; otherwise it runs `scripts/testenv.sh start` once, under a file
// lock, so that test binaries which `go test ./...` runs in parallel wait for
// the same start instead of racing to start (and kill) each other's cluster.
// Nothing here stops the cluster, because no test binary knows whether
// another one still uses it; stop it with `scripts/testenv.sh stop`.
//
// The package never looks at $KUBECONFIG, so tests cannot reach a real
// cluster by accident. Tests stay isolated through Namespace, which gives
// each test its own namespace and deletes it afterwards.
package testenv

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// DefaultDir is the state dir of scripts/testenv.sh when
// CHAOSOPS_TESTENV_DIR is not set.
const DefaultDir = "/tmp/chaosops-testenv"

// probeTimeout bounds the /readyz request that decides whether a running
// control plane can be reused.
const probeTimeout = 5 * time.Second

// Env is a running control plane.
type Env struct {
	// Dir is the state dir holding pids, logs, certificates and the kubeconfig.
	Dir string
	// Kubeconfig is the path of the admin kubeconfig (system:masters, TLS verified).
	Kubeconfig string
	// Started is true when this process ran scripts/testenv.sh start.
	Started bool

	config *rest.Config
}

// Config returns a copy of the admin REST config, safe for the caller to modify.
func (e *Env) Config() *rest.Config { return rest.CopyConfig(e.config) }

var (
	requireMu  sync.Mutex
	requireEnv *Env
)

// Require returns the shared control plane, starting it with
// scripts/testenv.sh start when none answers. A cold machine first builds the
// binaries (minutes); later starts take a few seconds. The result is cached
// for the life of the process. Cancelling ctx interrupts a start in progress.
func Require(ctx context.Context) (*Env, error) {
	requireMu.Lock()
	defer requireMu.Unlock()
	if requireEnv != nil {
		return requireEnv, nil
	}
	env, err := require(ctx)
	if err != nil {
		return nil, err
	}
	requireEnv = env
	return env, nil
}

func require(ctx context.Context) (*Env, error) {
	dir := os.Getenv("CHAOSOPS_TESTENV_DIR")
	if dir == "" {
		dir = DefaultDir
	}
	env := &Env{Dir: dir, Kubeconfig: filepath.Join(dir, "kubeconfig")}

	// Parallel test binaries serialise here, on the lock that testenv.sh
	// start and stop take too (it lives beside the state dir because start
	// and stop remove the dir). The script is told that we hold it.
	unlock, err := lockFile(ctx, dir+".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()

	if cfg, err := probe(ctx, env.Kubeconfig); err == nil {
		env.config = cfg
		if err := checkRealChaosMesh(dir); err != nil {
			return nil, err
		}
		return env, nil
	}

	script, err := findScript()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, script, "start")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Env = append(os.Environ(), "CHAOSOPS_TESTENV_DIR="+dir, "CHAOSOPS_TESTENV_LOCKED=1")
	// The script's progress and, on failure, the tail of the failing
	// component's log (all on stderr) belong in the test output; its stdout
	// only repeats the exports of `testenv.sh env`.
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s start: %w (logs in %s/logs)", script, err, dir)
	}
	env.Started = true

	cfg, err := probe(ctx, env.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("control plane started by %s does not answer: %w", script, err)
	}
	env.config = cfg
	return env, nil
}

// checkRealChaosMesh checks that the running control plane in dir runs the
// real Chaos Mesh controller. One started by an older checkout may run the controller
// stand-in (or, without the file, predate the choice): that is an error,
// since restarting a control plane that other test binaries may be using
// is for a person to decide.
func checkRealChaosMesh(dir string) error {
	mode := "standin"
	b, err := os.ReadFile(filepath.Join(dir, "chaos-mode"))
	switch {
	case err == nil:
		mode = strings.TrimSpace(string(b))
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("testenv: %w", err)
	}
	if mode != "real" {
		return fmt.Errorf("the control plane in %s runs the Chaos Mesh controller stand-in %q, which is gone; restart it: scripts/testenv.sh start", dir, mode)
	}
	return nil
}

// probe loads kubeconfig and checks that its API server answers /readyz.
func probe(ctx context.Context, kubeconfig string) (*rest.Config, error) {
	if _, err := os.Stat(kubeconfig); err != nil {
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.UserAgent = "chaosops-testenv"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error(); err != nil {
		return nil, fmt.Errorf("%s /readyz: %w", cfg.Host, err)
	}
	return cfg, nil
}

// findScript walks up from the working directory (a package dir under go
// test) to the repository root holding scripts/testenv.sh.
func findScript() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		script := filepath.Join(dir, "scripts", "testenv.sh")
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(script); err == nil {
				return script, nil
			}
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("scripts/testenv.sh not found in %s or any parent", wd)
		}
	}
}

// lockPoll is how often lockFile retries a lock held by another process.
const lockPoll = 100 * time.Millisecond

// lockFile takes an exclusive flock on path, creating it if needed, and waits
// for it until ctx is done.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("testenv lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("testenv lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("testenv lock %s: waiting for another test binary to start the control plane: %w", path, context.Cause(ctx))
		case <-time.After(lockPoll):
		}
	}
}

// Main is a TestMain for packages whose tests need the control plane: it
// makes sure the control plane runs before any test does (so a first-time
// build is not charged to the -timeout of the tests), then runs them and
// exits. With -short it runs the tests without starting anything; Config and
// Kubeconfig then skip the tests that need a cluster.
func Main(m *testing.M) {
	flag.Parse()
	if !testing.Short() {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		_, err := Require(ctx)
		stop()
		if err != nil {
			fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// Config returns an admin REST config for the shared control plane, starting
// it if needed. It skips t in -short mode and fails t when no control plane
// can be had.
func Config(t testing.TB) *rest.Config {
	t.Helper()
	return envFor(t).Config()
}

// Kubeconfig returns the path of the shared control plane's admin kubeconfig,
// for tests that run kubectl or other binaries. It skips t in -short mode.
func Kubeconfig(t testing.TB) string {
	t.Helper()
	return envFor(t).Kubeconfig
}

// Kubectl returns the path of the kubectl built with the control plane (same
// version as the API server, so no skew warnings): $CHAOSOPS_TESTENV_DIR/bin
// links to the binaries that scripts/testenv.sh started. It skips t in -short
// mode.
func Kubectl(t testing.TB) string {
	t.Helper()
	path := filepath.Join(envFor(t).Dir, "bin", "kubectl")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("testenv: kubectl of the control plane: %v", err)
	}
	return path
}

func envFor(t testing.TB) *Env {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a Kubernetes control plane (scripts/testenv.sh); skipped in -short mode")
	}
	env, err := Require(t.Context())
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return env
}
