package commands_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"github.com/cloudify-chaos/chaosops/plugin/internal/tfbin"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudify-chaos/chaosops/plugin/internal/chaosbin"
)

const cliSecret = "cli-secret-31337-value"

// tfModule is a test module of the terraform package.
func tfModule(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "terraform", "testdata", name)
}

type cliRun struct {
	code           int
	stdout, stderr string
}

func chaosops(t *testing.T, env []string, args ...string) cliRun {
	t.Helper()
	cmd := exec.Command(chaosbin.Path(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	t.Logf("chaosops %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
	return cliRun{code, out.String(), errb.String()}
}

func TestTFCommand(t *testing.T) {
	bin := tfbin.Path(t)
	workdir := filepath.Join(t.TempDir(), "w")
	env := []string{"TF_VAR_secret=" + cliSecret, "CHAOSOPS_TERRAFORM=" + bin}
	common := []string{"--dir", tfModule("basic"), "--workdir", workdir, "--var", "name=cli", "--var", "replicas=1", "--sensitive-var", "secret"}
	var applied map[string]any

	t.Run("apply prints the resources and outputs as JSON and writes the sensitive output to a 0600 file", func(t *testing.T) {
		r := chaosops(t, env, append([]string{"tf", "apply"}, common...)...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if err := json.Unmarshal([]byte(r.stdout), &applied); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
		}
		token := filepath.Join(workdir, "outputs", "token")
		if d := cmp.Diff(map[string]any{"token": token}, applied["sensitive_outputs"]); d != "" {
			t.Errorf("sensitive outputs (-want +got):\n%s", d)
		}
		if got := applied["outputs"].(map[string]any)["greeting"]; got != "hello cli" {
			t.Errorf("greeting %v", got)
		}
		if fi, err := os.Stat(token); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("token file: %v %v", fi, err)
		}
		if !strings.Contains(r.stderr, "Apply complete! Resources: 3 added, 0 changed, 0 destroyed.") {
			t.Errorf("stderr lacks the progress lines")
		}
		if strings.Contains(r.stdout+r.stderr, cliSecret) {
			t.Errorf("the sensitive value was printed")
		}
	})

	t.Run("a new process reads the same outputs from the working directory alone", func(t *testing.T) {
		r := chaosops(t, nil, "tf", "output", "--workdir", workdir)
		var got map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &got); r.code != 0 || err != nil {
			t.Fatalf("exit %d, %v", r.code, err)
		}
		if d := cmp.Diff(applied["outputs"], got["outputs"]); d != "" {
			t.Errorf("outputs (-apply +output):\n%s", d)
		}
	})

	t.Run("plan of the unchanged module says no changes", func(t *testing.T) {
		r := chaosops(t, env, append([]string{"tf", "plan"}, common...)...)
		if r.code != 0 || strings.TrimSpace(r.stdout) != "no changes" {
			t.Errorf("exit %d, stdout %q", r.code, r.stdout)
		}
	})

	t.Run("destroy lists what it destroyed", func(t *testing.T) {
		r := chaosops(t, env, append([]string{"tf", "destroy"}, common...)...)
		var got map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &got); r.code != 0 || err != nil {
			t.Fatalf("exit %d, %v", r.code, err)
		}
		if n := len(got["changes"].(map[string]any)["destroy"].([]any)); n != 3 {
			t.Errorf("destroyed %d resources, want 3", n)
		}
		if _, err := os.Stat(filepath.Join(workdir, "outputs", "token")); !os.IsNotExist(err) {
			t.Errorf("the token file outlived its output: %v", err)
		}
	})
}

func TestTFCommandErrors(t *testing.T) {
	workdir := filepath.Join(t.TempDir(), "w")
	cases := []struct {
		name   string
		env    []string
		args   []string
		code   int
		stderr string
	}{
		{"the workdir is required", nil, []string{"tf", "plan", "--dir", tfModule("basic")}, 2, "tf plan needs --workdir DIR"},
		{"a variable without = is a usage error", nil, []string{"tf", "plan", "--workdir", workdir, "--var", "replicas"}, 2, `--var "replicas": not key=value`},
		{"a sensitive variable must come from the environment", nil, []string{"tf", "plan", "--workdir", workdir, "--sensitive-var", "secret"}, 2, "--sensitive-var secret: TF_VAR_secret is not set in the environment"},
		{"backend settings need a backend", nil, []string{"tf", "plan", "--workdir", workdir, "--backend-config", "key=x"}, 2, "--backend-config needs --backend TYPE"},
		{"a missing terraform names the flag and the fix", nil, []string{"tf", "plan", "--dir", tfModule("basic"), "--workdir", workdir, "--terraform", "/opt/none/terraform"}, 1, `--terraform: terraform not found at "/opt/none/terraform"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := chaosops(t, tc.env, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tc.code, tc.stderr)
			}
		})
	}
}

func TestTFCommandInterrupt(t *testing.T) {
	bin := tfbin.Path(t)
	cmd := exec.Command(chaosbin.Path(t), "tf", "apply", "--dir", tfModule("slow"), "--workdir", filepath.Join(t.TempDir(), "w"), "--var", "seconds=30", "--terraform", bin)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	started := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if !signalled && strings.Contains(sc.Text(), "(local-exec): started") {
				signalled = true
				close(started)
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case <-started:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("the slow provisioner did not start")
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-done
	err = cmd.Wait()
	t.Logf("Ctrl-C to exit: %s\n%s", time.Since(start).Round(time.Millisecond), all.String())
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 143 {
		t.Errorf("exit %v; want 143 (cancelled)", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %s to stop after Ctrl-C", time.Since(start))
	}
	if !strings.Contains(all.String(), "stopped after an interrupt") {
		t.Errorf("stderr does not say terraform was interrupted")
	}
}
