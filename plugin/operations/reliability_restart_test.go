package operations_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/cloudify-chaos/chaosops/plugin/chaos"
	"github.com/cloudify-chaos/chaosops/plugin/cloudify/scriptrunner"
	"github.com/cloudify-chaos/chaosops/plugin/internal/cmd/reliability/trial"
	"github.com/cloudify-chaos/chaosops/plugin/internal/standin/chaosdaemon"
	"github.com/cloudify-chaos/chaosops/plugin/internal/testenv"
)

// ownControlPlane starts a control plane of this test's own with
// scripts/testenv.sh (the shared one must never be restarted), in
// $CHAOSOPS_REL_TESTENV_DIR (default /tmp/rel-testenv) on the ports of
// $CHAOSOPS_REL_TESTENV_PORTS ("apiserver,etcd,etcd-peer,daemon,webhook,
// metrics": the last three are the real Chaos Mesh controller's
// chaos-daemon stand-in, webhooks and metrics; default
// 27443,27379,27380,27767,27444,27080: below Linux's ephemeral range, so
// no outgoing connection can hold one), and stops it when t ends.
func ownControlPlane(t *testing.T) (dir string, cfg *rest.Config) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a second control plane")
	}
	dir = orDefault(os.Getenv("CHAOSOPS_REL_TESTENV_DIR"), "/tmp/rel-testenv")
	ports := strings.Split(orDefault(os.Getenv("CHAOSOPS_REL_TESTENV_PORTS"), "27443,27379,27380,27767,27444,27080"), ",")
	if len(ports) != 6 {
		t.Fatalf("CHAOSOPS_REL_TESTENV_PORTS needs six ports: apiserver,etcd,etcd-peer,daemon,webhook,metrics")
	}
	for _, p := range ports {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+p, time.Second); err == nil {
			c.Close()
			t.Fatalf("port %s is in use; set CHAOSOPS_REL_TESTENV_PORTS to six free ports", p)
		}
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "testenv.sh")
	env := append(os.Environ(), "CHAOSOPS_TESTENV_DIR="+dir, "CHAOSOPS_TESTENV_APISERVER_PORT="+ports[0],
		"CHAOSOPS_TESTENV_ETCD_PORT="+ports[1], "CHAOSOPS_TESTENV_ETCD_PEER_PORT="+ports[2],
		"CHAOSOPS_TESTENV_DAEMON_PORT="+ports[3], "CHAOSOPS_TESTENV_WEBHOOK_PORT="+ports[4], "CHAOSOPS_TESTENV_CHAOS_METRICS_PORT="+ports[5])
	testenvCmd := func(verb string) {
		cmd := exec.Command(script, verb)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("testenv.sh %s (%s): %v\n%s", verb, dir, err, out)
		}
	}
	t.Cleanup(func() { testenvCmd("stop") })
	testenvCmd("start")
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

// restartAPIServer kills the control plane's kube-apiserver (SIGKILL, as a
// crash or a node reboot) and starts it again with the same command line,
// as scripts/testenv.sh launched it; testenv.sh stop still finds it by its
// pid file. It returns when the new server answers /readyz.
func restartAPIServer(t *testing.T, dir string, cfg *rest.Config) time.Duration {
	t.Helper()
	start := time.Now()
	pidFile := filepath.Join(dir, "pids", "kube-apiserver.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatalf("kube-apiserver (pid %d): %v", pid, err)
	}
	args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || bytes.Contains(st, []byte(") Z ")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kube-apiserver (pid %d) did not exit after SIGKILL", pid)
		}
	}
	// The leader of a dying multi-threaded process is a zombie before its
	// other threads are gone and its sockets closed: wait until its port
	// can be bound, or the new server fails with "address already in use".
	addr := strings.TrimPrefix(cfg.Host, "https://")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			ln.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is still in use 10s after kube-apiserver (pid %d) was killed: %v", addr, pid, err)
		}
	}
	logf, err := os.OpenFile(filepath.Join(dir, "logs", "kube-apiserver.log"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("restart kube-apiserver: %v", err)
	}
	go func() { _ = cmd.Wait() }() // reap it when testenv.sh stop kills it
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").Do(t.Context()).Error(); err == nil {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			// testenv.sh stop removes the log with the state dir: keep its end.
			log, _ := os.ReadFile(filepath.Join(dir, "logs", "kube-apiserver.log"))
			lines := strings.Split(strings.TrimSpace(string(log)), "\n")
			t.Fatalf("the restarted kube-apiserver is not ready after 60s; the end of its log:\n%s", strings.Join(lines[max(0, len(lines)-20):], "\n"))
		}
	}
}

// TestTrialAPIServerRestartDuringRun kills and restarts the API server while a
// chaos run waits for injection, holds, or waits for recovery: the run's
// watch must be re-established, exactly one chaos object must ever exist,
// the verdict must be pass, and nothing may be left.
func TestTrialAPIServerRestartDuringRun(t *testing.T) {
	dir, cfg := ownControlPlane(t)
	ns, dyn := chaosNamespace(t, cfg, 1)
	// Every chaos-daemon call waits 2s: with an 8s hold it leaves room for
	// the restart in every phase.
	testenv.AnnotateNamespace(t, cfg, ns, chaosdaemon.DelayAnnotation, "2s")
	kubeconfig, err := os.ReadFile(filepath.Join(dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	moments := []string{"targets injected after"}
	if trial.Long() {
		moments = append(moments, "created (duration", "duration over", "targets injected after")
	}
	for i, moment := range moments {
		t.Run(fmt.Sprintf("restart once %q is logged", moment), func(t *testing.T) {
			start := time.Now()
			dep := fmt.Sprintf("rel-restart-%d", i)
			watch := newPhaseWatch(moment)
			reached := watch.lines[moment]
			tracker := trackUIDs(t, cfg, ns, chaos.LabelDeployment+"="+dep)
			restarted := make(chan time.Duration, 1)
			go func() {
				select {
				case <-reached:
					restarted <- restartAPIServer(t, dir, cfg)
				case <-t.Context().Done():
				}
			}()
			res, state := opRun{Op: "chaos_actions.run", Deployment: dep, OnLine: watch.onLine, Inputs: map[string]any{
				"kubeconfig": string(kubeconfig), "namespace": ns, "manifest": httpChaosManifest(ns, 8*time.Second),
				"recovery_timeout": "90s", "injection_timeout": "90s",
			}}.run(t, t.Context())
			var outage time.Duration
			select {
			case outage = <-restarted:
			case <-time.After(5 * time.Second):
				t.Fatalf("the API server was not restarted: %q never logged\n%s", moment, chaosLogs(res))
			}
			verdict, _ := state.Instance.RuntimeProperties["chaos_verdict"].(string)
			if res.Outcome != scriptrunner.Success || verdict != string(chaos.VerdictPass) {
				t.Errorf("outcome %s, verdict %q: %s\n%s", res.Outcome, verdict, res.Message, chaosLogs(res))
			}
			for _, want := range []string{"all targets recovered", ": deleted"} {
				if !strings.Contains(chaosLogs(res), want) {
					t.Errorf("the log lacks %q: the watch did not see it after the restart\n%s", want, chaosLogs(res))
				}
			}
			if n := tracker.seen(); n != 1 {
				t.Errorf("%d distinct chaos objects existed during the run, want exactly 1", n)
			}
			left := deploymentObjects(t, dyn, ns, dep)
			if left != 0 {
				t.Errorf("%d chaos objects left", left)
			}
			t.Logf("API server down and back in %s", outage.Round(time.Millisecond))
			trial.Record(t, trial.Outcome{Kind: "API server restarted during a run", Outcome: "verdict " + verdict, ObjectsLeft: left, Seconds: time.Since(start).Seconds()})
		})
	}
}
